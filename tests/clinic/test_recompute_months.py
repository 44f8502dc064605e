"""Recomputing chosen months of patient_cost, from a list and from a table of the transaction."""

from datetime import date

from sqlalchemy import select, text

from tests.support.factories import make_patient, make_record
from webapp.models import PatientCost
from webapp.services.costs.recompute import recompute_months


def _costs(db) -> dict[tuple[int, str], str]:
    rows = db.session.execute(
        select(PatientCost.patient_id, PatientCost.month, PatientCost.total_cost)
    )
    return {(patient, month): str(total) for patient, month, total in rows}


def test_months_listed_and_staged_are_recomputed_and_no_others(db):
    first, second = make_patient(), make_patient()
    make_record(first, date(2025, 1, 5), "10.00")
    make_record(first, date(2025, 2, 5), "20.00")
    make_record(second, date(2025, 3, 5), "30.00")
    make_record(second, date(2025, 4, 5), "40.00")
    db.session.execute(text("CREATE TEMP TABLE staged (patient_id bigint, month text)"))
    db.session.execute(
        text("INSERT INTO staged VALUES (:p, '2025-03'), (:p, '2025-03')"), {"p": second.id}
    )
    recompute_months({(first.id, "2025-01")}, staged="staged")
    assert _costs(db) == {(first.id, "2025-01"): "10.00", (second.id, "2025-03"): "30.00"}
    db.session.rollback()


def test_a_staged_table_alone_is_enough(db):
    patient = make_patient()
    make_record(patient, date(2025, 1, 5), "10.00")
    db.session.execute(text("CREATE TEMP TABLE staged (patient_id bigint, month text)"))
    db.session.execute(text("INSERT INTO staged VALUES (:p, '2025-01')"), {"p": patient.id})
    recompute_months(set(), staged="staged")
    assert _costs(db) == {(patient.id, "2025-01"): "10.00"}
    db.session.rollback()
