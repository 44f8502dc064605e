"""The sign-in policy page: whether every doctor must use two-step sign-in."""

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField

from webapp.admin import bp
from webapp.auth.decorators import permission_required
from webapp.extensions import db
from webapp.models.permissions import USERS_MANAGE
from webapp.services.accounts.mfa_policy import (
    doctor_mfa_from_config,
    doctors_must_use_mfa,
    set_doctors_must_use_mfa,
)


class SignInPolicyForm(FlaskForm):
    """The settings AIPHAS controls."""

    require_doctor_mfa = BooleanField("Every doctor must use two-step sign-in")


@bp.route("/security", methods=["GET", "POST"])
@permission_required(USERS_MANAGE)
def sign_in_policy():
    """Show and change who must use two-step sign-in."""
    form = SignInPolicyForm(data={"require_doctor_mfa": doctors_must_use_mfa()})
    if form.validate_on_submit():
        changed = set_doctors_must_use_mfa(form.require_doctor_mfa.data)
        db.session.commit()
        flash("Sign-in policy saved." if changed else "Nothing to change.")
        return redirect(url_for("admin.sign_in_policy"))
    return render_template(
        "admin/security.html", form=form, fixed_by_config=doctor_mfa_from_config()
    )
