"""The one helper that writes audit rows; views never build them by hand."""

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from webapp.core.http import client_address
from webapp.extensions import db
from webapp.models import AuditEvent


def _current_actor():
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user
    return None


def record_event(
    action: str,
    *,
    patient_id: int | None = None,
    target_user_id: int | None = None,
    details: dict[str, Any] | None = None,
    actor=None,
    actor_email: str | None = None,
    commit: bool = True,
) -> AuditEvent:
    """Append an audit row for the current request's user (or the given actor)."""
    actor = actor or _current_actor()
    event = AuditEvent(
        action=action,
        actor_user_id=actor.id if actor else None,
        actor_email=actor.email if actor else actor_email,
        patient_id=patient_id,
        target_user_id=target_user_id,
        details=details or {},
        ip_address=client_address() if has_request_context() else None,
        path=request.full_path.rstrip("?")[:500] if has_request_context() else None,
    )
    db.session.add(event)
    if commit:
        db.session.commit()
    return event
