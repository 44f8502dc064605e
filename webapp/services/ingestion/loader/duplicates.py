"""The same visit reported by two systems is shown once and counted once.

Set-based on both backends: a window over (patient, instant, kind, cost) names each visit's
first report, and one UPDATE per chunk of patients rewrites only the links that changed.
"""

from sqlalchemy import case, func, select, update

from webapp.extensions import db
from webapp.models import MedicalRecord

CHUNK = 5000


def mark_duplicate_visits(patient_ids: set[int]) -> tuple[int, set[tuple[int, str]]]:
    """Point each later report of a visit at the first one.

    Returns how many of these patients' records are duplicates, and the (patient, month) pairs
    whose counted records changed because a link was made or undone.
    """
    ids = sorted(patient_ids)
    duplicates, changed = 0, set()
    for start in range(0, len(ids), CHUNK):
        duplicates += _mark_chunk(ids[start : start + CHUNK], changed)
    return duplicates, changed


def _first_reports(patient_ids: list[int]):
    record = MedicalRecord
    # Same patient, same instant (offsets compare as instants), same kind, same cost.
    visit = {
        "partition_by": (record.patient_id, record.recorded_at, record.kind, record.cost),
        "order_by": record.id,
    }
    first_id = func.first_value(record.id).over(**visit)
    first_source = func.first_value(record.source_system).over(**visit)
    return (
        select(
            record.id.label("id"),
            case((record.source_system != first_source, first_id), else_=None).label("wanted"),
        )
        .where(record.patient_id.in_(patient_ids), record.recorded_at.is_not(None))
        .subquery()
    )


def _mark_chunk(patient_ids: list[int], changed: set[tuple[int, str]]) -> int:
    wanted = _first_reports(patient_ids)
    relinked = db.session.execute(
        update(MedicalRecord)
        .where(
            MedicalRecord.id == wanted.c.id,
            MedicalRecord.duplicate_of_id.is_distinct_from(wanted.c.wanted),
        )
        .values(duplicate_of_id=wanted.c.wanted)
        .returning(MedicalRecord.patient_id, MedicalRecord.month),
        execution_options={"synchronize_session": False},
    )
    changed.update((patient, month) for patient, month in relinked)
    # Every windowed record now holds its wanted link: count the links, not the window again.
    counted = select(func.count()).where(
        MedicalRecord.patient_id.in_(patient_ids),
        MedicalRecord.recorded_at.is_not(None),
        MedicalRecord.duplicate_of_id.is_not(None),
    )
    return db.session.scalar(counted) or 0
