"""The PostgreSQL path of the record load: records.tsv goes to the server as it is.

records.tsv is in COPY's own text format, so it is COPYed straight into a typed staging table;
patients are resolved, repeated ids found and records upserted by set-based SQL, so no record
is parsed in Python. Only records that are new or changed are written, and the (patient, month)
pairs they leave or enter are what the cost recomputation touches.

Staged records are split by an anti-join on the unique key: new ones go in by a plain INSERT
(no ON CONFLICT: a speculative insert per row), sorted by patient so that the two patient
indexes fill in order; existing ones are rewritten by one UPDATE only where a column differs.
Loads take an advisory lock first, so no other load can add a key between the split and the
INSERT. One GROUP BY (record_sums) gives the control totals, the new months and the patients
written. The touched months stay in load_touched, where the cost recomputation
reads them.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import text

from pipeline.contract import PLATFORM_PATIENT_ID, RECORD_COLUMNS, RECORDS_FILE, SOURCE_PATIENT_ID
from webapp.database import copy_from, hold_transaction_lock, tune_bulk_load
from webapp.extensions import db
from webapp.services import storage
from webapp.services.ingestion.loader.record_store import KEY, UPDATABLE
from webapp.services.ingestion.loader.records import (
    DUPLICATE_ID,
    UNKNOWN_PATIENT,
    WriterState,
    refused_row,
)

BATCH = 10_000
CHUNK_ROWS = 250_000
# Any constant will do: it names the advisory lock that serialises record loads.
LOAD_LOCK_KEY = 0x61694B65794C

# The staging table's columns are records.tsv's, typed as medical_record stores them.
STAGE = """
CREATE TEMP TABLE record_lines (
    source_system text, source_record_id text, platform_patient_id bigint,
    source_patient_id text, kind text, recorded_at timestamptz, record_date date, month text,
    diagnosis text, treatment text, prescription text, cost numeric(12, 2), cost_source text,
    notes text, file text, generation text, position bigint, seq bigserial
) ON COMMIT DROP
"""
COPY_LINES = f"COPY record_lines ({', '.join(RECORD_COLUMNS)}) FROM STDIN"

# Rows whose record id comes again later in the run: only the last one of each is written.
# A hash aggregate on the key, not a sort of every staged row by it.
LATER = """
CREATE TEMP TABLE record_later ON COMMIT DROP AS
SELECT l.seq FROM record_lines l
JOIN (SELECT source_system, source_record_id, max(seq) AS last FROM record_lines
      GROUP BY source_system, source_record_id HAVING count(*) > 1) d
  USING (source_system, source_record_id)
WHERE l.seq < d.last
"""

RESOLVE = """
CREATE TEMP TABLE record_resolved ON COMMIT DROP AS
SELECT l.seq, l.source_system, l.source_record_id,
       coalesce(pi.patient_id, p.id) AS patient_id,
       coalesce(l.platform_patient_id::text, l.source_patient_id) AS ref,
       l.kind, l.record_date, l.recorded_at, l.month, l.diagnosis, l.treatment, l.prescription,
       l.cost, l.notes, nullif(right(l.file, 500), '') AS source_file,
       nullif(left(l.position::text, 60), '') AS source_position, m.id AS existing_id,
       x.seq IS NULL AS latest
FROM record_lines l
LEFT JOIN record_later x ON x.seq = l.seq
LEFT JOIN patient_identifier pi
       ON pi.source_system = l.source_system AND pi.source_patient_id = l.source_patient_id
LEFT JOIN patient p ON p.id = l.platform_patient_id
LEFT JOIN medical_record m
       ON m.source_system = l.source_system AND m.source_record_id = l.source_record_id
"""

WRITTEN = "s.patient_id IS NOT NULL AND s.latest"
ANY_EXISTING = "SELECT EXISTS (SELECT FROM record_sums WHERE written AND NOT new)"

# A record moving to another patient or month leaves its old (patient, month) to recompute.
MOVED_FROM = f"""
INSERT INTO load_touched (patient_id, month)
SELECT m.patient_id, m.month FROM record_resolved s JOIN medical_record m ON m.id = s.existing_id
WHERE {WRITTEN} AND (m.patient_id, m.month) IS DISTINCT FROM (s.patient_id, s.month)
"""

COLUMNS = (*KEY, *UPDATABLE, "created_at", "updated_at")
INSERT_NEW = f"""
INSERT INTO medical_record ({", ".join(COLUMNS)})
SELECT {", ".join(f"s.{c}" for c in COLUMNS[:-2])}, now(), now() FROM record_resolved s
WHERE {WRITTEN} AND s.existing_id IS NULL AND s.seq BETWEEN :first AND :last
ORDER BY s.patient_id, s.record_date
"""
NEW_MONTHS = """
INSERT INTO load_touched (patient_id, month)
SELECT DISTINCT patient_id, month FROM record_sums WHERE written AND new
"""

UPDATE_CHANGED = f"""
WITH written AS (
    UPDATE medical_record m
    SET {", ".join(f"{c} = s.{c}" for c in UPDATABLE)}, updated_at = now()
    FROM record_resolved s
    WHERE m.id = s.existing_id AND {WRITTEN}
      AND ({", ".join(f"m.{c}" for c in UPDATABLE)})
          IS DISTINCT FROM ({", ".join(f"s.{c}" for c in UPDATABLE)})
    RETURNING m.patient_id, m.month
)
INSERT INTO load_touched (patient_id, month) SELECT DISTINCT patient_id, month FROM written
"""

# One pass over the resolved rows gives everything later steps count: the control totals,
# the new records' months and the patients written (a few rows per patient and month).
SUMS = f"""
CREATE TEMP TABLE record_sums ON COMMIT DROP AS
SELECT s.source_system, s.ref, s.month, s.patient_id, {WRITTEN} AS written,
       s.existing_id IS NULL AS new, sum(s.cost * 100)::bigint AS cents, count(*) AS records
FROM record_resolved s GROUP BY 1, 2, 3, 4, 5, 6
"""
WRITTEN_PATIENTS = "SELECT DISTINCT patient_id FROM record_sums WHERE written"

TOTALS = """
SELECT source_system, ref, month, written, sum(cents), sum(records)
FROM record_sums GROUP BY 1, 2, 3, 4
"""

REFUSED = """
SELECT l.source_system, l.source_record_id, l.platform_patient_id, l.source_patient_id, l.file,
       l.position, r.patient_id IS NULL
FROM record_resolved r JOIN record_lines l USING (seq)
WHERE r.patient_id IS NULL OR NOT r.latest ORDER BY r.seq
"""


@dataclass
class PgBulkRecordWriter(WriterState):
    """Loads all of records.tsv with COPY and set-based SQL."""

    def write_all(self, output_uri: str, progress: Callable[[int], None] | None = None) -> None:
        """Stage, resolve and upsert every record of the run."""
        db.session.flush()  # identifiers the resolver added must be visible to the joins
        connection = db.session.connection()
        # Held to the end of the transaction: the new/existing split stays true until commit.
        hold_transaction_lock(LOAD_LOCK_KEY)
        tune_bulk_load()
        connection.execute(text(STAGE))
        connection.execute(
            text("CREATE TEMP TABLE load_touched (patient_id bigint, month text) ON COMMIT DROP")
        )
        uri = storage.join(output_uri, RECORDS_FILE)
        with self.times.step("copy records"):
            if storage.exists(uri):
                with storage.open_binary(uri) as handle:
                    copy_from(COPY_LINES, handle)
        with self.times.step("resolve records"):
            connection.execute(text(LATER))
            connection.execute(text("ANALYZE record_later"))
            connection.execute(text(RESOLVE))
            connection.execute(text("CREATE INDEX ON record_resolved (seq)"))
            connection.execute(text("ANALYZE record_resolved"))
            connection.execute(text(SUMS))
            connection.execute(text("ANALYZE record_sums"))
        with self.times.step("upsert records"):
            # A run of new records only (the usual first load) skips two scans of them.
            existing = connection.execute(text(ANY_EXISTING)).scalar()
            if existing:
                connection.execute(text(MOVED_FROM))
                connection.execute(text(UPDATE_CHANGED))
            self._insert_new(connection)
            connection.execute(text(NEW_MONTHS))
            # Fresh statistics, or the planner keeps its picture of the table before this load
            # and the steps that follow scan every record once per chunk.
            connection.execute(text("ANALYZE medical_record, load_touched"))
        with self.times.step("count totals"):
            self._count_totals(connection)
            # The cost recomputation reads them where they are.
            self.touched_months, self.staged_months = set(), "load_touched"
            self.touched_patients = set(connection.execute(text(WRITTEN_PATIENTS)).scalars())
        if progress:
            progress(self.written + sum(count for _, count in self.totals.refused.values()))

    def _insert_new(self, connection) -> None:
        # Bounded chunks in file order: each sorts in memory, and touches a slice of the
        # unique key's index instead of all of it, so a run four times bigger costs four times.
        first, last = connection.execute(text("SELECT min(seq), max(seq) FROM record_lines")).one()
        for start in range(first or 1, (last or 0) + 1, CHUNK_ROWS):
            bounds = {"first": start, "last": start + CHUNK_ROWS - 1}
            connection.execute(text(INSERT_NEW), bounds)

    def _count_totals(self, connection) -> None:
        for system, ref, month, loaded, cents, count in connection.execute(text(TOTALS)):
            bucket = self.totals.loaded if loaded else self.totals.refused
            bucket[(system, ref, month)] = [int(cents), int(count)]
            if loaded:
                self.written += int(count)

    def refused_rows(self) -> Iterator[dict]:
        """The refused records' reject rows, streamed from the staging tables (file order)."""
        query = text(REFUSED).execution_options(stream_results=True, yield_per=BATCH)
        for (
            system,
            record_id,
            platform,
            source,
            file,
            position,
            unknown,
        ) in db.session.connection().execute(query):
            patient = {PLATFORM_PATIENT_ID: platform} if platform is not None else {}
            if source is not None:
                patient[SOURCE_PATIENT_ID] = source
            row = {
                "source_system": system,
                "source_record_id": record_id,
                "patient": patient,
                "provenance": {"file": file, "position": position},
            }
            yield refused_row(row, UNKNOWN_PATIENT if unknown else DUPLICATE_ID)
