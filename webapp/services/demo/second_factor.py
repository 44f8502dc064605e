"""A demo-only stand-in for an authenticator app: the current code of a local account.

It exists so `make run` stays usable without a phone; it is refused whenever the app runs in
production (AIKEY_ENV=production), where only the person's own authenticator knows the code.
"""

import pyotp
from flask import current_app
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import User
from webapp.services.accounts.changes import normalize_email
from webapp.services.accounts.totp import unseal


class DemoCodeRefused(Exception):
    """The code cannot be shown: production, unknown account or nothing enrolled."""


def demo_code(email: str) -> str:
    """The current TOTP code of the account (enrolled or being set up), outside production."""
    if current_app.config.get("AIKEY_PRODUCTION"):
        raise DemoCodeRefused("refused: this is a production deployment")
    user = db.session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))
    if user is None or user.totp_secret is None:
        raise DemoCodeRefused(
            f"{email} has no authenticator yet: sign in and open the set-up page first"
        )
    return pyotp.TOTP(unseal(user.totp_secret)).now()
