"""Sign-in, sign-out, password change and the guards every blueprint uses."""

from flask import Blueprint

bp = Blueprint("auth", __name__)


def init_app(app):
    """Register the blueprint and the per-request session rules."""
    from webapp.auth import (  # noqa: F401  (registers routes)
        account_sessions,
        audit_context,
        mfa_views,
        rate_limits,
        session_guard,
        views,
    )

    audit_context.init_app(app)
    session_guard.init_app(app)
    app.register_blueprint(bp)
    rate_limits.init_app(app)
