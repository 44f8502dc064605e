"""User accounts: the list, creating and editing an account, and the POST-only actions."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.admin import bp
from webapp.admin.forms import AccountForm, NewAccountForm
from webapp.auth.decorators import permission_required
from webapp.extensions import db
from webapp.models import User
from webapp.models.permissions import USERS_MANAGE
from webapp.services.accounts import changes as accounts
from webapp.services.accounts.directory import STATUSES, UserQuery, role_names, search_users
from webapp.services.accounts.totp import reset_second_factor
from webapp.web.htmx import render_page


def _actor() -> User:
    return current_user._get_current_object()


def _apply_error(form, error: accounts.AccountError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message)


@bp.route("/users")
@permission_required(USERS_MANAGE)
def users():
    """Search, filter, sort and page through accounts; HTMX gets just the results."""
    roles = role_names()
    query = UserQuery.from_args(request.args, roles)
    page = search_users(query)
    return render_page(
        "admin/users.html",
        "results",
        # The address bar shows the cleaned-up query, e.g. a clamped page number.
        push_url=url_for("admin.users", **query.args()),
        page=page,
        query=query,
        roles=roles,
        statuses=STATUSES,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required(USERS_MANAGE)
def new_user():
    """Create an account with a typed password or a temporary one shown once."""
    form = NewAccountForm()
    if form.validate_on_submit():
        try:
            user, temporary = accounts.create_account(form.details(), form.chosen_password())
        except accounts.AccountError as error:
            _apply_error(form, error)
        else:
            if temporary:
                return render_template(
                    "admin/temporary_password.html", user=user, password=temporary, created=True
                )
            flash(f"Account created for {user.email}.")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@permission_required(USERS_MANAGE)
def edit_user(user_id: int):
    """Show an account and save changes to its name, email, role and organization."""
    user = db.get_or_404(User, user_id)
    form = AccountForm(
        data={
            "name": user.name,
            "email": user.email,
            "role": user.role.name,
            "organization": str(user.organization_id or ""),
        },
        user_id=user.id,
    )
    if form.validate_on_submit():
        try:
            changes = accounts.update_account(user, form.details(), _actor())
        except accounts.AccountError as error:
            db.session.rollback()
            _apply_error(form, error)
        else:
            flash("Changes saved." if changes else "Nothing to change.")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/user_edit.html", form=form, user=user)


def _run_action(user_id: int, action, done: str):
    user = db.get_or_404(User, user_id)
    try:
        action(user)
    except accounts.AccountError as error:
        db.session.rollback()
        flash(error.message)
    else:
        flash(done.format(email=user.email))
    return redirect(url_for("admin.edit_user", user_id=user_id))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@permission_required(USERS_MANAGE)
def deactivate_user(user_id: int):
    """Deactivate an account; its sessions end on their next request."""
    return _run_action(
        user_id,
        lambda user: accounts.deactivate_account(user, _actor()),
        "{email} is deactivated and signed out everywhere.",
    )


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@permission_required(USERS_MANAGE)
def reactivate_user(user_id: int):
    """Let a deactivated account sign in again."""
    return _run_action(user_id, accounts.reactivate_account, "{email} can sign in again.")


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@permission_required(USERS_MANAGE)
def unlock_user(user_id: int):
    """Lift a lockout."""
    return _run_action(user_id, accounts.unlock_account, "{email} is unlocked.")


@bp.route("/users/<int:user_id>/end-sessions", methods=["POST"])
@permission_required(USERS_MANAGE)
def end_user_sessions(user_id: int):
    """End every session and open live page of an account (audited)."""
    return _run_action(user_id, accounts.end_user_sessions, "Every session of {email} has ended.")


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@permission_required(USERS_MANAGE)
def reset_user_password(user_id: int):
    """Give the account a temporary password, shown once on this response only."""
    user = db.get_or_404(User, user_id)
    try:
        password = accounts.reset_password(user, _actor())
    except accounts.AccountError as error:
        flash(error.message)
        return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/temporary_password.html", user=user, password=password)


@bp.route("/users/<int:user_id>/reset-mfa", methods=["POST"])
@permission_required(USERS_MANAGE)
def reset_user_mfa(user_id: int):
    """Remove the account's authenticator and recovery codes, and end its sessions."""
    return _run_action(
        user_id,
        lambda user: reset_second_factor(user, _actor()),
        "{email} sets up two-step sign-in again at the next sign-in, and is signed out everywhere.",
    )
