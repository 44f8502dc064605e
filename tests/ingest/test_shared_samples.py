"""`flask ingest` on the real sample exports: every file loads, costs add up, reruns are no-ops."""

import csv
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from tests.support.factories import make_patient
from webapp.models import (
    IngestReject,
    MedicalRecord,
    Patient,
    PatientCost,
    PatientIdentifier,
    PipelineRun,
)


def independent_csv_costs(folder) -> dict[tuple[str, str], Decimal]:
    """Cost per (Synthea patient id, month) straight from the raw CSV files."""
    totals = defaultdict(Decimal)
    for name, column in (("encounters.csv", "TOTAL_CLAIM_COST"), ("medications.csv", "TOTALCOST")):
        with open(folder / name, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                totals[(row["PATIENT"], row["START"][:7])] += Decimal(row[column])
    return totals


def snapshot(db):
    """Every row the loader writes, minus nothing: a second load must leave it equal."""
    db.session.expire_all()
    return {
        "records": db.session.execute(
            select(
                MedicalRecord.source_system,
                MedicalRecord.source_record_id,
                MedicalRecord.patient_id,
                MedicalRecord.cost,
                MedicalRecord.duplicate_of_id,
                MedicalRecord.updated_at,
            ).order_by(MedicalRecord.id)
        ).all(),
        "costs": db.session.execute(
            select(
                PatientCost.patient_id,
                PatientCost.month,
                PatientCost.total_cost,
                PatientCost.record_count,
                PatientCost.updated_at,
            ).order_by(PatientCost.id)
        ).all(),
        "patients": db.session.scalar(select(func.count(Patient.id))),
        "identifiers": db.session.scalar(select(func.count(PatientIdentifier.id))),
    }


def load_all(ingest, shared_data):
    synthea = shared_data / "synthea-ca"
    return ingest(synthea / "csv", synthea / "fhir", shared_data / "legacy-csv")


def test_every_sample_file_loads_and_costs_match_the_raw_files(ingest, shared_data, db):
    for number in range(1, 5):  # the legacy files refer to platform patients 1..4
        make_patient(given=f"Legacy{number}", family="Patient")
    result = load_all(ingest, shared_data)
    assert "Reconciliation:    ok" in result.output
    run = db.session.scalars(select(PipelineRun)).one()
    assert run.status == "succeeded" and run.trigger == "cli"
    assert run.files_count == 17 and run.rows_rejected == 0
    assert run.reconciliation["status"] == "ok"
    # Patient-month costs of CSV-only patients equal an independent sum of the raw CSV.
    raw = independent_csv_costs(shared_data / "synthea-ca" / "csv")
    identifiers = dict(
        db.session.execute(
            select(PatientIdentifier.source_patient_id, PatientIdentifier.patient_id).where(
                PatientIdentifier.source_system == "csv"
            )
        ).all()
    )
    stored = {
        (c.patient_id, c.month): c.total_cost for c in db.session.scalars(select(PatientCost))
    }
    fhir_linked = set(
        db.session.scalars(
            select(PatientIdentifier.patient_id).where(PatientIdentifier.source_system == "fhir")
        )
    )
    checked = 0
    for (source_id, month), total in raw.items():
        patient_id = identifiers[source_id]
        if patient_id in fhir_linked:
            continue
        assert stored.get((patient_id, month), Decimal("0.00")) == total, (source_id, month)
        checked += 1
    assert checked > 1000


def test_every_patient_cost_equals_the_sum_of_its_counted_records(ingest, shared_data, db):
    for number in range(1, 5):
        make_patient(given=f"Legacy{number}", family="Patient")
    load_all(ingest, shared_data)
    sums = db.session.execute(
        select(
            MedicalRecord.patient_id,
            MedicalRecord.month,
            func.sum(MedicalRecord.cost),
            func.count(),
        )
        .where(MedicalRecord.duplicate_of_id.is_(None))
        .group_by(MedicalRecord.patient_id, MedicalRecord.month)
    ).all()
    costs = {
        (c.patient_id, c.month): (c.total_cost, c.record_count)
        for c in db.session.scalars(select(PatientCost))
    }
    assert costs == {(p, m): (Decimal(t), n) for p, m, t, n in sums}


def test_fhir_patients_are_the_same_people_as_in_the_csv_export(ingest, shared_data, db):
    load_all(ingest, shared_data)
    fhir = db.session.scalars(
        select(PatientIdentifier).where(PatientIdentifier.source_system == "fhir")
    ).all()
    assert len(fhir) == 5
    for identifier in fhir:
        systems = set(
            db.session.scalars(
                select(PatientIdentifier.source_system).where(
                    PatientIdentifier.patient_id == identifier.patient_id
                )
            )
        )
        assert systems == {"csv", "fhir"}
        assert identifier.link_method == "demographic-match"
    assert db.session.scalar(select(func.count(Patient.id))) == 59


def test_the_same_visit_from_two_systems_counts_once(ingest, shared_data, db):
    load_all(ingest, shared_data)
    duplicates = db.session.scalars(
        select(MedicalRecord).where(MedicalRecord.duplicate_of_id.is_not(None))
    ).all()
    assert duplicates, "the CSV and FHIR exports share visits"
    for duplicate in duplicates:
        original = db.session.get(MedicalRecord, duplicate.duplicate_of_id)
        assert original.patient_id == duplicate.patient_id
        assert original.recorded_at == duplicate.recorded_at
        assert (original.kind, original.cost) == (duplicate.kind, duplicate.cost)
        assert original.source_system != duplicate.source_system


def test_legacy_rows_of_unknown_patients_are_rejected_with_their_reason(ingest, shared_data, db):
    result = ingest(shared_data / "legacy-csv")
    assert "unknown_patient" in result.output
    rejects = db.session.scalars(select(IngestReject)).all()
    assert rejects and {r.reason for r in rejects} == {"unknown_patient"}
    assert all(r.stage == "loader" and r.file.endswith(".csv") for r in rejects)
    assert db.session.scalar(select(func.count(MedicalRecord.id))) == 0
    run = db.session.scalars(select(PipelineRun)).one()
    assert run.rows_rejected == len(rejects)
    assert run.reconciliation["status"] == "ok"


def test_a_second_load_changes_nothing(ingest, shared_data, db):
    for number in range(1, 5):
        make_patient(given=f"Legacy{number}", family="Patient")
    load_all(ingest, shared_data)
    first = snapshot(db)
    second_run = load_all(ingest, shared_data)
    assert "Patients created:  0" in second_run.output
    assert snapshot(db) == first
