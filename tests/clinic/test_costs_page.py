"""The cost table across patients and the CSV exports."""

import csv
import io
import re
from datetime import date

from sqlalchemy import select, update

from tests.support.factories import make_patient, make_record
from webapp.models import AuditEvent, PatientCost
from webapp.services.costs.table import PER_PAGE


def row_ids(response) -> list[str]:
    return re.findall(r'<tr id="(cost-\d+-\d{4}-\d{2})"', response.get_data(as_text=True))


def test_newest_rows_first_each_with_a_stable_id_and_a_chart_link(doctor, db, recompute):
    older, newer = make_patient("Ana", "Old"), make_patient("Bruno", "New")
    make_record(older, date(2024, 1, 1), "5.00")
    recompute(older)
    make_record(newer, date(2023, 6, 1), "6.00")
    recompute(newer)
    response = doctor.get("/costs")
    assert row_ids(response) == [f"cost-{newer.id}-2023-06", f"cost-{older.id}-2024-01"]
    html = response.get_data(as_text=True)
    assert f'<a href="/patients/{newer.id}">Bruno New</a>' in html
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "costs.view")).one()
    assert event.details == {"page": 1}


def test_cost_pages(doctor, db, recompute):
    patient = make_patient()
    for month in range(1, 13):
        for year in (2019, 2020, 2021, 2022, 2023):
            make_record(patient, date(year, month, 1), "1.00")
    recompute(patient)
    first, second = row_ids(doctor.get("/costs")), row_ids(doctor.get("/costs?page=2"))
    assert len(first) == PER_PAGE and len(second) == 60 - PER_PAGE
    assert not set(first) & set(second)
    assert 'rel="next"' in doctor.get("/costs").get_data(as_text=True)
    assert 'rel="next"' not in doctor.get("/costs?page=2").get_data(as_text=True)
    for bad in ("0", "-1", "x", "100000000000000000000", "3"):
        assert doctor.get(f"/costs?page={bad}").status_code == 200


def test_cost_csv_is_audited_and_formula_safe(doctor, db, recompute):
    patient = make_patient('=HYPERLINK("http://x")', "@SUM(A1)")
    make_record(patient, date(2024, 2, 1), "12.50")
    recompute(patient)
    response = doctor.get("/costs.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["patient_id", "patient", "month", "total_cost", "record_count", "updated_at"]
    assert rows[1][:5] == [
        str(patient.id),
        '\'=HYPERLINK("http://x") @SUM(A1)',
        "2024-02",
        "12.50",
        "1",
    ]
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "costs.export")).one()


def test_cost_csv_keeps_the_table_order_across_batches(doctor, db, recompute, monkeypatch):
    from webapp.services.costs import table as cost_table

    monkeypatch.setattr(cost_table, "EXPORT_BATCH", 2)
    patients = [make_patient("P", f"F{i}") for i in range(5)]
    for p in patients:
        make_record(p, date(2024, 1, 1))
    recompute(*patients)
    db.session.execute(update(PatientCost).values(updated_at=PatientCost.updated_at))
    db.session.commit()
    rows = list(csv.reader(io.StringIO(doctor.get("/costs.csv").get_data().decode("utf-8-sig"))))[
        1:
    ]
    # Ties on updated_at fall back to the cost row's id, whatever order the rows were made in.
    table_order = db.session.scalars(
        select(PatientCost.patient_id).order_by(PatientCost.id.desc())
    ).all()
    assert [int(r[0]) for r in rows] == table_order


def test_records_csv_is_audited_and_formula_safe(doctor, db):
    patient = make_patient()
    make_record(patient, date(2024, 1, 2), "3.00", diagnosis="-2+3", treatment="+cmd|' /C calc'!A0")
    make_record(patient, date(2024, 3, 4), "4.50", kind="medication", prescription="Aspirin")
    response = doctor.get(f"/patients/{patient.id}/records.csv")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["date", "kind", "diagnosis", "treatment", "prescription", "cost", "sources"]
    assert rows[1] == ["2024-03-04", "medication", "", "", "Aspirin", "4.50", "hospital-a"]
    assert rows[2][:4] == ["2024-01-02", "encounter", "'-2+3", "'+cmd|' /C calc'!A0"]
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "patients.records_export")
    ).one()
    assert event.patient_id == patient.id
