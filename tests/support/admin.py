"""Reading back what the app wrote, from the tests' own session."""

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEvent, User


def events(action: str) -> list[AuditEvent]:
    """Audit rows of one action, oldest first."""
    db.session.expire_all()
    stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.session.scalars(stmt))


def reload(user: User) -> User:
    """The user as the database holds it now."""
    return db.session.get(User, user.id, populate_existing=True)


def edit_url(user: User) -> str:
    """The account's page in the console."""
    return f"/admin/users/{user.id}"
