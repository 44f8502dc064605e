"""The second factor: the code step after the password, and enrolling an authenticator app."""

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from webapp.auth import bp
from webapp.auth.decorators import signed_in
from webapp.auth.forms import CodeForm
from webapp.auth.login_flow import locked_message
from webapp.auth.second_factor import (
    CODE_ENDPOINT,
    mark_second_factor_passed,
    owed_endpoint,
)
from webapp.auth.views import landing_url
from webapp.extensions import db
from webapp.services.accounts import totp
from webapp.services.accounts.lockout import claim_user_check, clear_failures, lockout_minutes
from webapp.services.accounts.recovery_codes import remaining_recovery_codes, use_recovery_code
from webapp.services.audit.events import record_event
from webapp.web.http import is_safe_next

WRONG_CODE = "That code is not valid, or it has already been used."


def _user():
    return current_user._get_current_object()


def _onward_url() -> str:
    target = request.args.get("next")
    return target if is_safe_next(target) else landing_url(current_user)


def _onward():
    return redirect(_onward_url())


def _check_code(user, code: str) -> bool:
    code = "".join(code.split())
    if code.isdigit() and len(code) == 6:
        return totp.use_code(user, code)
    if use_recovery_code(user, code):
        record_event("mfa.recovery_code_used", details={"left": remaining_recovery_codes(user)})
        return True
    return False


@bp.route("/login/code", methods=["GET", "POST"])
@signed_in
def second_factor():
    """The second step of signing in: a code from the authenticator app or a recovery code."""
    user = _user()
    if owed_endpoint(user) != CODE_ENDPOINT:
        return _onward()
    form = CodeForm()
    if form.validate_on_submit():
        claim = claim_user_check(user)
        if claim.allowed and _check_code(user, form.code.data):
            clear_failures(user)
            record_event("mfa.success", commit=False)
            db.session.commit()
            mark_second_factor_passed()
            return _onward()
        record_event("mfa.failure", details={"reason": "wrong code"}, commit=False)
        if claim.locks or not claim.allowed:
            if claim.locks:
                record_event("account.locked", target_user_id=user.id, commit=False)
            db.session.commit()
            logout_user()
            session.clear()
            flash(locked_message(lockout_minutes()))
            return redirect(url_for("auth.login"))
        db.session.commit()
        form.code.errors.append(WRONG_CODE)
    return render_template("auth/second_factor.html", form=form)


@bp.route("/account/mfa", methods=["GET", "POST"])
@signed_in
def enrol_second_factor():
    """Show the second factor's state, or enrol an authenticator app with a QR code."""
    user = _user()
    if user.has_second_factor:
        return render_template("auth/mfa_status.html", remaining=remaining_recovery_codes(user))
    form = CodeForm()
    secret = totp.pending_secret(user)
    if form.validate_on_submit():
        codes = totp.confirm_enrolment(user, "".join(form.code.data.split()))
        if codes is not None:
            mark_second_factor_passed()
            return render_template(
                "auth/recovery_codes.html", codes=codes, continue_url=_onward_url()
            )
        form.code.errors.append(WRONG_CODE)
    uri = totp.provisioning_uri(user, secret)
    return render_template(
        "auth/mfa_enrol.html",
        form=form,
        secret=secret,
        qr_svg=totp.qr_svg(uri),
        forced=owed_endpoint(user) is not None,
    )
