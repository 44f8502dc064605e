"""One-time recovery codes for the second factor, stored as salted hashes only."""

import hashlib
import hmac
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


def _digest(code: str, salt: str | None = None) -> str:
    # About 50 random bits per code: salted per code (ASVS 2.6.2) so a dump cannot be
    # matched against one precomputed table; "salt$sha256".
    salt = salt or secrets.token_hex(8)
    digest = hashlib.sha256(f"{salt}:{normalize(code)}".encode()).hexdigest()
    return f"{salt}${digest}"


def _matches(code: str, stored: str) -> bool:
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(_digest(code, salt), stored)


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
    """True once per code: marked used by an UPDATE that only an unused row can pass."""
    unused = db.session.execute(
        select(RecoveryCode.id, RecoveryCode.code_hash).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    match = next((row.id for row in unused if _matches(code, row.code_hash)), None)
    if match is None:
        return False
    result = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == match, RecoveryCode.used_at.is_(None))
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
