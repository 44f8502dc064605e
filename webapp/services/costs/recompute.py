"""Monthly cost per patient, always recomputed from the records, never incremented."""

from collections.abc import Iterable

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    delete,
    exists,
    func,
    literal,
    select,
    tuple_,
)

from webapp.common.clock import utcnow
from webapp.database import bulk_insert, refresh_statistics, upsert
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
    """Rebuild only these (patient id, month) rows of patient_cost from their counted records.

    The pairs go to a temporary table (COPY on PostgreSQL), so each step is one joined
    statement however many pairs a load touched.
    """
    pairs = sorted(set(months))
    if not pairs:
        return
    table = Table(
        "cost_months",
        MetaData(),
        Column("patient_id", Integer),
        Column("month", String(7)),
        prefixes=["TEMPORARY"],
    )
    connection = db.session.connection()
    table.create(connection)
    bulk_insert(table, ("patient_id", "month"), pairs)
    refresh_statistics(table.name)
    wanted = exists().where(
        table.c.patient_id == MedicalRecord.patient_id, table.c.month == MedicalRecord.month
    )
    db.session.execute(_upsert_totals(None, wanted))
    listed = select(table.c.patient_id, table.c.month)
    emptied = tuple_(PatientCost.patient_id, PatientCost.month).in_(listed)
    db.session.execute(_delete_emptied_months(None).where(emptied))
    table.drop(connection)
    clear_patient_costs(sorted({patient for patient, _ in pairs}))


def _counted_records(patient_ids: list[int] | None):
    # A record that duplicates another source's report of the same visit counts once.
    counted = MedicalRecord.duplicate_of_id.is_(None)
    return (
        counted if patient_ids is None else and_(MedicalRecord.patient_id.in_(patient_ids), counted)
    )


def _upsert_totals(patient_ids: list[int] | None, *only):
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


def _delete_emptied_months(patient_ids: list[int] | None):
    still_has_records = exists().where(
        MedicalRecord.patient_id == PatientCost.patient_id,
        MedicalRecord.month == PatientCost.month,
        MedicalRecord.duplicate_of_id.is_(None),
    )
    emptied = delete(PatientCost).where(~still_has_records)
    return (
        emptied if patient_ids is None else emptied.where(PatientCost.patient_id.in_(patient_ids))
    )
