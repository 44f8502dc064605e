"""Machine hooks: Cloud Scheduler and Pub/Sub push, guarded by Google-signed OIDC tokens."""

import contextlib

from flask import Blueprint, jsonify
from sqlalchemy.exc import DBAPIError

bp = Blueprint("hooks", __name__, url_prefix="/hooks")


@bp.errorhandler(DBAPIError)
def database_unavailable(error: DBAPIError):
    """503 so that Pub/Sub and Scheduler retry once the database is back."""
    from webapp.extensions import db

    with contextlib.suppress(DBAPIError):
        db.session.rollback()
    return jsonify(error="database unavailable", status=503), 503


def init_app(app):
    """Register the hooks without CSRF: they carry no cookies, only bearer tokens."""
    from webapp.auth.rate_limits import limit_blueprint
    from webapp.extensions import csrf
    from webapp.hooks import pubsub, scheduler  # noqa: F401  (registers routes)
    from webapp.hooks.pull import pubsub_cli

    csrf.exempt(bp)
    limit_blueprint(app, bp, "HOOK_RATE_LIMIT")
    app.register_blueprint(bp)
    app.cli.add_command(pubsub_cli)
