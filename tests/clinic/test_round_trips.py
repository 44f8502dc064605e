"""Doctor pages in as few round trips as they need, counted on the real engine."""

import re
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.support.factories import make_patient, make_record


@contextmanager
def statements():
    """Every SQL statement the engine sends meanwhile, as text."""
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    # Every engine: the app under test has its own, apart from the tests' data app.
    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def reads(sent: list[str]) -> list[str]:
    """The statements that are not the audit write (its INSERT and its commit setting)."""
    audit = re.compile(r"^\s*(INSERT INTO audit_event|SET LOCAL synchronous_commit)", re.I)
    return [s for s in sent if not audit.match(s)]


@pytest.fixture
def charted(db, recompute):
    patient = make_patient("Ana", "Round", date(1970, 1, 2))
    first = make_record(patient, date(2024, 1, 5), "100.00")
    make_record(
        patient, date(2024, 1, 5), "100.00", source_system="synthea", duplicate_of_id=first.id
    )
    make_record(patient, date(2024, 3, 9), "40.00", kind="medication")
    recompute(patient)
    return patient


def test_chart_takes_at_most_three_statements_plus_the_audit_write(doctor, charted):
    doctor.get(f"/patients/{charted.id}")  # fills the cost series cache, as any first view does
    with statements() as sent:
        response = doctor.get(f"/patients/{charted.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "hospital-a + synthea" in html or ("hospital-a" in html and "synthea" in html)
    assert len(reads(sent)) <= 3, reads(sent)
    assert any(s.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT") for s in sent)


def test_chart_of_a_filtered_page_past_the_end_still_in_few_statements(doctor, charted):
    doctor.get(f"/patients/{charted.id}")
    with statements() as sent:
        response = doctor.get(f"/patients/{charted.id}?page=9")
    assert response.status_code == 200
    assert len(reads(sent)) <= 5, reads(sent)  # the page, a count, the last page


def test_search_fetches_only_what_it_shows_in_three_statements(doctor, charted):
    with statements() as sent:
        response = doctor.get("/patients?name=round")
    assert response.status_code == 200
    assert "Ana Round" in response.get_data(as_text=True)
    found = reads(sent)
    assert len(found) <= 3, found
    assert not any("patient.address" in s for s in found)  # no column the results don't show
