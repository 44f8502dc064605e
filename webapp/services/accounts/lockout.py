"""Failed sign-ins counted atomically in the database, so parallel guesses cannot race the lock.

Each password (or code) check first claims a slot with one UPDATE ... RETURNING: the claim that
reaches the threshold also sets the lock, so at most LOCKOUT_THRESHOLD checks run per window
however many requests arrive at once. Emails without an account are counted the same way in
`unknown_login`, so their answers cannot tell an attacker which accounts exist.
"""

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import case, or_, update

from webapp.common.clock import utcnow
from webapp.database import insert_if_missing
from webapp.extensions import db
from webapp.models import UnknownLogin, User


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a check: refused while locked, else whether it set the lock."""

    allowed: bool
    locks: bool = False


def lockout_minutes() -> int:
    """How long a lockout lasts, in whole minutes."""
    return int(current_app.config["LOCKOUT_DURATION"].total_seconds() // 60)


def _claim(model, key_column, key) -> Claim:
    now = utcnow()
    threshold = current_app.config["LOCKOUT_THRESHOLD"]
    expired = model.locked_until.is_not(None) & (model.locked_until <= now)
    count = case((expired, 1), else_=model.failed_login_count + 1)
    stmt = (
        update(model)
        .where(key_column == key, or_(model.locked_until.is_(None), model.locked_until <= now))
        .values(
            failed_login_count=count,
            locked_until=case(
                (count >= threshold, now + current_app.config["LOCKOUT_DURATION"]),
                else_=None,
            ),
        )
        .returning(model.failed_login_count)
        .execution_options(synchronize_session=False)
    )
    claimed = db.session.execute(stmt).scalar()
    # Committed before the slow password check, so the row lock is held for microseconds.
    db.session.commit()
    if claimed is None:
        return Claim(allowed=False)
    return Claim(allowed=True, locks=claimed >= threshold)


def claim_user_check(user: User) -> Claim:
    """Reserve one credential check for an account."""
    # The commit inside expires `user`, so it reloads the claimed counters when next read.
    return _claim(User, User.id, user.id)


def claim_unknown_check(email: str) -> Claim:
    """Reserve one check for an email that has no account, counted like a real one."""
    key = email.strip().lower()[:254]
    db.session.execute(insert_if_missing(UnknownLogin.__table__, {"email": key}))
    return _claim(UnknownLogin, UnknownLogin.email, key)


def clear_failures(user: User) -> None:
    """A successful check: forget earlier failures and lift the lock the claim may have set."""
    user.failed_login_count = 0
    user.locked_until = None
