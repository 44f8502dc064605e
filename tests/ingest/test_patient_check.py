"""The records' patient foreign key, checked once per patient while the per-row triggers rest."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.support.factories import make_patient
from webapp.services.ingestion.loader import patient_check
from webapp.services.ingestion.loader.patient_check import (
    MissingPatient,
    check_patients,
    patients_checked_once,
)

INSERT = """
INSERT INTO medical_record (patient_id, source_system, source_record_id, kind, record_date,
                            month, cost, created_at, updated_at)
VALUES (:patient, 'hospital-a', :record, 'encounter', '2025-01-02', '2025-01', 1, now(), now())
"""
GONE = 987_654_321


def _insert(connection, patient: int, record: str) -> None:
    connection.execute(text(INSERT), {"patient": patient, "record": record})


def _role(connection) -> str:
    return connection.execute(text("SELECT current_setting('session_replication_role')")).scalar()


def test_the_suite_role_takes_the_set_based_path(db):
    assert patient_check.may_skip_triggers(db.session.connection())


def test_records_of_existing_patients_are_written_and_the_triggers_come_back(db):
    patient = make_patient()
    connection = db.session.connection()
    with patients_checked_once(connection, f"SELECT {patient.id} AS patient_id"):
        assert _role(connection) == "replica"
        _insert(connection, patient.id, "r1")
    assert _role(connection) == "origin"
    count = "SELECT count(*) FROM medical_record WHERE patient_id = :p"
    assert connection.execute(text(count), {"p": patient.id}).scalar() == 1
    # The triggers are back: a bad patient is refused row by row again.
    with pytest.raises(IntegrityError):
        _insert(connection, GONE, "r2")
    db.session.rollback()


def test_a_missing_patient_fails_the_block_as_the_trigger_would(db):
    patient = make_patient()
    connection = db.session.connection()
    wanted = f"SELECT * FROM (VALUES ({patient.id}), ({GONE})) AS w (patient_id)"
    with pytest.raises(MissingPatient), patients_checked_once(connection, wanted):
        _insert(connection, GONE, "r1")
    db.session.rollback()


def test_check_counts_each_patient_once_and_ignores_nulls(db):
    patient = make_patient()
    connection = db.session.connection()
    check_patients(
        connection, f"SELECT * FROM (VALUES ({patient.id}), ({patient.id}), (NULL)) w (patient_id)"
    )
    with pytest.raises(MissingPatient):
        check_patients(connection, f"SELECT {GONE} AS patient_id")
    db.session.rollback()


def test_a_role_that_may_not_skip_triggers_keeps_them(db, monkeypatch):
    monkeypatch.setattr(patient_check, "may_skip_triggers", lambda connection: False)
    connection = db.session.connection()
    with pytest.raises(IntegrityError), patients_checked_once(connection, "SELECT 1"):
        assert _role(connection) == "origin"
        _insert(connection, GONE, "r1")
    db.session.rollback()
