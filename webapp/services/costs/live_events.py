"""Cost changes for live pages when the database has no NOTIFY (SQLite): found and published
in-process after the load commits, shaped like the PostgreSQL trigger's payload."""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from webapp.common.clock import utcnow
from webapp.database import sends_change_notifications
from webapp.extensions import db
from webapp.models import PatientCost


@dataclass(frozen=True)
class CostChange:
    """One patient_cost row written: new (INSERT) or changed (UPDATE)."""

    id: int
    patient_id: int
    month: str
    op: str = "UPDATE"


@dataclass(frozen=True)
class Snapshot:
    """Which cost rows existed before a write, and when the write started."""

    ids: set[int]
    started: datetime


def before_cost_write() -> Snapshot | None:
    """Call before recomputing costs; None where the database notifies by itself."""
    if sends_change_notifications():
        return None
    return Snapshot(set(db.session.scalars(select(PatientCost.id))), utcnow())


def publish_after_commit(snapshot: Snapshot | None) -> None:
    """Publish the cost rows written since the snapshot, once they are committed."""
    if snapshot is None:
        return
    rows = db.session.execute(
        select(PatientCost.id, PatientCost.patient_id, PatientCost.month).where(
            PatientCost.updated_at >= snapshot.started
        )
    ).all()
    changes = [
        CostChange(id_, patient_id, month, "UPDATE" if id_ in snapshot.ids else "INSERT")
        for id_, patient_id, month in rows
    ]
    current_app.extensions["live"].publish(changes)
