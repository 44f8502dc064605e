"""Live cost rows: PostgreSQL NOTIFY (or in-process events on SQLite) pushed over WebSockets."""

from flask import Blueprint

bp = Blueprint("live", __name__)


def init_app(app):
    """Register the WebSocket route and give the app its own hub."""
    from webapp.live import views  # noqa: F401  (registers routes)
    from webapp.live.state import LiveState

    app.extensions["live"] = LiveState(app)
    app.register_blueprint(bp)
