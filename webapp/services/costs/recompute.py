"""Monthly cost per patient, always recomputed from the records, never incremented."""

from collections.abc import Iterable

from sqlalchemy import and_, delete, exists, func, literal, select, tuple_

from webapp.common.clock import utcnow
from webapp.database import upsert
from webapp.extensions import db
from webapp.models import MedicalRecord, PatientCost
from webapp.services.costs.cache import clear_patient_costs

CHUNK = 1000


def recompute_costs(patient_ids: Iterable[int]) -> None:
    """Rebuild the patient_cost rows of these patients from their counted records."""
    ids = sorted(set(patient_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        db.session.execute(_upsert_totals(chunk))
        db.session.execute(_delete_emptied_months(chunk))
    clear_patient_costs(ids)


def recompute_months(months: Iterable[tuple[int, str]]) -> None:
    """Rebuild only these (patient id, month) rows of patient_cost from their counted records."""
    pairs = sorted(set(months))
    for start in range(0, len(pairs), CHUNK):
        chunk = pairs[start : start + CHUNK]
        patients = sorted({patient for patient, _ in chunk})
        wanted = tuple_(MedicalRecord.patient_id, MedicalRecord.month).in_(chunk)
        db.session.execute(_upsert_totals(patients, wanted))
        emptied = tuple_(PatientCost.patient_id, PatientCost.month).in_(chunk)
        db.session.execute(_delete_emptied_months(patients).where(emptied))
    clear_patient_costs(sorted({patient for patient, _ in pairs}))


def _counted_records(patient_ids: list[int]):
    # A record that duplicates another source's report of the same visit counts once.
    return and_(MedicalRecord.patient_id.in_(patient_ids), MedicalRecord.duplicate_of_id.is_(None))


def _upsert_totals(patient_ids: list[int], *only):
    totals = (
        select(
            MedicalRecord.patient_id,
            MedicalRecord.month,
            func.sum(MedicalRecord.cost),
            func.count(MedicalRecord.id),
            literal(utcnow(), PatientCost.updated_at.type),
        )
        .where(_counted_records(patient_ids), *only)
        .group_by(MedicalRecord.patient_id, MedicalRecord.month)
    )
    # Unchanged months are left alone, so no live update is pushed for them.
    return upsert(
        PatientCost.__table__,
        key=("patient_id", "month"),
        updatable=("total_cost", "record_count"),
        also_set=("updated_at",),
        source=(("patient_id", "month", "total_cost", "record_count", "updated_at"), totals),
    )


def _delete_emptied_months(patient_ids: list[int]):
    still_has_records = exists().where(
        MedicalRecord.patient_id == PatientCost.patient_id,
        MedicalRecord.month == PatientCost.month,
        MedicalRecord.duplicate_of_id.is_(None),
    )
    return delete(PatientCost).where(PatientCost.patient_id.in_(patient_ids), ~still_has_records)
