"""One-time recovery codes for the second factor, stored as hashes only."""

import hashlib
import secrets

from sqlalchemy import delete, func, select, update

from webapp.common.clock import utcnow
from webapp.extensions import db
from webapp.models import RecoveryCode, User

RECOVERY_CODE_COUNT = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def normalize(code: str) -> str:
    """Codes are compared without case, spaces or dashes."""
    return "".join(code.split()).replace("-", "").lower()


def _digest(code: str) -> str:
    # 50 random bits per code and one use each: a fast hash is enough, no salt needed.
    return hashlib.sha256(normalize(code).encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def replace_recovery_codes(user: User, count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Drop the user's codes and store `count` new ones; the plain codes are returned once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_code() for _ in range(count)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_digest(code)) for code in codes)
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """True once per code: it is marked used in the same UPDATE that finds it."""
    result = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _digest(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def remaining_recovery_codes(user: User) -> int:
    """How many unused recovery codes the user has left."""
    return db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )
