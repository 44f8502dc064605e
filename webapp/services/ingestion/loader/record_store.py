"""The medical_record columns a load writes, and upserting them with executemany (SQLite path).

PostgreSQL loads records with set-based SQL instead (pg_bulk), over the same columns.
"""

from webapp.database import upsert
from webapp.extensions import db
from webapp.models import MedicalRecord

KEY = ("source_system", "source_record_id")
# What a later export of the same record may change; a row is rewritten only when one differs.
UPDATABLE = (
    "patient_id", "kind", "record_date", "recorded_at", "month", "diagnosis", "treatment",
    "prescription", "cost", "notes", "source_file", "source_position",
)  # fmt: skip


def upsert_records(values: list[dict]) -> None:
    """Insert new records and rewrite changed ones; unchanged rows are left alone."""
    statement = upsert(MedicalRecord.__table__, KEY, UPDATABLE, also_set=("updated_at",))
    db.session.connection().execute(statement, values)
