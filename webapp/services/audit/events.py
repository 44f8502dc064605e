"""The one helper that writes audit rows; views never build them by hand.

Services do not read the request: the web layer registers a context provider
(`set_context_provider`) that says who is acting and from where, so the same call works in a
request, a hook, a background run and the CLI.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context

from webapp.common.clock import utcnow
from webapp.database import insert_without_flush_wait
from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.services.audit.chain import content_hash

PROVIDER_KEY = "audit.context"


@dataclass(frozen=True)
class AuditContext:
    """Who acts and from where, as the web layer sees the current request."""

    actor: Any = None  # a User or None
    address: str | None = None
    path: str | None = None


NO_CONTEXT = AuditContext()


def set_context_provider(app, provider: Callable[[], AuditContext]) -> None:
    """Let the web layer tell audit rows the current actor, client address and path."""
    app.extensions[PROVIDER_KEY] = provider


def _context() -> AuditContext:
    provider = current_app.extensions.get(PROVIDER_KEY) if has_app_context() else None
    return provider() if provider else NO_CONTEXT


def record_event(
    action: str,
    *,
    patient_id: int | None = None,
    target_user_id: int | None = None,
    details: dict[str, Any] | None = None,
    actor=None,
    actor_email: str | None = None,
    commit: bool = True,
    durable: bool = True,
    context: AuditContext | None = None,
) -> AuditEvent:
    """Append an audit row for the current request's user (or the given actor).

    durable=False is for the audit-only transaction of a read view: its commit does not wait
    for the WAL flush (see webapp.database.insert_without_flush_wait). `context` says who and
    where when it is not the current request (a thread acting for a socket's request).
    """
    context = context or _context()
    actor = actor or context.actor
    fields = {
        "occurred_at": utcnow(),
        "actor_user_id": actor.id if actor else None,
        "actor_email": actor.email if actor else actor_email,
        "action": action,
        "target_user_id": target_user_id,
        "patient_id": patient_id,
        "ip_address": context.address,
        "path": context.path,
        "details": details or {},
    }
    # Hashed as built, so a row altered before it is sealed no longer matches its own hash.
    event = AuditEvent(**fields, row_hash=content_hash(**fields))
    if commit and not durable:
        # A read view's row: one INSERT, no unit of work; the event returned is not in the
        # session (nothing changes an audit row after it is written).
        values = {**fields, "row_hash": event.row_hash}
        event.id = insert_without_flush_wait(AuditEvent.__table__, values)
        db.session.commit()
        return event
    db.session.add(event)
    if commit:
        db.session.commit()
    return event
