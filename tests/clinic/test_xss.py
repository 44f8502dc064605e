"""Markup in names, diagnoses, searches, emails and headers is escaped everywhere it is shown:
pages, HTMX fragments, CSV-free admin lists and the fragments pushed over WebSockets."""

from datetime import date

from sqlalchemy import select

from tests.support.auth import open_session_for
from tests.support.factories import make_patient, make_record, make_user
from tests.support.pages import search_patients
from webapp.live.fragments import render_pushes
from webapp.models import PatientCost
from webapp.services.costs.live_events import CostChange

SCRIPT = "<script>alert(1)</script>"
IMAGE = '<img src=x onerror="alert(2)">'


def assert_escaped(html: str) -> None:
    """No live markup from the payloads, and their text still shown escaped."""
    assert SCRIPT not in html and "<img src=x" not in html, html[:2000]
    assert "&lt;script&gt;" in html or "&lt;img" in html


def hostile_patient(recompute):
    patient = make_patient(SCRIPT, "Xssfamily")
    make_record(patient, date(2025, 3, 4), "12.00", diagnosis=IMAGE)
    recompute(patient)
    return patient


def test_search_results_page_and_fragment_escape_names(doctor, db, recompute):
    hostile_patient(recompute)
    page = search_patients(doctor, name="xssfamily")
    assert page.status_code == 200
    assert_escaped(page.get_data(as_text=True))
    fragment = search_patients(doctor, headers={"HX-Request": "true"}, name="xssfamily")
    assert_escaped(fragment.get_data(as_text=True))
    # The search text itself comes back in the form, escaped too.
    echoed = search_patients(doctor, name=SCRIPT).get_data(as_text=True)
    assert SCRIPT not in echoed


def test_chart_and_costs_escape_names_and_diagnoses(doctor, db, recompute):
    patient = hostile_patient(recompute)
    chart = doctor.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert_escaped(chart)
    assert "&lt;img src=x" in chart  # the diagnosis, shown as text
    assert_escaped(doctor.get("/costs").get_data(as_text=True))


def test_pushed_fragments_escape_names(app, db, recompute):
    patient = hostile_patient(recompute)
    cost = db.session.scalars(select(PatientCost).filter_by(patient_id=patient.id)).one()
    change = CostChange(cost.id, patient.id, cost.month, "INSERT")
    (push,) = render_pushes(app, [change], own_session=False, charts={patient.id})
    assert_escaped(push.costs_html)
    assert SCRIPT not in push.chart_html


def test_admin_lists_escape_names_emails_and_user_agents(app, client, db):
    make_user("DOCTOR", name=SCRIPT, email="x+<b>@example.test")
    aiphas = make_user("AIPHAS")
    open_session_for(client, aiphas, agent=SCRIPT)  # the browser's User-Agent header
    users = client.get("/admin/users").get_data(as_text=True)
    assert_escaped(users)
    assert "<b>@" not in users
    assert_escaped(client.get("/account/sessions").get_data(as_text=True))
