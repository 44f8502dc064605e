"""Sign in, sign out and change password."""

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from webapp.auth import bp
from webapp.auth.decorators import public, signed_in
from webapp.auth.forms import ChangePasswordForm, LoginForm
from webapp.auth.login_flow import attempt_login
from webapp.auth.second_factor import owed_endpoint
from webapp.auth.session_guard import current_session, start_session
from webapp.extensions import db
from webapp.models.permissions import LANDING_ENDPOINTS
from webapp.services.accounts.sessions import END_REASONS, end_session, end_sessions
from webapp.services.audit.events import record_event
from webapp.web.http import is_safe_next


def landing_url(user) -> str:
    """The first page of a user's role."""
    for permission, endpoint in LANDING_ENDPOINTS:
        if user.has_permission(permission):
            return url_for(endpoint)
    return url_for("auth.change_password")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Show the sign-in form and check what was submitted."""
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        result = attempt_login(form.email.data, form.password.data)
        if result.user is not None:
            next_url = request.args.get("next")
            start_session(result.user)
            db.session.commit()
            if owed := owed_endpoint(result.user):
                return redirect(url_for(owed, next=next_url if is_safe_next(next_url) else None))
            if result.user.must_change_password:
                return redirect(url_for("auth.change_password"))
            return redirect(next_url if is_safe_next(next_url) else landing_url(result.user))
        db.session.commit()
        error = result.error
    # A live page sent here after its session ended says why (a fixed text, never the input).
    notice = END_REASONS.get(request.args.get("ended", ""))
    return render_template("auth/login.html", form=form, error=error, notice=notice)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    """End the session, server-side: the cookie is worthless from now on, wherever it is."""
    end_session(current_session(), "signed_out")
    record_event("logout")
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password():
    """Let a user replace their password (forced after a reset)."""
    form = ChangePasswordForm(current_user.email, name=current_user.name)
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append("The current password is not correct.")
        else:
            user = current_user._get_current_object()
            user.set_password(form.new_password.data)
            user.must_change_password = False
            ended = end_sessions(user, "password_changed", except_current=current_session())
            record_event(
                "password.changed",
                target_user_id=user.id,
                details={"other_sessions_ended": ended},
                commit=False,
            )
            db.session.commit()
            flash("Your password has been changed.")
            return redirect(landing_url(user))
    return render_template("auth/change_password.html", form=form)
