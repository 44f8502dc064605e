"""Doctors see the patients of their hospital: search, chart, costs and exports."""

import re
from datetime import date

import pytest

from tests.support.factories import make_patient, make_record, make_source
from tests.support.pages import search_patients as search
from tests.support.pages import without_csrf_tokens
from webapp.services.ingestion.sources import assign_source, hospital_by_code


def listed_ids(response) -> list[int]:
    """Patient ids in the result table, in order."""
    return [int(pid) for pid in re.findall(r'<tr id="patient-(\d+)"', response.get_data(True))]


@pytest.fixture
def world(db, recompute):
    """Patients of the doctor's hospital (St. Aiken), of Bayview, of both, and of nobody."""
    people = {
        "mine": make_patient("Mina", "Local", date(1970, 1, 2), source=("sagh-emr", "S1")),
        "theirs": make_patient(
            "Theo", "Faraway", date(1985, 6, 7), source=("bayview-emr", "B1"), hospital="BMC"
        ),
        "orphan": make_patient(
            "Otto", "Nobody", date(1990, 3, 4), source=("nowhere", "N1"), hospital=None
        ),
        "shared": make_patient(
            "Sara", "Both", date(1960, 8, 9), source=("bayview-emr", "B2"), hospital="BMC"
        ),
    }
    # Sara is also known to St. Aiken: one identifier from a system of the doctor's hospital.
    from webapp.models import PatientIdentifier

    db.session.add(
        PatientIdentifier(
            patient_id=people["shared"].id, source_system="sagh-emr", source_patient_id="S2"
        )
    )
    db.session.commit()
    for key, person in people.items():
        make_record(person, date(2024, 2, 3), "10.00", source_system=f"{key}-sys")
    recompute(*people.values())
    return people


def test_search_lists_only_patients_of_the_doctors_hospital(doctor, world):
    assert sorted(listed_ids(doctor.get("/patients"))) == sorted(
        [world["mine"].id, world["shared"].id]
    )
    assert listed_ids(search(doctor, name="theo")) == []
    assert listed_ids(search(doctor, identifier="B1")) == []
    assert listed_ids(search(doctor, name="otto")) == []
    assert listed_ids(search(doctor, name="sara")) == [world["shared"].id]


def test_chart_and_export_outside_the_scope_are_restricted(doctor, world, db):
    assert doctor.get(f"/patients/{world['mine'].id}").status_code == 200
    assert doctor.get(f"/patients/{world['shared'].id}").status_code == 200
    for key in ("theirs", "orphan"):
        page = doctor.get(f"/patients/{world[key].id}")
        html = page.get_data(as_text=True)
        assert page.status_code == 403 and "Restricted" in html, key
        assert 'id="break-glass-form"' in html and 'name="csrf_token"' in html
        shown = without_csrf_tokens(html)
        assert "10.00" not in shown and world[key].identifiers[0].source_patient_id not in shown
        export = doctor.get(f"/patients/{world[key].id}/records.csv")
        assert export.status_code == 403 and "Restricted" in export.get_data(as_text=True)
    assert "Bayview Medical Center" in doctor.get(f"/patients/{world['theirs'].id}").text


def test_costs_page_and_export_hold_only_patients_in_scope(doctor, world):
    html = doctor.get("/costs").get_data(as_text=True)
    assert "Mina Local" in html and "Sara Both" in html
    assert "Theo Faraway" not in html and "Otto Nobody" not in html
    csv_text = doctor.get("/costs.csv").get_data(as_text=True)
    ids = {int(line.split(",")[0]) for line in csv_text.splitlines()[1:]}
    assert ids == {world["mine"].id, world["shared"].id}


def test_a_doctor_of_the_other_hospital_sees_the_other_patients(client, auth, world):
    from tests.support.factories import make_doctor_at

    auth.login(make_doctor_at("BMC"))
    assert sorted(listed_ids(client.get("/patients"))) == sorted(
        [world["theirs"].id, world["shared"].id]
    )
    assert client.get(f"/patients/{world['mine'].id}").status_code == 403
    assert client.get(f"/patients/{world['theirs'].id}").status_code == 200


def test_a_doctor_without_an_organization_sees_nobody(client, auth, world):
    from tests.support.factories import make_user

    auth.login(make_user("DOCTOR", organization=None))
    assert listed_ids(client.get("/patients")) == []
    assert client.get(f"/patients/{world['mine'].id}").status_code == 403
    assert "Mina Local" not in client.get("/costs").get_data(as_text=True)


def test_assigning_an_unassigned_system_brings_its_patients_into_scope(doctor, world, db):
    assert doctor.get(f"/patients/{world['orphan'].id}").status_code == 403
    assert "Otto Nobody" not in doctor.get("/costs").get_data(as_text=True)
    assign_source(make_source("nowhere"), hospital_by_code("SAGH"))
    db.session.commit()
    assert doctor.get(f"/patients/{world['orphan'].id}").status_code == 200
    assert world["orphan"].id in listed_ids(search(doctor, name="otto"))
    # The cost table is cached per scope: reassigning forgets it.
    assert "Otto Nobody" in doctor.get("/costs").get_data(as_text=True)


def test_search_all_hospitals_shows_only_name_birth_year_and_hospital(doctor, world):
    response = search(doctor, name="o", all_hospitals="1")
    html = response.get_data(as_text=True)
    ids = listed_ids(response)
    assert {world["theirs"].id, world["orphan"].id, world["mine"].id} <= set(ids)
    row = re.search(
        rf'<tr id="patient-{world["theirs"].id}" class="restricted">(.*?)</tr>', html, re.S
    )
    text = re.sub(r"<[^>]+>", " ", row.group(1))
    assert "Theo Faraway" in text and "1985" in text and "Bayview Medical Center" in text
    assert "1985-06-07" not in html and "male" not in text and "10.00" not in text
    orphan = re.search(
        rf'<tr id="patient-{world["orphan"].id}" class="restricted">(.*?)</tr>', html, re.S
    )
    assert "No hospital assigned" in orphan.group(1)
    # Patients in scope keep their full row.
    mine = re.search(rf'<tr id="patient-{world["mine"].id}">(.*?)</tr>', html, re.S).group(1)
    assert "1970-01-02" in mine and "10.00" in mine


def test_search_all_hospitals_needs_a_filter(doctor, world):
    response = search(doctor, all_hospitals="1")
    assert response.status_code == 200
    assert "Searching all hospitals needs" in response.get_data(as_text=True)
    assert listed_ids(response) == []
