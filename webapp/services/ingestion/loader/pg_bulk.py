"""The PostgreSQL path of the record load: the NDJSON goes to the server as it is.

records.ndjson is COPYed line by line into a temporary json table and parsed once per line by
json_to_record; patients are resolved, repeated ids ranked and records upserted by set-based
SQL, so no record is parsed in Python. Only records that are new or changed are written, and
the (patient, month) pairs they leave or enter are what the cost recomputation touches.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text

from pipeline.contract import RECORDS_FILE
from webapp.database import copy_from, tune_bulk_load
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

# One parse per line; each column typed as medical_record stores it.
RESOLVE = """
CREATE TEMP TABLE record_resolved ON COMMIT DROP AS
SELECT l.seq, r.source_system, r.source_record_id,
       coalesce(pi.patient_id, p.id) AS patient_id,
       coalesce(r.patient->>'platform_patient_id', r.patient->>'source_patient_id') AS ref,
       r.kind, r.record_date::date AS record_date, r.recorded_at::timestamptz AS recorded_at,
       r.month, r.diagnosis, r.treatment, r.prescription, r.cost::numeric(12, 2) AS cost,
       r.notes, nullif(right(r.provenance->>'file', 500), '') AS source_file,
       nullif(left(r.provenance->>'position', 60), '') AS source_position,
       row_number() OVER (PARTITION BY r.source_system, r.source_record_id
                          ORDER BY l.seq DESC) AS rank
FROM record_lines l
CROSS JOIN LATERAL json_to_record(l.doc) AS r(
    source_system text, source_record_id text, patient json, kind text, recorded_at text,
    record_date text, month text, diagnosis text, treatment text, prescription text, cost text,
    notes text, provenance json)
LEFT JOIN patient_identifier pi
       ON pi.source_system = r.source_system
      AND pi.source_patient_id = r.patient->>'source_patient_id'
LEFT JOIN patient p ON p.id = (r.patient->>'platform_patient_id')::bigint
"""

# A record moving to another patient or month leaves its old (patient, month) to recompute.
MOVED_FROM = """
INSERT INTO load_touched (patient_id, month)
SELECT m.patient_id, m.month FROM record_resolved s
JOIN medical_record m USING (source_system, source_record_id)
WHERE s.patient_id IS NOT NULL AND s.rank = 1
  AND (m.patient_id, m.month) IS DISTINCT FROM (s.patient_id, s.month)
"""

COLUMNS = (*KEY, *UPDATABLE, "created_at", "updated_at")
UPSERT = f"""
WITH written AS (
    INSERT INTO medical_record ({", ".join(COLUMNS)})
    SELECT {", ".join(COLUMNS[:-2])}, now(), now() FROM record_resolved
    WHERE patient_id IS NOT NULL AND rank = 1
    ON CONFLICT ({", ".join(KEY)}) DO UPDATE
    SET {", ".join(f"{c} = EXCLUDED.{c}" for c in (*UPDATABLE, "updated_at"))}
    WHERE ({", ".join(f"medical_record.{c}" for c in UPDATABLE)})
          IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in UPDATABLE)})
    RETURNING patient_id, month
)
INSERT INTO load_touched (patient_id, month) SELECT DISTINCT patient_id, month FROM written
"""

TOTALS = """
SELECT source_system, ref, month, patient_id IS NOT NULL AND rank = 1,
       sum(cost * 100)::bigint, count(*)
FROM record_resolved GROUP BY 1, 2, 3, 4
"""

REFUSED = """
SELECT l.doc, r.patient_id IS NULL FROM record_resolved r JOIN record_lines l USING (seq)
WHERE r.patient_id IS NULL OR r.rank > 1 ORDER BY r.seq
"""


@dataclass
class PgBulkRecordWriter(WriterState):
    """Loads all of records.ndjson with COPY and set-based SQL."""

    def write_all(self, output_uri: str, progress: Callable[[int], None] | None = None) -> None:
        """Stage, resolve and upsert every record of the run."""
        db.session.flush()  # identifiers the resolver added must be visible to the joins
        connection = db.session.connection()
        tune_bulk_load()
        connection.execute(
            text("CREATE TEMP TABLE record_lines (seq bigserial, doc json) ON COMMIT DROP")
        )
        connection.execute(
            text("CREATE TEMP TABLE load_touched (patient_id bigint, month text) ON COMMIT DROP")
        )
        uri = storage.join(output_uri, RECORDS_FILE)
        with self.times.step("copy records"):
            if storage.exists(uri):
                with storage.open_binary(uri) as handle:
                    copy_from(COPY_LINES, handle)
        with self.times.step("resolve records"):
            connection.execute(text(RESOLVE))
            connection.execute(text("ANALYZE record_resolved"))
        with self.times.step("upsert records"):
            connection.execute(text(MOVED_FROM))
            connection.execute(text(UPSERT))
            # Fresh statistics, or the planner keeps its picture of the table before this load
            # and the steps that follow scan every record once per chunk.
            connection.execute(text("ANALYZE medical_record, load_touched"))
        with self.times.step("count totals"):
            self._count_totals(connection)
            self._collect_refused(connection)
            self.touched_months = {
                (int(patient), month)
                for patient, month in connection.execute(
                    text("SELECT DISTINCT patient_id, month FROM load_touched")
                )
            }
            self.touched_patients = set(
                connection.execute(
                    text(
                        "SELECT DISTINCT patient_id FROM record_resolved WHERE rank = 1 "
                        "AND patient_id IS NOT NULL"
                    )
                ).scalars()
            )
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
