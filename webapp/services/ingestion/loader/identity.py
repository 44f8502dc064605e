"""One person, several systems: tie each source patient id to a platform patient.

Set-based, however many patients a run holds: the run's patient rows are staged (COPY on
PostgreSQL) with their match keys computed once, then a few INSERT ... SELECT / UPDATE ...
FROM statements link each new source id to the oldest patient with its match key, or create
the patient. Rows are taken in file order, so the first row of a new person creates them.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import count

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    select,
    text,
    tuple_,
)

from webapp.common.clock import utcnow
from webapp.database import bulk_insert, refresh_statistics, reserve_ids
from webapp.extensions import db
from webapp.models import Patient, PatientIdentifier
from webapp.services.ingestion.loader.output_files import batched
from webapp.services.patients.names import match_key, search_name

SourceKey = tuple[str, str]
BATCH = 10_000

STAGED = (
    "seq", "source_system", "source_patient_id", "given_name", "family_name", "birth_date",
    "sex", "deceased_date", "address", "city", "state", "postal_code", "search_name",
    "match_key",
)  # fmt: skip
PATIENT_COLUMNS = STAGED[3:]

# The first row of each source id not stored before: the identities this load adds.
NEW_IDENTITIES = """
INSERT INTO patient_new (seq, source_system, source_patient_id, match_key)
SELECT seq, source_system, source_patient_id, match_key FROM (
    SELECT seq, source_system, source_patient_id, match_key,
           row_number() OVER (PARTITION BY source_system, source_patient_id ORDER BY seq) AS n
    FROM patient_stage
) s
WHERE n = 1 AND NOT EXISTS (
    SELECT 1 FROM patient_identifier pi
    WHERE pi.source_system = s.source_system AND pi.source_patient_id = s.source_patient_id
)
"""

# Same person as a stored patient: the oldest one with the same match key.
MATCH_STORED = """
UPDATE patient_new SET patient_id = m.id, link_method = 'demographic-match'
FROM (
    SELECT p.match_key, min(p.id) AS id FROM patient p
    WHERE p.match_key IN (SELECT match_key FROM patient_new WHERE match_key IS NOT NULL)
    GROUP BY p.match_key
) m
WHERE patient_new.match_key = m.match_key
"""

# Everyone else is new, except a later row with the match key of an earlier one; creators
# are numbered in file order, so their ids follow it.
CREATORS = """
UPDATE patient_new SET n = c.n, link_method = 'new'
FROM (
    SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM patient_new
    WHERE patient_id IS NULL AND (match_key IS NULL OR seq IN (
        SELECT min(seq) FROM patient_new WHERE patient_id IS NULL GROUP BY match_key
    ))
) c
WHERE patient_new.seq = c.seq
"""

MATCH_CREATED = """
UPDATE patient_new SET patient_id = c.patient_id, link_method = 'demographic-match'
FROM (SELECT match_key, patient_id FROM patient_new WHERE link_method = 'new') c
WHERE patient_new.patient_id IS NULL AND patient_new.match_key = c.match_key
"""

ADD_PATIENTS = f"""
INSERT INTO patient (id, {", ".join(PATIENT_COLUMNS)}, created_at, updated_at)
SELECT n.patient_id, {", ".join(f"s.{c}" for c in PATIENT_COLUMNS)}, :now, :now
FROM patient_new n JOIN patient_stage s ON s.seq = n.seq
WHERE n.link_method = 'new'
"""

ADD_IDENTIFIERS = """
INSERT INTO patient_identifier (patient_id, source_system, source_patient_id, link_method,
                                created_at)
SELECT patient_id, source_system, source_patient_id, link_method, :now FROM patient_new
"""


def _date(text_: str | None) -> date | None:
    return date.fromisoformat(text_) if text_ else None


def _staged(seq: int, row: dict) -> tuple:
    given, family = row.get("given_name") or "", row.get("family_name") or ""
    birth, sex = _date(row.get("birth_date")), row.get("sex") or "unknown"
    return (
        seq, row["source_system"], str(row["source_patient_id"]), given, family, birth, sex,
        _date(row.get("deceased_date")), row.get("address"), row.get("city"), row.get("state"),
        row.get("postal_code"), search_name(given, family),
        match_key(row.get("given_name"), row.get("family_name"), birth, sex) or None,
    )  # fmt: skip


def _tables() -> tuple[Table, Table]:
    metadata = MetaData()
    temporary = {"prefixes": ["TEMPORARY"]}
    stage = Table(
        "patient_stage",
        metadata,
        Column("seq", Integer),
        *(Column(name, String) for name in STAGED[1:5]),
        Column("birth_date", Date),
        Column("sex", String),
        Column("deceased_date", Date),
        *(Column(name, String) for name in STAGED[8:]),
        **temporary,
    )
    new = Table(
        "patient_new",
        metadata,
        Column("seq", Integer),
        Column("source_system", String),
        Column("source_patient_id", String),
        Column("match_key", String),
        Column("patient_id", Integer),
        Column("link_method", String),
        Column("n", Integer),
        **temporary,
    )
    return stage, new


@dataclass
class PatientResolver:
    """Maps (source_system, source_patient_id) to patient ids, creating or linking as needed."""

    known: dict[SourceKey, int] = field(default_factory=dict)
    created: int = 0
    linked: int = 0

    def resolve_all(self, rows: Iterable[dict]) -> set[str]:
        """Link or create the patient of every new source id; returns the source systems seen.

        The rows are streamed to staging in batches, so memory does not grow with their number.
        """
        stage, new = _tables()
        connection = db.session.connection()
        stage.create(connection)
        new.create(connection)
        numbers = count(1)
        for batch in batched(iter(rows), BATCH):
            bulk_insert(stage, STAGED, [_staged(next(numbers), row) for row in batch])
        refresh_statistics(stage.name)
        systems = set(db.session.scalars(text("SELECT DISTINCT source_system FROM patient_stage")))
        self._resolve(connection)
        stage.drop(connection)
        new.drop(connection)
        return systems

    def _resolve(self, connection) -> None:
        connection.execute(text(NEW_IDENTITIES))
        refresh_statistics("patient_new")
        connection.execute(text(MATCH_STORED))
        connection.execute(text(CREATORS))
        creators = connection.scalar(text("SELECT count(n) FROM patient_new")) or 0
        if creators:
            first = reserve_ids(Patient.__table__, creators)
            connection.execute(
                text("UPDATE patient_new SET patient_id = :first + n - 1 WHERE n IS NOT NULL"),
                {"first": first},
            )
        connection.execute(text(MATCH_CREATED))
        now = bindparam("now", utcnow(), type_=DateTime(timezone=True))
        connection.execute(text(ADD_PATIENTS).bindparams(now))
        connection.execute(text(ADD_IDENTIFIERS).bindparams(now))
        self.created = creators
        self.linked = connection.scalar(
            text("SELECT count(*) FROM patient_new WHERE link_method = 'demographic-match'")
        )

    def patient_for(self, key: SourceKey) -> int | None:
        """The patient of a source id already seen in this load or stored before."""
        if key not in self.known:
            self.load_known([key])
        return self.known.get(key)

    def load_known(self, keys: Iterable[SourceKey]) -> None:
        """Look up, in one query, the stored patients of the source ids not looked up yet."""
        missing = list({k for k in keys if k not in self.known})
        for chunk in _chunks(missing, 500):
            found = db.session.execute(
                select(
                    PatientIdentifier.source_system,
                    PatientIdentifier.source_patient_id,
                    PatientIdentifier.patient_id,
                ).where(
                    tuple_(
                        PatientIdentifier.source_system, PatientIdentifier.source_patient_id
                    ).in_(chunk)
                )
            )
            for system, source_id, patient_id in found:
                self.known[(system, source_id)] = patient_id


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
