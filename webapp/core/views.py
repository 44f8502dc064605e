"""The front door and the health probes."""

from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user
from sqlalchemy import text

from webapp.auth.decorators import public
from webapp.auth.views import landing_url
from webapp.extensions import cache, db

bp = Blueprint("core", __name__)


@bp.route("/")
@public
def index():
    """Send people to their landing page, or to sign in."""
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    return redirect(url_for("auth.login"))


def _database_status() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any driver error means "down" to a readiness probe
        db.session.rollback()
        return f"error: {type(exc).__name__}"
    finally:
        db.session.remove()  # nothing of the probe's stays in the session


def _cache_status() -> str:
    try:
        cache.set("ready-probe", "ok", timeout=5)
        return "ok" if cache.get("ready-probe") == "ok" else "error: read back failed"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


@bp.route("/health")
@public
def health():
    """Liveness: the process answers. Touches no database, cache or storage."""
    return jsonify(status="ok")


@bp.route("/ready")
@public
def ready():
    """Readiness: 503 when the database is unreachable; the cache's state is reported."""
    database, cache_state = _database_status(), _cache_status()
    healthy = database == "ok"
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": database,
        "cache": cache_state,
    }
    return jsonify(body), 200 if healthy else 503
