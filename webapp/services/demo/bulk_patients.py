"""Fast insertion of synthetic patients with records and monthly costs.

PostgreSQL gets COPY; other backends get batched executemany. Ids are reserved up front so
records can point at their patients without reading anything back.
"""

import csv
import io
from collections.abc import Callable
from datetime import date

from sqlalchemy import func, insert, select, text

from webapp.common.clock import utcnow
from webapp.extensions import db
from webapp.models import MedicalRecord, Patient, PatientIdentifier
from webapp.services.costs.recompute import recompute_costs
from webapp.services.demo import generator as demo_data
from webapp.services.patients.names import match_key, search_name

DEMO_SOURCE = "aikey-demo"
BATCH = 5_000

PATIENT_COLUMNS = (
    "id",
    "given_name",
    "family_name",
    "birth_date",
    "sex",
    "city",
    "search_name",
    "match_key",
    "created_at",
    "updated_at",
)
RECORD_COLUMNS = (
    "patient_id",
    "source_system",
    "source_record_id",
    "kind",
    "record_date",
    "month",
    "diagnosis",
    "treatment",
    "prescription",
    "cost",
    "created_at",
    "updated_at",
)
IDENTIFIER_COLUMNS = (
    "patient_id",
    "source_system",
    "source_patient_id",
    "link_method",
    "created_at",
)


def _reserve_ids(count: int) -> int:
    """First id of a block of `count` patient ids nobody else will take."""
    if db.session.get_bind().dialect.name == "postgresql":
        first = db.session.scalar(text("SELECT nextval('patient_id_seq')"))
        db.session.execute(
            text("SELECT setval('patient_id_seq', :last)"), {"last": first + count - 1}
        )
        return first
    return (db.session.scalar(select(func.max(Patient.id))) or 0) + 1


def _rows(first_id: int, count: int, seed: int, records_per_patient: int, end: date):
    stamp = utcnow()
    patients, records, identifiers = [], [], []
    for offset, (person, person_records) in enumerate(
        demo_data.generate(count, records_per_patient, seed=seed, end=end)
    ):
        pid = first_id + offset
        patients.append(
            (
                pid,
                person.given_name,
                person.family_name,
                person.birth_date,
                person.sex,
                person.city,
                search_name(person.given_name, person.family_name),
                match_key(person.given_name, person.family_name, person.birth_date, person.sex),
                stamp,
                stamp,
            )
        )
        identifiers.append((pid, DEMO_SOURCE, str(pid), "platform", stamp))
        for index, record in enumerate(person_records):
            records.append(
                (
                    pid,
                    DEMO_SOURCE,
                    f"{pid}-{index}",
                    record.kind,
                    record.record_date,
                    record.record_date.strftime("%Y-%m"),
                    record.diagnosis,
                    record.treatment,
                    record.prescription,
                    record.cost,
                    stamp,
                    stamp,
                )
            )
    return patients, records, identifiers


def _copy(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["\\N" if value is None else value for value in row])
    buffer.seek(0)
    cursor = db.session.connection().connection.driver_connection.cursor()
    cursor.copy_expert(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
    )


def _refresh_statistics() -> None:
    # Without fresh statistics the planner believes the growing tables are still tiny and
    # recompute_costs scans every record loaded so far: each batch then costs more than the last.
    db.session.execute(text("ANALYZE patient, patient_identifier, medical_record, patient_cost"))
    db.session.commit()


def _executemany(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    db.session.execute(insert(model), [dict(zip(columns, row, strict=True)) for row in rows])


def add_patients(
    count: int,
    records_per_patient: int = 5,
    seed: int = 2026,
    end: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[int]:
    """Insert `count` synthetic patients with records and costs; returns their id range."""
    end = end or date.today()
    use_copy = db.session.get_bind().dialect.name == "postgresql"
    first_id = _reserve_ids(count)
    analyzed_at = BATCH // 2
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        patients, records, identifiers = _rows(
            first_id + start, size, seed + start, records_per_patient, end
        )
        if use_copy:
            _copy("patient", PATIENT_COLUMNS, patients)
            _copy("patient_identifier", IDENTIFIER_COLUMNS, identifiers)
            _copy("medical_record", RECORD_COLUMNS, records)
        else:
            _executemany(Patient, PATIENT_COLUMNS, patients)
            _executemany(PatientIdentifier, IDENTIFIER_COLUMNS, identifiers)
            _executemany(MedicalRecord, RECORD_COLUMNS, records)
        recompute_costs(range(first_id + start, first_id + start + size))
        db.session.commit()
        if use_copy and start + size >= analyzed_at * 2:
            _refresh_statistics()
            analyzed_at = start + size
        if progress:
            progress(size)
    return [first_id, first_id + count - 1]
