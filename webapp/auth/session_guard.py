"""Per-request session rules: identity loading, idle expiry and forced password change."""

import time

from flask import current_app, flash, jsonify, redirect, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy.orm import joinedload

from webapp.extensions import db, login_manager
from webapp.models import Role, User
from webapp.services.audit.events import record_event
from webapp.web.http import wants_json

# Endpoints a user who must change their password may still reach.
_WITH_PERMISSIONS = joinedload(User.role).joinedload(Role.permissions)
PASSWORD_CHANGE_ALLOWED = {"auth.change_password", "auth.logout", "static", "core.healthz"}


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Resolve "id:token"; a rotated token or a deactivated account ends the session."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit():
        return None
    # Role and permissions in the same statement: every guarded request asks for them.
    user = db.session.get(User, int(user_id), options=[_WITH_PERMISSIONS])
    if user is None or not user.active or user.session_token != token:
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized():
    """JSON callers get 401; people are sent to sign in and brought back afterwards."""
    if wants_json():
        return jsonify(error="authentication required"), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def expire_idle_session():
    """Sign out a user whose last request is older than the idle timeout."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = int(time.time())
    last_seen = session.get("last_seen", now)
    if now - last_seen > current_app.config["IDLE_TIMEOUT"].total_seconds():
        logout_user()
        session.clear()
        flash("Your session expired after 30 minutes without activity. Please sign in again.")
        return None
    session["last_seen"] = now
    return None


def require_password_change():
    """Send a user with a temporary password to the change-password page first."""
    if not current_user.is_authenticated or not current_user.must_change_password:
        return None
    if request.endpoint in PASSWORD_CHANGE_ALLOWED:
        return None
    if wants_json():
        # Every refused request is audited, this one included.
        record_event("access.denied", details={"reason": "password change required"})
        return jsonify(error="password change required"), 403
    return redirect(url_for("auth.change_password"))


def init_app(app):
    """Register the per-request rules in the order they must run."""
    app.before_request(expire_idle_session)
    app.before_request(require_password_change)
