"""Writing record rows: COPY into a staging table on PostgreSQL, executemany elsewhere."""

import csv
import io

from sqlalchemy import or_, text
from sqlalchemy.dialects import postgresql, sqlite

from webapp.extensions import db
from webapp.models import MedicalRecord

KEY = ("source_system", "source_record_id")
UPDATABLE = (
    "patient_id", "kind", "record_date", "recorded_at", "month", "diagnosis", "treatment",
    "prescription", "cost", "notes", "source_file", "source_position",
)  # fmt: skip
COLUMNS = (*KEY, *UPDATABLE, "created_at", "updated_at")
STAGING = "medical_record_staging"


def upsert_records(values: list[dict]) -> None:
    """Insert new records and rewrite changed ones; unchanged rows are left alone."""
    if db.session.get_bind().dialect.name == "postgresql":
        _copy_and_merge(values)
    else:
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


def _copy_and_merge(values: list[dict]) -> None:
    connection = db.session.connection()
    connection.execute(
        text(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGING} "
            "(LIKE medical_record INCLUDING DEFAULTS) ON COMMIT DROP"
        )
    )
    connection.execute(text(f"TRUNCATE {STAGING}"))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in values:
        writer.writerow(["\\N" if row[c] is None else row[c] for c in COLUMNS])
    buffer.seek(0)
    cursor = connection.connection.driver_connection.cursor()
    cursor.copy_expert(
        f"COPY {STAGING} ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
    )
    columns = ", ".join(COLUMNS)
    old = ", ".join(f"medical_record.{c}" for c in UPDATABLE)
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*UPDATABLE, "updated_at"))
    connection.execute(
        text(
            f"INSERT INTO medical_record ({columns}) SELECT {columns} FROM {STAGING} "
            f"ON CONFLICT (source_system, source_record_id) DO UPDATE SET {assignments} "
            f"WHERE ({old}) IS DISTINCT FROM ({', '.join(f'EXCLUDED.{c}' for c in UPDATABLE)})"
        )
    )
