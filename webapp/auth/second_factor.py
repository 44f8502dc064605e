"""Whether this session passed the second factor, and the rule that nothing else opens before.

The "passed" mark is a column of the server-side session record (`user_session.second_factor_at`)
that `session_guard.load_user` put on `g`: it dies with the session (sign-out, any ending).
"""

from flask import g, jsonify, redirect, request, url_for
from flask_login import current_user

from webapp.extensions import db
from webapp.models import User
from webapp.models.permissions import AIPHAS, DOCTOR
from webapp.services.accounts import sessions
from webapp.services.accounts.mfa_policy import doctors_must_use_mfa
from webapp.services.audit.events import record_event
from webapp.web.http import wants_json

CODE_ENDPOINT = "auth.second_factor"
ENROL_ENDPOINT = "auth.enrol_second_factor"
# Reachable by a signed-in user who still owes the second factor.
ALWAYS_ALLOWED = {"auth.logout", "static", "core.health", "core.ready"}


def mark_second_factor_passed() -> None:
    """Record, and commit, that this session has just passed (or enrolled) the second factor."""
    sessions.mark_second_factor(g.user_session)
    db.session.commit()


def second_factor_passed() -> bool:
    """True when this request's session passed the second factor."""
    return current_user.is_authenticated and sessions.second_factor_passed(g.get("user_session"))


def second_factor_required(user: User) -> bool:
    """AIPHAS always; doctors when enrolled or when the setting (or config) requires it."""
    if user.has_second_factor or user.role.name == AIPHAS:
        return True
    return user.role.name == DOCTOR and doctors_must_use_mfa()


def owed_endpoint(user: User) -> str | None:
    """Where the user must go next for the second factor, or None when nothing is owed."""
    if not second_factor_required(user) or second_factor_passed():
        return None
    return CODE_ENDPOINT if user.has_second_factor else ENROL_ENDPOINT


def require_second_factor():
    """Before every request: a user who owes the second factor reaches only that step."""
    if not current_user.is_authenticated or request.endpoint in ALWAYS_ALLOWED:
        return None
    endpoint = owed_endpoint(current_user)
    if endpoint is None or request.endpoint == endpoint:
        return None
    if wants_json():
        record_event("access.denied", details={"reason": "second factor required"})
        return jsonify(error="second factor required"), 401
    next_url = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for(endpoint, next=next_url))
