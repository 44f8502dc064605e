"""Fast insertion of synthetic patients with records and monthly costs.

Rows go in through webapp.database.bulk_insert (COPY on PostgreSQL). Ids are reserved up front
so records can point at their patients without reading anything back.
"""

from collections.abc import Callable
from datetime import date

from webapp.common.clock import utcnow
from webapp.database import bulk_insert, refresh_statistics, reserve_ids
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


def _refresh_statistics() -> None:
    # Without fresh statistics the planner believes the growing tables are still tiny and
    # recompute_costs scans every record loaded so far: each batch then costs more than the last.
    refresh_statistics("patient", "patient_identifier", "medical_record", "patient_cost")
    db.session.commit()


def add_patients(
    count: int,
    records_per_patient: int = 5,
    seed: int = 2026,
    end: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[int]:
    """Insert `count` synthetic patients with records and costs; returns their id range."""
    end = end or date.today()
    first_id = reserve_ids(Patient.__table__, count)
    analyzed_at = BATCH // 2
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        patients, records, identifiers = _rows(
            first_id + start, size, seed + start, records_per_patient, end
        )
        bulk_insert(Patient.__table__, PATIENT_COLUMNS, patients)
        bulk_insert(PatientIdentifier.__table__, IDENTIFIER_COLUMNS, identifiers)
        bulk_insert(MedicalRecord.__table__, RECORD_COLUMNS, records)
        recompute_costs(range(first_id + start, first_id + start + size))
        db.session.commit()
        if start + size >= analyzed_at * 2:
            _refresh_statistics()
            analyzed_at = start + size
        if progress:
            progress(size)
    return [first_id, first_id + count - 1]
