"""The PostgreSQL path of the record load: the NDJSON goes to the server as it is.

records.ndjson is COPYed line by line into a temporary jsonb table; patients are resolved,
duplicates ranked and records upserted by set-based SQL, so no record is parsed in Python.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text

from pipeline.contract import RECORDS_FILE
from webapp.database import copy_from
from webapp.extensions import db
from webapp.services import storage
from webapp.services.ingestion.loader.record_store import KEY, UPDATABLE
from webapp.services.ingestion.loader.records import (
    DUPLICATE_ID,
    UNKNOWN_PATIENT,
    WriterState,
    refused_row,
)

# Control characters JSON never leaves unescaped: each line arrives as one CSV field.
COPY_LINES = (
    "COPY record_lines (doc) FROM STDIN WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
)

RESOLVE = """
CREATE TEMP TABLE record_resolved ON COMMIT DROP AS
SELECT l.seq, l.doc, coalesce(pi.patient_id, p.id) AS patient_id,
       row_number() OVER (PARTITION BY l.doc->>'source_system', l.doc->>'source_record_id'
                          ORDER BY l.seq DESC) AS rank
FROM record_lines l
LEFT JOIN patient_identifier pi
       ON pi.source_system = l.doc->>'source_system'
      AND pi.source_patient_id = l.doc->'patient'->>'source_patient_id'
LEFT JOIN patient p ON p.id = (l.doc->'patient'->>'platform_patient_id')::bigint
"""

# How each written column is computed from the staged line (UPDATABLE names the columns).
FROM_LINE = {
    "source_system": "doc->>'source_system'",
    "source_record_id": "doc->>'source_record_id'",
    "patient_id": "patient_id",
    "kind": "doc->>'kind'",
    "record_date": "(doc->>'record_date')::date",
    "recorded_at": "(doc->>'recorded_at')::timestamptz",
    "month": "doc->>'month'",
    "diagnosis": "doc->>'diagnosis'",
    "treatment": "doc->>'treatment'",
    "prescription": "doc->>'prescription'",
    "cost": "(doc->>'cost')::numeric(12, 2)",
    "notes": "doc->>'notes'",
    "source_file": "nullif(right(doc->'provenance'->>'file', 500), '')",
    "source_position": "nullif(left(doc->'provenance'->>'position', 60), '')",
    "created_at": "now()",
    "updated_at": "now()",
}
COLUMNS = (*KEY, *UPDATABLE, "created_at", "updated_at")
UPSERT = f"""
INSERT INTO medical_record ({", ".join(COLUMNS)})
SELECT {", ".join(FROM_LINE[c] for c in COLUMNS)} FROM record_resolved
WHERE patient_id IS NOT NULL AND rank = 1
ON CONFLICT ({", ".join(KEY)}) DO UPDATE
SET {", ".join(f"{c} = EXCLUDED.{c}" for c in (*UPDATABLE, "updated_at"))}
WHERE ({", ".join(f"medical_record.{c}" for c in UPDATABLE)})
      IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in UPDATABLE)})
"""

TOTALS = """
SELECT doc->>'source_system',
       coalesce(doc->'patient'->>'platform_patient_id', doc->'patient'->>'source_patient_id'),
       doc->>'month', patient_id IS NOT NULL AND rank = 1,
       sum(round((doc->>'cost')::numeric * 100))::bigint, count(*)
FROM record_resolved GROUP BY 1, 2, 3, 4
"""

REFUSED = """
SELECT doc, patient_id IS NULL FROM record_resolved
WHERE patient_id IS NULL OR rank > 1 ORDER BY seq
"""


@dataclass
class PgBulkRecordWriter(WriterState):
    """Loads all of records.ndjson with COPY and set-based SQL."""

    def write_all(self, output_uri: str, progress: Callable[[int], None] | None = None) -> None:
        """Stage, resolve and upsert every record of the run."""
        db.session.flush()  # identifiers the resolver added must be visible to the joins
        connection = db.session.connection()
        connection.execute(
            text("CREATE TEMP TABLE record_lines (seq bigserial, doc jsonb) ON COMMIT DROP")
        )
        uri = storage.join(output_uri, RECORDS_FILE)
        if storage.exists(uri):
            with storage.open_binary(uri) as handle:
                copy_from(COPY_LINES, handle)
        connection.execute(text(RESOLVE))
        connection.execute(text(UPSERT))
        # Fresh statistics, or the planner keeps its picture of the table before this load
        # and the cost recomputation that follows scans every record once per chunk.
        connection.execute(text("ANALYZE medical_record"))
        self.touched_patients = set(
            connection.execute(
                text(
                    "SELECT DISTINCT patient_id FROM record_resolved WHERE rank = 1 "
                    "AND patient_id IS NOT NULL"
                )
            ).scalars()
        )
        self._count_totals(connection)
        self._collect_refused(connection)
        if progress:
            progress(self.written + len(self.refused))

    def _count_totals(self, connection) -> None:
        for system, ref, month, loaded, cents, count in connection.execute(text(TOTALS)):
            bucket = self.totals.loaded if loaded else self.totals.refused
            bucket[(system, ref, month)] = [int(cents), int(count)]
            if loaded:
                self.written += int(count)

    def _collect_refused(self, connection) -> None:
        for doc, unknown in connection.execute(text(REFUSED)):
            self.refused.append(refused_row(doc, UNKNOWN_PATIENT if unknown else DUPLICATE_ID))
