"""The patient chart: demographics, sources, records as visits, costs that match the records."""

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.support.factories import make_patient, make_record
from webapp.models import AuditEvent, PatientIdentifier


def record_ids(response) -> list[int]:
    return [int(rid) for rid in re.findall(r'<tr id="record-(\d+)"', response.get_data(True))]


@pytest.fixture
def patient(db):
    return make_patient("Jerónimo599", "Farías160", date(1971, 2, 3), "male", city="Fresno")


def test_missing_patient_is_a_404_page(doctor):
    response = doctor.get("/patients/987654")
    assert response.status_code == 404
    assert "There is nothing at this address" in response.get_data(as_text=True)
    assert doctor.get("/patients/987654/records.csv").status_code == 404


def test_demographics_and_identifiers(doctor, patient, db):
    db.session.add(
        PatientIdentifier(patient_id=patient.id, source_system="synthea", source_patient_id="u-1")
    )
    db.session.commit()
    html = doctor.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "<h1>Jerónimo599 Farías160</h1>" in html
    assert "1971-02-03" in html and "Fresno" in html
    sources = re.search(r'<table class="data" id="sources">(.*?)</table>', html, re.S).group(1)
    assert "hospital-a" in sources and f"P{patient.id}" in sources
    assert "synthea" in sources and "u-1" in sources


def test_records_newest_first_filtered_and_paginated(doctor, patient):
    made = [make_record(patient, date(2024, 1, day), kind="encounter") for day in range(1, 26)]
    med = make_record(patient, date(2023, 12, 31), kind="medication", prescription="Lisinopril")
    first = record_ids(doctor.get(f"/patients/{patient.id}"))
    assert first == [r.id for r in reversed(made)][:20]
    second = record_ids(doctor.get(f"/patients/{patient.id}?page=2"))
    newest = [r.id for r in reversed(made)]
    assert second == [*newest[20:], med.id]
    assert record_ids(doctor.get(f"/patients/{patient.id}?kind=medication")) == [med.id]
    window = record_ids(doctor.get(f"/patients/{patient.id}?from=2024-01-10&to=2024-01-12"))
    assert window == [made[11].id, made[10].id, made[9].id]
    assert record_ids(doctor.get(f"/patients/{patient.id}?page=999")) == second


@pytest.mark.parametrize(
    "query",
    ["kind=x-ray", "from=2024-02-30", "to=soon", "from=2024-05-01&to=2024-01-01", "page=-1"],
)
def test_bad_filters_never_fail(doctor, patient, query):
    make_record(patient, date(2024, 1, 1))
    response = doctor.get(f"/patients/{patient.id}?{query}")
    assert response.status_code == 200


def test_duplicate_report_shows_one_visit_with_both_sources_and_counts_once(
    doctor, patient, recompute
):
    visit = make_record(patient, date(2024, 2, 1), "300.00", diagnosis="Chest pain")
    make_record(
        patient, date(2024, 2, 1), "300.00", source_system="synthea", duplicate_of_id=visit.id
    )
    recompute(patient)
    response = doctor.get(f"/patients/{patient.id}")
    assert record_ids(response) == [visit.id]
    row = re.search(rf'<tr id="record-{visit.id}">(.*?)</tr>', response.get_data(True), re.S)
    assert "hospital-a, synthea" in row.group(1)
    assert 'id="chart-cost-total">300.00<' in response.get_data(as_text=True)


def test_cost_table_and_chart_sum_to_the_records(doctor, patient, db, recompute):
    costs = {date(2024, 1, 3): "10.10", date(2024, 1, 28): "5.05", date(2024, 4, 2): "99.99"}
    costs |= {date(2023, 11, 30): "1234.56"}
    for when, cost in costs.items():
        make_record(patient, when, cost)
    dup_of = make_record(patient, date(2024, 4, 2), "50.00")
    make_record(patient, date(2024, 4, 2), "50.00", source_system="b", duplicate_of_id=dup_of.id)
    recompute(patient)
    expected: dict[str, Decimal] = {}
    for when, cost in [*costs.items(), (date(2024, 4, 2), "50.00")]:
        month = when.strftime("%Y-%m")
        expected[month] = expected.get(month, Decimal("0")) + Decimal(cost)
    html = doctor.get(f"/patients/{patient.id}").get_data(as_text=True)
    shown = {
        month: Decimal(total.replace(",", ""))
        for month, total in re.findall(
            rf'<tr id="chart-cost-{patient.id}-(\d{{4}}-\d{{2}})">\s*<td>[^<]*</td>\s*'
            r'<td class="num">([\d,.]+)</td>',
            html,
        )
    }
    assert shown == expected
    total = re.search(r'id="chart-cost-total">([\d,.]+)<', html).group(1)
    assert Decimal(total.replace(",", "")) == sum(expected.values()) == Decimal("1399.70")
    bars = dict(re.findall(r'<rect class="bar" data-month="([\d-]+)"[^>]*height="([\d.]+)"', html))
    assert list(bars) == ["2023-11", "2023-12", "2024-01", "2024-02", "2024-03", "2024-04"]
    assert float(bars["2023-12"]) == 0 and float(bars["2023-11"]) > float(bars["2024-04"]) > 0
    assert "<svg" in html and 'role="img"' in html


def test_every_chart_view_is_audited(doctor, patient, db):
    doctor.get(f"/patients/{patient.id}?kind=encounter", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "patients.chart_view")
    ).one()
    assert event.patient_id == patient.id and event.ip_address == "10.9.8.7"
    assert event.details["kind"] == "encounter" and event.actor_email
    assert event.path == f"/patients/{patient.id}?kind=encounter"


def test_htmx_filter_gets_only_the_records(doctor, patient):
    make_record(patient, date(2024, 1, 1))
    html = doctor.get(f"/patients/{patient.id}", headers={"HX-Request": "true"}).get_data(True)
    assert html.lstrip().startswith('<div id="records">') and "<svg" not in html
