"""Upserting record rows with executemany (the SQLite path; PostgreSQL uses pg_bulk)."""

from sqlalchemy import or_
from sqlalchemy.dialects import postgresql, sqlite

from webapp.extensions import db
from webapp.models import MedicalRecord

KEY = ("source_system", "source_record_id")
UPDATABLE = (
    "patient_id", "kind", "record_date", "recorded_at", "month", "diagnosis", "treatment",
    "prescription", "cost", "notes", "source_file", "source_position",
)  # fmt: skip


def upsert_records(values: list[dict]) -> None:
    """Insert new records and rewrite changed ones; unchanged rows are left alone."""
    db.session.connection().execute(_generic_upsert(), values)


def _generic_upsert():
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = MedicalRecord.__table__
    stmt = insert(table)
    changed = or_(*(table.c[name].is_distinct_from(stmt.excluded[name]) for name in UPDATABLE))
    return stmt.on_conflict_do_update(
        index_elements=list(KEY),
        set_={**{name: stmt.excluded[name] for name in (*UPDATABLE, "updated_at")}},
        where=changed,
    )
