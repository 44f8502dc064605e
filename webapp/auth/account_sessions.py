"""/account/sessions: a user's own sessions, and ending any of them."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from webapp.auth import bp
from webapp.auth.decorators import signed_in
from webapp.auth.session_guard import current_session
from webapp.extensions import db
from webapp.models import UserSession
from webapp.services.accounts.sessions import END_REASONS, end_reason_now, end_session, sessions_of
from webapp.services.audit.events import record_event


@bp.route("/account/sessions")
@signed_in
def sessions():
    """List the signed-in user's sessions, the current one marked."""
    rows = sessions_of(current_user)
    states = {row.id: end_reason_now(row) for row in rows}
    return render_template(
        "auth/sessions.html",
        rows=rows,
        states=states,
        reasons=END_REASONS,
        current=current_session(),
    )


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
@signed_in
def end_own_session(session_id: int):
    """End one of the user's own sessions (another device's, or this one)."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != current_user.id:
        abort(404)  # someone else's session is indistinguishable from none
    this_one = current_session() is not None and row.id == current_session().id
    end_session(row, "signed_out" if this_one else "ended_by_user")
    record_event("session.ended", details={"session": row.id, "by": "user"})
    if this_one:
        return redirect(url_for("auth.login"))
    flash("That session has ended; its browser has to sign in again.")
    return redirect(url_for("auth.sessions"))
