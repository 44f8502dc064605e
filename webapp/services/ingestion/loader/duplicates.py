"""The same visit reported by two systems is shown once and counted once."""

from collections import defaultdict

from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import MedicalRecord

CHUNK = 1000


def mark_duplicate_visits(patient_ids: set[int]) -> int:
    """Point each later report of a visit at the first one; returns how many are duplicates."""
    ids = sorted(patient_ids)
    duplicates = 0
    for start in range(0, len(ids), CHUNK):
        duplicates += _mark_chunk(ids[start : start + CHUNK])
    return duplicates


def _mark_chunk(patient_ids: list[int]) -> int:
    rows = db.session.execute(
        select(
            MedicalRecord.id,
            MedicalRecord.patient_id,
            MedicalRecord.recorded_at,
            MedicalRecord.kind,
            MedicalRecord.cost,
            MedicalRecord.source_system,
            MedicalRecord.duplicate_of_id,
        )
        .where(MedicalRecord.patient_id.in_(patient_ids), MedicalRecord.recorded_at.is_not(None))
        .order_by(MedicalRecord.id)
    ).all()
    groups = defaultdict(list)
    for row in rows:
        # Same patient, same instant (offsets compare as instants), same kind, same cost.
        groups[(row.patient_id, row.recorded_at, row.kind, row.cost)].append(row)
    duplicates = 0
    for members in groups.values():
        first = members[0]
        for row in members:
            wanted = first.id if row.source_system != first.source_system else None
            duplicates += wanted is not None
            if row.duplicate_of_id != wanted:
                db.session.execute(
                    update(MedicalRecord)
                    .where(MedicalRecord.id == row.id)
                    .values(duplicate_of_id=wanted)
                )
    return duplicates
