"""Checking a sign-in attempt: password, lockout and deactivation, with audit rows."""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from webapp.common.clock import utcnow
from webapp.extensions import db
from webapp.models import User
from webapp.services.audit.events import record_event

INVALID_CREDENTIALS = "Invalid email or password."
DEACTIVATED = "This account has been deactivated. Ask an AIPHAS administrator to reactivate it."

# Checked against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


@dataclass
class LoginResult:
    """The outcome of one sign-in attempt."""

    user: User | None
    error: str | None = None


def locked_message(minutes: int) -> str:
    """What a locked-out user is told."""
    return (
        f"Too many failed sign-ins: this account is locked for {minutes} minutes. "
        "Try again later or ask an administrator to unlock it."
    )


def find_user_by_email(email: str) -> User | None:
    """Case-insensitive lookup of a user by email."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def attempt_login(email: str, password: str) -> LoginResult:
    """Check credentials, apply the lockout policy and write the audit row."""
    user = find_user_by_email(email)
    if user is None:
        User(password_hash=_DUMMY_HASH).check_password(password)
        record_event("login.failure", actor_email=email[:254], details={"reason": "unknown email"})
        return LoginResult(None, INVALID_CREDENTIALS)
    lockout_minutes = int(current_app.config["LOCKOUT_DURATION"].total_seconds() // 60)
    if user.is_locked():
        record_event("login.failure", actor=user, details={"reason": "locked"})
        return LoginResult(None, locked_message(lockout_minutes))
    if not user.check_password(password):
        return _register_failure(user, lockout_minutes)
    if not user.active:
        record_event("login.failure", actor=user, details={"reason": "deactivated"})
        return LoginResult(None, DEACTIVATED)
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    record_event("login.success", actor=user)
    return LoginResult(user)


def _register_failure(user: User, lockout_minutes: int) -> LoginResult:
    user.failed_login_count = (user.failed_login_count or 0) + 1
    if user.failed_login_count >= current_app.config["LOCKOUT_THRESHOLD"]:
        user.failed_login_count = 0
        user.locked_until = utcnow() + timedelta(minutes=lockout_minutes)
        record_event(
            "login.failure", actor=user, details={"reason": "wrong password"}, commit=False
        )
        record_event("account.locked", actor=user, target_user_id=user.id)
        return LoginResult(None, locked_message(lockout_minutes))
    record_event("login.failure", actor=user, details={"reason": "wrong password"})
    return LoginResult(None, INVALID_CREDENTIALS)
