"""The second factor in tests: codes an authenticator app would show, and enrolled users."""

import re
import time

import pyotp

from webapp.common.clock import utcnow
from webapp.extensions import db
from webapp.models import User
from webapp.services.accounts import totp

SECRET_ELEMENT = re.compile(r'id="totp-secret"[^>]*>\s*([A-Z2-7]+)\s*<')


def secret_on_page(html: str) -> str:
    """The secret shown for manual entry on the enrolment page."""
    match = SECRET_ELEMENT.search(html)
    assert match, "the enrolment page shows no element with id totp-secret"
    return match.group(1)


def stored_secret(user: User) -> str:
    """The user's TOTP secret, decrypted with the app's key."""
    fresh = db.session.get(User, user.id, populate_existing=True)
    return totp.unseal(fresh.totp_secret)


def fresh_code(user: User, secret: str | None = None) -> str:
    """A code the app will accept: its time step is later than the last one the user used.

    The app accepts one step either side of now, so a second sign-in within 30 seconds uses
    the next step's code; a third waits for the clock.
    """
    secret = secret or stored_secret(user)
    fresh = db.session.get(User, user.id, populate_existing=True)
    step = totp.current_step()
    last = fresh.totp_last_step
    if last is not None and last >= step:
        step = last + 1
        while step > totp.current_step() + totp.DRIFT_STEPS:
            time.sleep(0.5)
    return pyotp.TOTP(secret).at(step * totp.STEP_SECONDS)


def enrol(user: User) -> str:
    """Turn the second factor on for `user` directly; returns the plain secret."""
    secret = pyotp.random_base32()
    user.totp_secret = totp.seal(secret)
    user.totp_enabled_at = utcnow()
    db.session.commit()
    return secret
