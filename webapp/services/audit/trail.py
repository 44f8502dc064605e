"""Reading the audit trail: filters, pages, and the CSV export of the filtered rows."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, or_, select

from webapp.common.clock import as_utc
from webapp.common.paging import Page, paginate_ahead
from webapp.extensions import db
from webapp.models import AuditEvent, User

PER_PAGE = 50
# What the audit page shows of each row (read as plain rows, not AuditEvent objects).
SHOWN_COLUMNS = (
    AuditEvent.id,
    AuditEvent.occurred_at,
    AuditEvent.actor_user_id,
    AuditEvent.actor_email,
    AuditEvent.action,
    AuditEvent.target_user_id,
    AuditEvent.patient_id,
    AuditEvent.ip_address,
    AuditEvent.path,
    AuditEvent.details,
)
CSV_COLUMNS = (
    "id",
    "occurred_at",
    "actor_user_id",
    "actor_email",
    "action",
    "target_user_id",
    "patient_id",
    "ip_address",
    "path",
    "details",
)
KNOWN_ACTIONS = (
    "login.success",
    "login.failure",
    "logout",
    "account.locked",
    "access.denied",
    "password.changed",
    "patients.search",
    "user.created",
    "user.updated",
    "user.deactivated",
    "user.reactivated",
    "user.unlocked",
    "user.password_reset",
    "user.sessions_ended",
    "session.ended",
    "audit.exported",
    "audit.viewed",
    "run.viewed",
    "run.rejects_exported",
)


@dataclass
class AuditFilters:
    """Validated filters; empty values filter nothing."""

    user: str = ""
    action: str = ""
    patient_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    def as_details(self) -> dict:
        """The filters as plain values for an audit row."""
        return {
            "user": self.user,
            "action": self.action,
            "patient_id": self.patient_id,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
        }


def _user_clause(user: str):
    if user.isdigit():
        user_id = int(user)
        return or_(AuditEvent.actor_user_id == user_id, AuditEvent.target_user_id == user_id)
    email = user.strip().lower()
    ids = select(User.id).where(func.lower(User.email) == email)
    return or_(func.lower(AuditEvent.actor_email) == email, AuditEvent.target_user_id.in_(ids))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def filtered_events(filters: AuditFilters) -> Select:
    """Audit rows matching the filters, newest first (dates are whole UTC days)."""
    stmt = select(AuditEvent)
    if filters.user:
        stmt = stmt.where(_user_clause(filters.user))
    if filters.action:
        # "user.*" selects a family of actions.
        if filters.action.endswith("*"):
            prefix = filters.action.rstrip("*")
            stmt = stmt.where(AuditEvent.action.startswith(prefix, autoescape=True))
        else:
            stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.patient_id is not None:
        stmt = stmt.where(AuditEvent.patient_id == filters.patient_id)
    if filters.date_from:
        stmt = stmt.where(AuditEvent.occurred_at >= _start_of(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(AuditEvent.occurred_at < _start_of(filters.date_to + timedelta(days=1)))
    return stmt.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


def page_of_events(filters: AuditFilters, page: int) -> Page:
    """One page of matching rows, not counted (the trail grows by a row per view); a page past
    the end shows the last page. Plain rows of the shown columns: the page only reads them."""
    stmt = filtered_events(filters).with_only_columns(*SHOWN_COLUMNS)
    return paginate_ahead(db.session, stmt, page, PER_PAGE, rows=True)


def format_moment(moment: datetime) -> str:
    """An instant as UTC text, the same on PostgreSQL and SQLite."""
    return as_utc(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _row(event: AuditEvent) -> list:
    return [
        event.id,
        format_moment(event.occurred_at),
        event.actor_user_id,
        event.actor_email,
        event.action,
        event.target_user_id,
        event.patient_id,
        event.ip_address,
        event.path,
        json.dumps(event.details or {}, sort_keys=True, default=str),
    ]


def export_rows(filters: AuditFilters, batch: int = 1000) -> Iterator[list]:
    """The matching rows as CSV values (columns as CSV_COLUMNS), fetched in batches to stream."""
    stmt = filtered_events(filters).execution_options(yield_per=batch)
    for event in db.session.scalars(stmt):
        yield _row(event)
