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
    insert,
    literal,
    or_,
    select,
    text,
    tuple_,
    update,
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


def recompute_months(months: Iterable[tuple[int, str]], staged: str | None = None) -> None:
    """Rebuild only these (patient id, month) rows of patient_cost from their counted records.

    `staged` may name a table of this transaction holding more (patient_id, month) pairs, so a
    load's own list of touched months never travels to Python and back. The pairs go to a
    temporary table (COPY on PostgreSQL) and their totals are summed into another by one
    GROUP BY; patient_cost then gets plain set-based statements (new months inserted, changed
    ones updated, emptied ones deleted), each a hash join of two small tables instead of a
    probe of medical_record per month.
    """
    pairs = sorted(set(months))
    if not pairs and staged is None:
        return
    connection = db.session.connection()
    wanted, totals = _month_tables()
    for table in (wanted, totals):
        table.create(connection)
    bulk_insert(wanted, ("patient_id", "month"), pairs)
    if staged is not None:
        listed = select(text("patient_id"), text("month")).select_from(text(staged)).distinct()
        db.session.execute(insert(wanted).from_select(["patient_id", "month"], listed))
    refresh_statistics(wanted.name)
    db.session.execute(insert(totals).from_select(list(totals.c.keys()), _month_totals(wanted)))
    refresh_statistics(totals.name)
    for statement in _write_months(wanted, totals):
        db.session.execute(statement, execution_options={"synchronize_session": False})
    patients = db.session.scalars(select(wanted.c.patient_id).distinct()).all()
    for table in (totals, wanted):
        table.drop(connection)
    clear_patient_costs(sorted(patients))


def _month_tables() -> tuple[Table, Table]:
    metadata = MetaData()
    wanted = Table(
        "cost_months",
        metadata,
        Column("patient_id", Integer),
        Column("month", String(7)),
        prefixes=["TEMPORARY"],
    )
    totals = Table(
        "cost_month_totals",
        metadata,
        Column("patient_id", Integer),
        Column("month", String(7)),
        Column("total_cost", PatientCost.total_cost.type),
        Column("record_count", Integer),
        prefixes=["TEMPORARY"],
    )
    return wanted, totals


def _month_totals(wanted: Table):
    record = MedicalRecord
    # Filter by patient, then keep the wanted months: joining on (patient, month) makes the
    # planner expect few rows and probe the index once per month even when every month is due.
    listed = tuple_(record.patient_id, record.month).in_(
        select(wanted.c.patient_id, wanted.c.month)
    )
    return (
        select(record.patient_id, record.month, func.sum(record.cost), func.count(record.id))
        .where(_counted_records(None), record.patient_id.in_(select(wanted.c.patient_id)))
        .group_by(record.patient_id, record.month)
        .having(listed)
    )


def _write_months(wanted: Table, totals: Table) -> tuple:
    cost = PatientCost
    now = literal(utcnow(), cost.updated_at.type)
    same_month = and_(cost.patient_id == totals.c.patient_id, cost.month == totals.c.month)
    # Unchanged months are left alone, so no live update is pushed for them.
    changed = update(cost).where(
        same_month,
        or_(
            cost.total_cost.is_distinct_from(totals.c.total_cost),
            cost.record_count.is_distinct_from(totals.c.record_count),
        ),
    )
    changed = changed.values(
        total_cost=totals.c.total_cost, record_count=totals.c.record_count, updated_at=now
    )
    new = insert(cost).from_select(
        ["patient_id", "month", "total_cost", "record_count", "updated_at"],
        select(totals, now)
        .where(~exists().where(same_month))
        .order_by(totals.c.patient_id, totals.c.month),
    )
    listed = tuple_(cost.patient_id, cost.month).in_(select(wanted.c.patient_id, wanted.c.month))
    emptied = delete(cost).where(listed, ~exists().where(same_month))
    return changed, new, emptied


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
