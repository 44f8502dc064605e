"""Break-the-glass: a doctor opens a patient outside their hospital, for a while, audited."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.support.admin import events
from tests.support.factories import make_patient, make_record, make_user
from webapp.common.clock import utcnow
from webapp.models import BreakGlassGrant


@pytest.fixture
def outsider(db, recompute):
    """A Bayview patient with a cost, outside the factory doctor's hospital (St. Aiken)."""
    patient = make_patient(
        "Theo", "Faraway", date(1985, 6, 7), source=("bayview-emr", "B1"), hospital="BMC"
    )
    make_record(patient, date(2024, 2, 3), "77.50", source_system="bayview-emr")
    recompute(patient)
    return patient


def break_glass(auth, patient, **fields):
    data = {"reason": "emergency", "details": "Unconscious in our ER, allergies unknown"}
    return auth.post(
        f"/patients/{patient.id}/break-glass",
        {**data, **fields},
        token_page=f"/patients/{patient.id}",
    )


def test_restricted_page_is_audited_and_offers_the_reasons(doctor, outsider):
    page = doctor.get(f"/patients/{outsider.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 403
    for label in ("Emergency treatment", "Continuity of care"):
        assert label in html
    assert "24 hours" in html
    [event] = events("access.restricted")
    assert event.patient_id == outsider.id


def test_breaking_the_glass_opens_the_chart_and_is_audited(doctor, auth, outsider, db):
    response = break_glass(auth, outsider)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/patients/{outsider.id}")
    chart = doctor.get(f"/patients/{outsider.id}")
    assert chart.status_code == 200 and "77.50" in chart.get_data(as_text=True)
    assert doctor.get(f"/patients/{outsider.id}/records.csv").status_code == 200
    assert "Theo Faraway" in doctor.get("/costs").get_data(as_text=True)
    [event] = events("access.break_glass")
    assert event.patient_id == outsider.id and event.actor_email
    assert event.details["reason"] == "emergency"
    assert event.details["text"] == "Unconscious in our ER, allergies unknown"
    grant = db.session.scalars(select(BreakGlassGrant)).one()
    assert timedelta(hours=23.9) < grant.expires_at - grant.granted_at <= timedelta(hours=24)


def test_a_grant_is_one_doctors_and_ends_when_it_expires(client, doctor, auth, outsider, db):
    break_glass(auth, outsider)
    grant = db.session.scalars(select(BreakGlassGrant)).one()
    grant.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert doctor.get(f"/patients/{outsider.id}").status_code == 403
    assert "Theo Faraway" not in doctor.get("/costs").get_data(as_text=True)
    auth.logout()
    auth.login(make_user("DOCTOR"))  # a colleague of the same hospital
    grant.expires_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    assert client.get(f"/patients/{outsider.id}").status_code == 403


def test_break_glass_hours_is_configurable(doctor, auth, outsider, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "BREAK_GLASS_HOURS", 2)
    break_glass(auth, outsider)
    grant = db.session.scalars(select(BreakGlassGrant)).one()
    assert grant.expires_at - grant.granted_at == timedelta(hours=2)


@pytest.mark.parametrize(
    "fields",
    [{"reason": ""}, {"reason": "curious"}, {"details": ""}, {"details": "x" * 501}],
)
def test_a_bad_form_grants_nothing(doctor, auth, outsider, db, fields):
    response = break_glass(auth, outsider, **fields)
    assert response.status_code == 400
    assert 'id="break-glass-form"' in response.get_data(as_text=True)
    assert db.session.scalars(select(BreakGlassGrant)).all() == []
    assert events("access.break_glass") == []


def test_break_glass_needs_the_csrf_token(doctor, outsider, db):
    response = doctor.post(
        f"/patients/{outsider.id}/break-glass", data={"reason": "emergency", "details": "hello"}
    )
    assert response.status_code == 400
    assert db.session.scalars(select(BreakGlassGrant)).all() == []


def test_no_grant_is_made_for_a_patient_already_in_scope(doctor, auth, db):
    mine = make_patient()
    response = break_glass(auth, mine)
    assert response.status_code == 303
    assert db.session.scalars(select(BreakGlassGrant)).all() == []
