"""Patient search: what matches, how it pages and what it records."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.support.factories import make_patient, make_record
from tests.support.pages import search_patients as search
from webapp.models import AuditEvent, PatientIdentifier


def listed_ids(response) -> list[int]:
    """Patient ids in the result table, in order."""
    return [int(pid) for pid in re.findall(r'<tr id="patient-(\d+)"', response.get_data(True))]


@pytest.fixture
def people(db):
    """A few patients whose names differ in case, accents and digits."""
    return {
        "jeronimo": make_patient("Jerónimo599", "Farías160", date(1971, 2, 3), "male"),
        "ana": make_patient("Ana", "García", date(1980, 5, 17), "female"),
        "anabel": make_patient("Anabel", "Vela532", date(1990, 1, 1), "female"),
        "bruno": make_patient(
            "Bruno", "Müller", date(1980, 5, 17), "male", ("hospital-b", "MRN-77")
        ),
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("jeronimo", ["jeronimo"]),
        ("JERÓNIMO599", ["jeronimo"]),
        ("farias", ["jeronimo"]),
        ("ron", ["jeronimo"]),
        ("muller", ["bruno"]),
        ("ana", ["ana", "anabel"]),
        ("garcia ana", ["ana"]),
        ("vela5", ["anabel"]),
        ("zzz", []),
        ("%", []),
        ("_", []),
    ],
)
def test_name_matches_any_part_ignoring_case_and_accents(doctor, people, name, expected):
    response = search(doctor, name=name)
    assert response.status_code == 200
    assert sorted(listed_ids(response)) == sorted(people[key].id for key in expected)


def test_date_of_birth_finds_exactly_that_day(doctor, people):
    response = search(doctor, dob="1980-05-17")
    assert sorted(listed_ids(response)) == sorted([people["ana"].id, people["bruno"].id])
    both = search(doctor, dob="1980-05-17", name="bru")
    assert listed_ids(both) == [people["bruno"].id]


def test_source_identifier_finds_the_linked_patient(doctor, people, db):
    db.session.add(
        PatientIdentifier(
            patient_id=people["jeronimo"].id, source_system="synthea", source_patient_id="abc-123"
        )
    )
    db.session.commit()
    assert listed_ids(search(doctor, identifier="MRN-77")) == [people["bruno"].id]
    assert listed_ids(search(doctor, identifier="abc-123")) == [people["jeronimo"].id]
    assert listed_ids(search(doctor, identifier="MRN-7")) == []


def test_rows_show_source_count_and_latest_monthly_cost(doctor, people, db, recompute):
    patient = people["jeronimo"]
    db.session.add(
        PatientIdentifier(patient_id=patient.id, source_system="synthea", source_patient_id="x1")
    )
    db.session.commit()
    make_record(patient, date(2024, 1, 5), "40.00")
    make_record(patient, date(2024, 3, 5), "12.25")
    make_record(patient, date(2024, 3, 9), "0.75", source_system="synthea")
    recompute(patient)
    html = search(doctor, name="jeronimo").get_data(as_text=True)
    row = re.search(rf'<tr id="patient-{patient.id}">(.*?)</tr>', html, re.S).group(1)
    cells = [
        re.sub(r"<[^>]+>", "", c).split() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]
    assert cells[0] == ["Jerónimo599", "Farías160"]
    assert cells[1:4] == [["1971-02-03"], ["male"], ["2"]]
    assert cells[4] == ["13.00", "2024-03"]
    assert f'href="/patients/{patient.id}"' in row


def test_sort_orders(doctor, people):
    by_name = listed_ids(doctor.get("/patients"))
    assert by_name[0] == people["jeronimo"].id  # Farías < García < Müller < Vela
    assert listed_ids(search(doctor, sort="-name"))[0] == people["anabel"].id
    assert listed_ids(search(doctor, sort="dob"))[0] == people["jeronimo"].id
    assert listed_ids(search(doctor, sort="-dob"))[0] == people["anabel"].id
    # A name filter takes the other path (matches sorted after the search): same orders.
    for sort in ("name", "-name", "dob", "-dob"):
        unfiltered = listed_ids(doctor.get("/patients", query_string={"sort": sort}))
        assert listed_ids(search(doctor, sort=sort, name="n")) == unfiltered, sort


def test_pages_are_clamped_and_bad_parameters_never_fail(doctor, db):
    for number in range(30):
        make_patient("Pat", f"Family{number:02d}", source=("hospital-a", f"id-{number}"))
    first = listed_ids(search(doctor, name="pat"))
    second = listed_ids(search(doctor, name="pat", page="2"))
    assert len(first) == 25 and len(second) == 5 and not set(first) & set(second)
    assert listed_ids(search(doctor, name="pat", page="99")) == second
    for bad in ("0", "-3", "abc", "1e9", "99999999999999999999"):
        response = search(doctor, name="pat", page=bad)
        assert response.status_code == 200, bad
    for query in ("dob=1980-13-45", "dob=yesterday", "sort=drop table", "name=" + "x" * 5000):
        key, value = query.split("=", 1)
        response = search(doctor, **{key: value})
        assert response.status_code == 200, query
    assert "Date of birth must be a date" in search(doctor, dob="nope").get_data(True)


def test_htmx_request_gets_only_the_results(doctor, people):
    response = search(doctor, name="ana", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="results"')
    assert "<html" not in html and "<form" not in html
    assert sorted(listed_ids(response)) == sorted([people["ana"].id, people["anabel"].id])
    assert "HX-Request" in response.headers["Vary"]
    full = search(doctor, name="ana").get_data(as_text=True)
    assert "<html" in full and 'hx-post="/patients"' in full and "hx-push-url" not in full


def test_every_search_is_audited(doctor, people, db):
    search(doctor, name="Jerónimo", dob="1971-02-03", environ={"REMOTE_ADDR": "10.1.2.3"})
    # The page the form came from (GET) is one search, the POST the other.
    page_view, event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "patients.search").order_by(AuditEvent.id)
    ).all()
    assert "name" not in page_view.details
    assert event.details["name"] == "Jerónimo" and event.details["dob"] == "1971-02-03"
    assert event.details["matches"] == 1
    assert event.actor_email and event.ip_address == "10.1.2.3" and event.occurred_at


def test_a_match_broader_than_the_cap_asks_to_narrow_it(doctor, db, monkeypatch):
    from webapp.services.patients import search as patient_search

    monkeypatch.setattr(patient_search, "COUNT_CAP", 3)
    for family in ("Delta", "Alpha", "Echo", "Charlie", "Bravo"):
        make_patient("Kim", family)
    response = search(doctor, name="kim")
    html = response.get_data(as_text=True)
    assert 'id="too-many"' in html and "More than 3 patients match" in html
    assert len(listed_ids(response)) == 3
    names = re.findall(r'<a href="/patients/\d+">Kim (\w+)</a>', html)
    assert names == sorted(names)
    assert 'id="too-many"' not in search(doctor, name="kim alpha").get_data(as_text=True)
