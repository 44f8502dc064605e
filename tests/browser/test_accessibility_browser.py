"""Every page of both roles passes axe-core (no serious or critical violation); charts print."""

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.support.axe import blocking_violations, install_axe
from tests.support.browser import sign_in
from tests.support.factories import PASSWORD, make_patient, make_record, make_user
from webapp.models import IngestReject, PipelineRun
from webapp.services.costs.recompute import recompute_costs

pytestmark = pytest.mark.browser


@pytest.fixture
def world(db):
    """A doctor, an administrator, a patient with costs and a run with a reject."""
    patient = make_patient("Jerónimo599", "Farías160", date(1971, 2, 3), "male")
    for month in range(1, 13):
        make_record(patient, date(2024, month, 10), f"{month * 10}.00", diagnosis="Flu")
    recompute_costs([patient.id])
    run = PipelineRun(id="20260101T000000Z-0000abcd", trigger="manual", status="succeeded")
    run.input_uris = []
    run.reconciliation = {"status": "ok", "records_by_source": {"hospital-a": 12}}
    db.session.add(run)
    db.session.flush()
    # Enough rejects that the per-source view flags hospital-a (its alert colours are checked).
    db.session.add_all(
        IngestReject(run_id=run.id, stage="pipeline", source_system="hospital-a", reason=reason)
        for reason in ("bad_cost", "bad_date")
    )
    db.session.commit()
    return {
        "doctor": make_user("DOCTOR"),
        "admin": make_user("AIPHAS"),
        "patient": patient,
        "run": run,
    }


def audit(page, path: str, found: dict) -> None:
    page.goto(path)
    page.wait_for_load_state("load")
    if violations := blocking_violations(page):
        found[path] = violations


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("load")


def test_no_serious_or_critical_violation_on_any_page(page, world):
    install_axe(page.context)
    found = {}
    audit(page, "/login", found)
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    if violations := blocking_violations(page):
        found["/login (error)"] = violations
    sign_in(page, world["admin"].email, PASSWORD)
    admin_pages = [
        "/admin/users",
        "/admin/users?q=doctor",
        "/admin/users/new",
        f"/admin/users/{world['doctor'].id}",
        "/admin/audit",
        "/admin/runs",
        f"/admin/runs/{world['run'].id}",
        "/admin/runs/sources",
        "/account/password",
    ]
    for path in admin_pages:
        audit(page, path, found)
    page.goto("/admin/users/new")
    page.get_by_role("button", name="Create user").click()  # every field's error shown
    page.wait_for_load_state("load")
    if violations := blocking_violations(page):
        found["/admin/users/new (errors)"] = violations
    sign_out(page)
    sign_in(page, world["doctor"].email, PASSWORD)
    patient = world["patient"].id
    for path in ["/patients", "/patients?name=jer", f"/patients/{patient}", "/costs"]:
        audit(page, path, found)
    audit(page, f"/patients/{patient}?kind=medication", found)  # no records match
    assert found == {}


def test_skip_link_leads_to_the_main_content_and_focus_is_visible(page, world):
    sign_in(page, world["doctor"].email, PASSWORD)
    page.goto("/costs")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0  # shown on screen once focused
    assert skip.evaluate("e => getComputedStyle(e).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")
    focused = page.evaluate_handle("document.activeElement")
    assert focused.evaluate("e => e.closest('main') !== null")
    assert focused.evaluate("e => getComputedStyle(e).outlineStyle") != "none"


def test_a_chart_prints_without_navigation_or_controls(page, world):
    sign_in(page, world["doctor"].email, PASSWORD)
    page.goto(f"/patients/{world['patient'].id}")
    expect(page.locator("header.topbar")).to_be_visible()
    page.emulate_media(media="print")
    for hidden in ["header.topbar", "nav.mainnav", "form.filters", "button", ".pager"]:
        for element in page.locator(hidden).all():
            expect(element).to_be_hidden()
    expect(page.get_by_role("link", name="Skip to main content")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jerónimo599 Farías160")
    expect(page.locator("svg.cost-chart")).to_be_visible()
    expect(page.locator("#chart-costs")).to_be_visible()
    expect(page.locator("#chart-cost-total")).to_have_text("780.00")
    expect(page.locator("#records table")).to_be_visible()
    expect(page.locator("#sources")).to_be_visible()
    rows = page.locator("#chart-cost-rows tr").first
    assert rows.evaluate("e => getComputedStyle(e).breakInside") == "avoid"
    head = page.locator("#chart-costs thead")
    assert head.evaluate("e => getComputedStyle(e).display") == "table-header-group"
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
    page.emulate_media(media="screen")
    expect(page.locator("header.topbar")).to_be_visible()
