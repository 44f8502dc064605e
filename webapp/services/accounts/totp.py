"""The TOTP second factor (RFC 6238): enrolment, codes that work once, and the QR code.

The secret is stored Fernet-encrypted with a key derived from SECRET_KEY, so a database dump
alone does not yield it. A code is accepted only for a time step later than the last one
used, checked and moved forward in one UPDATE, so a replayed code fails even under a race.
"""

import base64
import hmac
import io
import time

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import or_, update

from webapp.common.clock import utcnow
from webapp.extensions import db
from webapp.models import User
from webapp.services.accounts.recovery_codes import replace_recovery_codes
from webapp.services.audit.events import record_event

ISSUER = "aiKey"
STEP_SECONDS = 30
# Codes of the step before and after the current one are accepted, for clock drift.
DRIFT_STEPS = 1


def _fernet() -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"aikey totp secret v1"
    ).derive(current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str) -> str:
    """Encrypt a TOTP secret for storage."""
    return _fernet().encrypt(secret.encode()).decode()


def unseal(token: str) -> str:
    """Decrypt a stored TOTP secret."""
    return _fernet().decrypt(token.encode()).decode()


def _stored_secret(user: User) -> str | None:
    if user.totp_secret is None:
        return None
    try:
        return unseal(user.totp_secret)
    except InvalidToken:
        # Sealed under another SECRET_KEY: no code can match until an AIPHAS resets it.
        current_app.logger.error("TOTP secret of user %s cannot be decrypted", user.id)
        return None


def pending_secret(user: User) -> str:
    """The secret being enrolled: kept across reloads of the page until it is confirmed."""
    if user.has_second_factor:
        raise ValueError("already enrolled: an AIPHAS reset comes first")
    if _stored_secret(user) is None:
        user.totp_secret = seal(pyotp.random_base32())
        user.totp_last_step = None
        db.session.commit()
    return unseal(user.totp_secret)


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(data: str) -> str:
    """The QR code of `data` as an inline SVG element, drawn here (no external service)."""
    buffer = io.BytesIO()
    segno.make(data, error="m").save(
        buffer, kind="svg", scale=5, xmldecl=False, svgns=True, nl=False, title="QR code"
    )
    return buffer.getvalue().decode()


def current_step(now: float | None = None) -> int:
    """The RFC 6238 time step of `now` (seconds since the epoch)."""
    return int((now if now is not None else time.time()) // STEP_SECONDS)


def _matching_step(secret: str, code: str) -> int | None:
    totp = pyotp.TOTP(secret)
    now = current_step()
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def use_code(user: User, code: str) -> bool:
    """True once for a valid code: its time step is recorded so it cannot be used again."""
    secret = _stored_secret(user)
    step = _matching_step(secret, code) if secret else None
    if step is None:
        return False
    result = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .where(or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(user)
    return result.rowcount == 1


def confirm_enrolment(user: User, code: str) -> list[str] | None:
    """Turn the second factor on when `code` matches; returns the new recovery codes."""
    if user.has_second_factor or not use_code(user, code):
        return None
    user.totp_enabled_at = utcnow()
    codes = replace_recovery_codes(user)
    record_event("mfa.enrolled", target_user_id=user.id, commit=False)
    db.session.commit()
    return codes


def clear_second_factor(user: User) -> None:
    """Forget the secret, its last step and every recovery code (caller audits and commits)."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    replace_recovery_codes(user, count=0)


def reset_second_factor(user: User, actor: User | None = None) -> None:
    """AIPHAS reset: the user enrols again at the next sign-in, and every session of theirs ends."""
    from webapp.services.accounts.changes import AccountError
    from webapp.services.accounts.sessions import end_sessions

    if actor is not None and user.id == actor.id:
        raise AccountError("You cannot reset your own second factor; ask another AIPHAS.")
    if user.totp_secret is None:
        raise AccountError("This account has no second factor to reset.")
    had_factor = user.has_second_factor
    clear_second_factor(user)
    end_sessions(user, "mfa_reset")
    record_event("user.mfa_reset", target_user_id=user.id, details={"was_enrolled": had_factor})
