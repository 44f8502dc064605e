"""Apps with low rate limits, for the tests of the limits themselves."""

import secrets

from tests.support.settings import app_settings
from webapp import create_app


def limited_app(settings, **overrides):
    """An app with low sign-in limits and a limiter key prefix of its own.

    It shares the suite's SECRET_KEY, so secrets the tests seal it can read.
    """
    limits = {
        "SECRET_KEY": settings["SECRET_KEY"],
        "LOGIN_RATE_LIMIT": "5 per minute",
        "LOGIN_EMAIL_RATE_LIMIT": "3 per minute",
        "HOOK_RATE_LIMIT": "3 per minute",
        "RATELIMIT_KEY_PREFIX": f"aikey-test-limits-{secrets.token_hex(6)}",
    }
    return create_app(app_settings(settings["SQLALCHEMY_DATABASE_URI"], **{**limits, **overrides}))
