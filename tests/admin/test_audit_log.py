"""The audit log page: filters, pages, field errors, CSV export and append-only rows."""

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import DBAPIError

from tests.support.admin import events
from tests.support.factories import make_user
from webapp.common.spreadsheet import safe_cell
from webapp.models import AuditEvent
from webapp.services.audit.trail import PER_PAGE


@pytest.fixture
def auditor(auth):
    return auth.login("AIPHAS")


def add_event(db, action="test.event", when=None, **fields) -> AuditEvent:
    """An audit row at a chosen time, written through the app's model."""
    event = AuditEvent(action=action, occurred_at=when or datetime.now(UTC), **fields)
    db.session.add(event)
    db.session.commit()
    return event


def shown_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="event-(\d+)">', html)]


def test_filters_by_user_as_actor_or_target(client, auditor, db):
    doctor = make_user("DOCTOR")
    acted = add_event(db, actor_user_id=doctor.id, actor_email=doctor.email)
    acted_on = add_event(db, target_user_id=doctor.id)
    add_event(db, actor_email="someone@example.test")
    by_id = shown_ids(client.get(f"/admin/audit?user={doctor.id}").text)
    by_email = shown_ids(client.get(f"/admin/audit?user={doctor.email.upper()}").text)
    assert by_id == by_email == [acted_on.id, acted.id]


def test_filters_by_action_patient_and_dates(client, auditor, db):
    old = add_event(db, "user.created", when=datetime(2024, 1, 10, 23, 59, tzinfo=UTC))
    mid = add_event(db, "user.deactivated", when=datetime(2024, 2, 1, 0, 0, tzinfo=UTC))
    seen = add_event(db, "patients.view", patient_id=42, when=datetime(2024, 3, 1, tzinfo=UTC))
    assert shown_ids(client.get("/admin/audit?action=user.created").text) == [old.id]
    assert shown_ids(client.get("/admin/audit?action=user.*").text) == [mid.id, old.id]
    assert shown_ids(client.get("/admin/audit?patient=42").text) == [seen.id]
    ranged = client.get("/admin/audit?date_from=2024-01-10&date_to=2024-02-01").text
    assert shown_ids(ranged) == [mid.id, old.id]
    assert shown_ids(client.get("/admin/audit?date_from=2024-01-11&action=user.*").text) == [mid.id]


def test_newest_first_in_pages(client, auditor, db):
    for day in range(1, PER_PAGE + 3):
        add_event(db, "test.page", when=datetime(2024, 1, 1, tzinfo=UTC).replace(minute=day))
    first = shown_ids(client.get("/admin/audit?action=test.page").text)
    second = shown_ids(client.get("/admin/audit?action=test.page&page=2").text)
    assert len(first) == PER_PAGE and len(second) == 2
    assert first == sorted(first, reverse=True) and max(second) < min(first)
    assert shown_ids(client.get("/admin/audit?action=test.page&page=99").text) == second
    assert shown_ids(client.get("/admin/audit?action=test.page&page=x").text) == first


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("date_from=2024-13-45", "date_from", "Not a valid date value."),
        ("date_to=yesterday", "date_to", "Not a valid date value."),
        ("date_from=2024-02-01&date_to=2024-01-01", "date_to", "before the start date"),
        ("patient=abc", "patient", "Enter a patient id"),
    ],
)
def test_bad_filter_shows_an_error_next_to_the_field(client, auditor, db, query, field, message):
    response = client.get("/admin/audit?" + query)
    assert response.status_code == 200
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', response.text)
    assert error and message in error.group(1)
    assert "audit-table" not in response.text
    assert client.get("/admin/audit.csv?" + query).status_code == 400


def test_csv_export_streams_the_filtered_rows(client, auditor, db):
    add_event(db, "user.created", actor_email="a@example.test", details={"x": 1})
    add_event(db, "user.deactivated")
    response = client.get("/admin/audit.csv?action=user.created")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="audit-') and disposition.endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [(r["action"], r["actor_email"], r["details"]) for r in rows] == [
        ("user.created", "a@example.test", '{"x": 1}')
    ]
    [export] = events("audit.exported")
    assert export.details["filters"]["action"] == "user.created"


def test_format_csv_parameter_is_the_same_export(client, auditor, db):
    add_event(db, "user.created")
    response = client.get("/admin/audit?format=csv&action=user.created")
    assert response.mimetype == "text/csv"
    assert len(list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))) == 1


def test_csv_cells_cannot_run_as_formulas(client, auditor, db):
    add_event(db, "user.created", actor_email='=HYPERLINK("http://evil")', path="+1", details={})
    rows = list(
        csv.DictReader(io.StringIO(client.get("/admin/audit.csv").get_data().decode("utf-8-sig")))
    )
    row = next(r for r in rows if r["action"] == "user.created")
    assert row["actor_email"].startswith("'=") and row["path"] == "'+1"
    assert [safe_cell(v) for v in ("-2", "@x", "ok", None)] == ["'-2", "'@x", "ok", ""]


def test_audit_rows_cannot_be_changed_through_the_orm(db):
    event = add_event(db, "test.keep")
    event.action = "test.changed"
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEvent, event.id, populate_existing=True).action == "test.keep"


def test_nav_shows_the_audit_log_to_auditors_only(client, auth, db):
    auth.login("AIPHAS")
    assert 'href="/admin/audit"' in client.get("/admin/users").text
    auth.logout()
    auth.login("DOCTOR")
    assert 'href="/admin/audit"' not in client.get("/patients").text
