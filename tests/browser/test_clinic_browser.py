"""A doctor finds a patient in a real browser and reads the chart and its costs."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.support.browser import sign_in
from tests.support.factories import PASSWORD, make_patient, make_record, make_user
from webapp.services.costs.recompute import recompute_costs

pytestmark = pytest.mark.browser


@pytest.fixture
def patients(db):
    """The patient the doctor looks for, among others."""
    wanted = make_patient("Jerónimo599", "Farías160", date(1971, 2, 3), "male")
    make_patient("Ana", "García")
    make_record(wanted, date(2024, 1, 10), "120.00", diagnosis="Chest pain")
    make_record(wanted, date(2024, 3, 2), "30.50", kind="medication", prescription="Aspirin")
    recompute_costs([wanted.id])
    db.session.commit()
    return wanted


def test_doctor_searches_opens_the_chart_and_sees_the_costs(page, patients):
    doctor = make_user("DOCTOR")
    sign_in(page, doctor.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
    page.get_by_label("Name").fill("jeronimo")
    results = page.locator("#results tbody tr")
    expect(results).to_have_count(1)
    # The search is POSTed: the address bar (and history) never holds the name.
    expect(page).to_have_url(re.compile(r"/patients$"))
    expect(results.first).to_contain_text("30.50")
    page.get_by_role("link", name="Jerónimo599 Farías160").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jerónimo599 Farías160")
    chart = page.locator("svg.cost-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar")).to_have_count(3)
    expect(page.locator(f"#chart-cost-{patients.id}-2024-01")).to_contain_text("120.00")
    expect(page.locator(f"#chart-cost-{patients.id}-2024-03")).to_contain_text("30.50")
    expect(page.locator("#chart-cost-total")).to_have_text("150.50")
    expect(page.locator("#records tbody tr")).to_have_count(2)
    page.get_by_label("Kind").select_option("medication")
    expect(page.locator("#records tbody tr")).to_have_count(1)
    expect(page.locator("#records")).to_contain_text("Aspirin")
    expect(page).to_have_url(re.compile(r"kind=medication"))


def test_doctor_opens_the_cost_page_from_the_menu(page, patients):
    doctor = make_user("DOCTOR")
    sign_in(page, doctor.email, PASSWORD)
    page.get_by_role("link", name="Costs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Costs")
    expect(page.locator(f"#cost-{patients.id}-2024-03")).to_contain_text("30.50")
    page.locator(f"#cost-{patients.id}-2024-03").get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jerónimo599 Farías160")
