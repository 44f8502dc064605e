"""The audit trail's hashes: one content hash per row, one chain link per sealed row.

A row's content hash is taken when the row is built (`content_hash`, from `canonical_fields`),
before it has an id; the chain then binds each row's id and content hash to everything sealed
before it: link = SHA-256(previous link, event id, content hash). Changing, removing or swapping
any sealed row breaks every link from there on.
"""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from webapp.common.clock import as_utc

GENESIS = "0" * 64
# The columns a row's content hash covers (canonical_fields' arguments, in its order).
CONTENT_FIELDS = (
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


def canonical_fields(
    occurred_at: datetime,
    actor_user_id: int | None,
    actor_email: str | None,
    action: str,
    target_user_id: int | None,
    patient_id: int | None,
    ip_address: str | None,
    path: str | None,
    details: dict[str, Any] | None,
) -> list:
    """A row's content as plain values, the same whether read from a model or a database row."""
    moment = as_utc(occurred_at).astimezone(UTC).isoformat(timespec="microseconds")
    # Through JSON and back, so tuples and lists (or other JSON-equal values) hash alike.
    plain_details = json.loads(json.dumps(details or {}, default=str))
    return [
        moment,
        actor_user_id,
        actor_email,
        action,
        target_user_id,
        patient_id,
        ip_address,
        path,
        plain_details,
    ]


def content_hash(**fields: Any) -> str:
    """SHA-256 (hex) of a row's canonical content; takes canonical_fields' keyword arguments."""
    text = json.dumps(
        canonical_fields(**fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_content_hash(event) -> str:
    """The content hash of an AuditEvent (or a row with the same columns) as it stands now."""
    return content_hash(**{name: getattr(event, name) for name in CONTENT_FIELDS})


def link(previous: str, event_id: int, row_hash: str) -> str:
    """The chain link sealing one row after `previous`."""
    return hashlib.sha256(f"{previous}:{event_id}:{row_hash}".encode("ascii")).hexdigest()
