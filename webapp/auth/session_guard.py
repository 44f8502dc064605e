"""Per-request session rules: the server-side session behind the cookie, and forced password change.

The signed cookie holds only a random session id (Flask-Login's `_user_id` slot carries it); every
request resolves it against `user_session` and refuses it once ended, idle or too old.
"""

from flask import flash, g, jsonify, redirect, request, session, url_for
from flask_login import current_user, login_user

from webapp.auth.second_factor import require_second_factor
from webapp.extensions import login_manager
from webapp.models import User, UserSession
from webapp.services.accounts import sessions
from webapp.services.accounts.mfa_policy import DOCTOR_MFA_KEY, note_doctor_mfa_setting
from webapp.services.audit.events import record_event
from webapp.web.http import client_address, wants_json

# Endpoints a user who must change their password may still reach.
PASSWORD_CHANGE_ALLOWED = {
    "auth.change_password",
    "auth.logout",
    "static",
    "core.health",
    "core.ready",
}


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """Resolve the cookie's session id; an ended, idle or too old session signs nobody in."""
    row, doctor_mfa = sessions.find_session_and_setting(token, DOCTOR_MFA_KEY)
    note_doctor_mfa_setting(doctor_mfa)
    reason = sessions.end_reason_now(row)
    if reason is not None:
        g.session_end_reason = reason
        if row is not None and row.ended_at is None:
            sessions.end_session(row, reason)
            g.expired_session = row  # audited by enforce_session, outside the user lookup
        return None
    g.user_session = row
    sessions.touch(row)
    return row.user


def current_session() -> UserSession | None:
    """The server-side session of this request's signed-in user, if any."""
    return g.get("user_session") if current_user.is_authenticated else None


def start_session(user: User) -> UserSession:
    """Sign the user in with a new session id (never one set before sign-in); caller commits."""
    session.clear()
    row, token = sessions.open_session(user, client_address(), request.user_agent.string)
    login_user(user)
    session.pop("_id", None)  # Flask-Login's address/agent hash: the server row holds both.
    session["_user_id"] = token
    session.permanent = True
    g.user_session = row
    return row


@login_manager.unauthorized_handler
def unauthorized():
    """JSON callers get 401; people are sent to sign in and brought back afterwards."""
    reason = g.get("session_end_reason")
    if wants_json():
        return jsonify(error="authentication required", reason=reason), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def enforce_session():
    """Resolve the session first; when it has ended, drop the cookie's id and say why."""
    if request.endpoint == "static" or "_user_id" not in session:
        return None
    if current_user.is_authenticated:
        return None
    reason = g.get("session_end_reason", "signed_out")
    expired = g.get("expired_session")
    if expired is not None:
        record_event(
            "session.ended", actor=expired.user, details={"reason": reason, "automatic": True}
        )
    session.clear()
    if not wants_json():
        flash(sessions.END_REASONS.get(reason, sessions.END_REASONS["signed_out"]))
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
    app.before_request(enforce_session)
    # The second factor comes first: a temporary password is changed only after it.
    app.before_request(require_second_factor)
    app.before_request(require_password_change)
