"""User accounts."""

from flask import render_template
from sqlalchemy import select

from webapp.admin import bp
from webapp.auth.decorators import permission_required
from webapp.auth.permissions import USERS_MANAGE
from webapp.extensions import db
from webapp.models import User


@bp.route("/users")
@permission_required(USERS_MANAGE)
def users():
    """List every account."""
    rows = db.session.scalars(select(User).order_by(User.name)).all()
    return render_template("admin/users.html", users=rows)
