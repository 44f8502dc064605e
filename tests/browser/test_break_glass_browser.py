"""A doctor searches all hospitals and breaks the glass to open a patient of another hospital."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.support.admin import events
from tests.support.browser import browser_page, sign_in
from tests.support.factories import PASSWORD, make_patient, make_record, make_user
from webapp.services.costs.recompute import recompute_costs

pytestmark = pytest.mark.browser


@pytest.fixture
def outsider(db):
    """A Bayview patient with a visit; the factory doctor works at St. Aiken."""
    patient = make_patient(
        "Theo", "Faraway", date(1985, 6, 7), "male", source=("bayview-emr", "B1"), hospital="BMC"
    )
    make_record(patient, date(2024, 2, 3), "77.50", diagnosis="Fracture")
    recompute_costs([patient.id])
    db.session.commit()
    return patient


@pytest.fixture
def page(browser, live_server, db):
    """A page on which the restricted chart's 403 is expected (the browser logs it)."""
    with browser_page(browser, live_server.url, expected_errors=("status of 403",)) as page:
        yield page


def test_doctor_breaks_the_glass_from_search_all_hospitals(page, outsider, db):
    doctor = make_user("DOCTOR")
    sign_in(page, doctor.email, PASSWORD)
    page.get_by_label("Name").fill("faraway")
    expect(page.locator("#results")).to_contain_text("No patients match.")
    page.get_by_label("Search all hospitals").check()
    row = page.locator(f"#patient-{outsider.id}")
    expect(row).to_contain_text("Restricted")
    expect(row).to_contain_text("1985")
    expect(row).to_contain_text("Bayview Medical Center")
    expect(row).not_to_contain_text("1985-06-07")
    expect(page).to_have_url(re.compile(r"/patients$"))
    row.get_by_role("link", name="Theo Faraway").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Restricted")
    expect(page).to_have_url(re.compile(rf"/patients/{outsider.id}$"))
    page.get_by_label("Reason").select_option("emergency")
    page.get_by_label("Details").fill("Brought in unconscious, needs history")
    page.get_by_role("button", name=re.compile("Break the glass")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Theo Faraway")
    expect(page.locator("#records")).to_contain_text("Fracture")
    expect(page.get_by_text("Emergency access granted")).to_be_visible()
    [event] = events("access.break_glass")
    assert event.patient_id == outsider.id and event.actor_email == doctor.email
