"""Checking a sign-in attempt: password, lockout, deactivation and expiry, with audit rows.

A real account and an unknown email walk the same steps (claim a check, hash a password,
write an audit row), so their answers and timing tell an attacker nothing.
"""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from webapp.common.clock import as_utc, utcnow
from webapp.extensions import db
from webapp.models import User
from webapp.services.accounts.lockout import (
    Claim,
    claim_unknown_check,
    claim_user_check,
    clear_failures,
    lockout_minutes,
)
from webapp.services.audit.events import record_event

INVALID_CREDENTIALS = "Invalid email or password."
DEACTIVATED = "This account has been deactivated. Ask an AIPHAS administrator to reactivate it."
TEMPORARY_EXPIRED = (
    "Your temporary password has expired. Ask an AIPHAS administrator to reset it again."
)

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


def failure_message(claim: Claim) -> str:
    """The answer to a failed check: "locked" once the claim set the lock, else the generic one."""
    return locked_message(lockout_minutes()) if claim.locks else INVALID_CREDENTIALS


def attempt_login(email: str, password: str) -> LoginResult:
    """Check credentials, apply the lockout policy and write the audit row."""
    user = find_user_by_email(email)
    if user is None:
        return _unknown_email(email, password)
    claim = claim_user_check(user)
    if not claim.allowed:
        record_event("login.failure", actor=user, details={"reason": "locked"})
        return LoginResult(None, locked_message(lockout_minutes()))
    if not user.check_password(password):
        return _register_failure(user, claim)
    clear_failures(user)
    if not user.active:
        record_event("login.failure", actor=user, details={"reason": "deactivated"})
        return LoginResult(None, DEACTIVATED)
    if temporary_password_expired(user):
        record_event("login.failure", actor=user, details={"reason": "temporary password expired"})
        return LoginResult(None, TEMPORARY_EXPIRED)
    user.last_login_at = utcnow()
    record_event("login.success", actor=user)
    return LoginResult(user)


def temporary_password_expired(user: User) -> bool:
    """True for a temporary password older than TEMP_PASSWORD_HOURS."""
    if not user.must_change_password:
        return False
    set_at = as_utc(user.password_set_at or user.created_at)
    limit = timedelta(hours=current_app.config["TEMP_PASSWORD_HOURS"])
    return set_at is not None and utcnow() - set_at > limit


def _unknown_email(email: str, password: str) -> LoginResult:
    claim = claim_unknown_check(email)
    if not claim.allowed:
        record_event("login.failure", actor_email=email[:254], details={"reason": "locked"})
        return LoginResult(None, locked_message(lockout_minutes()))
    User(password_hash=_DUMMY_HASH).check_password(password)
    record_event("login.failure", actor_email=email[:254], details={"reason": "unknown email"})
    return LoginResult(None, failure_message(claim))


def _register_failure(user: User, claim: Claim) -> LoginResult:
    record_event("login.failure", actor=user, details={"reason": "wrong password"}, commit=False)
    if claim.locks:
        record_event("account.locked", actor=user, target_user_id=user.id, commit=False)
    db.session.commit()
    return LoginResult(None, failure_message(claim))
