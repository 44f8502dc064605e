"""An AIPHAS user runs accounts in Chromium: create, forced password change, deactivation."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import browser_page, sign_in
from tests.support.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser

NEW_PASSWORD = "my own long passphrase"


@pytest.fixture
def second_page(browser, live_server, page):
    """Another browser (its own cookies) held to the same no-console-errors rule."""
    with browser_page(browser, live_server.url) as other:
        yield other


def create_doctor(page) -> str:
    """Fill in the new-user form with a generated password; returns that password."""
    page.get_by_role("link", name="New user").click()
    page.get_by_label("Name", exact=True).fill("Dana Neuro")
    page.get_by_label("Email").fill("dana@example.test")
    page.get_by_label("Role").select_option("DOCTOR")
    page.get_by_label("Organization").select_option(label="Neurology — St. Aiken General Hospital")
    expect(page.get_by_role("radio", name=re.compile("Generate a temporary"))).to_be_checked()
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("User created")
    return page.locator("#temporary-password").inner_text().strip()


def test_admin_creates_a_doctor_who_changes_the_password_then_is_deactivated(page, second_page):
    admin = make_user("AIPHAS")
    sign_in(page, admin.email, PASSWORD)
    temporary = create_doctor(page)
    assert len(temporary) >= 12

    doctor = second_page
    sign_in(doctor, "dana@example.test", temporary)
    expect(doctor).to_have_url(re.compile(r"/account/password$"))
    doctor.goto("/patients")
    expect(doctor).to_have_url(re.compile(r"/account/password$"))
    doctor.get_by_label("Current password").fill(temporary)
    doctor.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    doctor.get_by_label("Repeat new password").fill(NEW_PASSWORD)
    doctor.get_by_role("button", name="Change password").click()
    expect(doctor.get_by_role("heading", level=1)).to_have_text("Patients")

    page.goto("/admin/users")
    page.get_by_role("link", name="Dana Neuro").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_role("status")).to_contain_text("deactivated and signed out everywhere")
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()

    doctor.reload()
    expect(doctor.get_by_role("heading", level=1)).to_have_text("Sign in")
    sign_in(doctor, "dana@example.test", NEW_PASSWORD)
    expect(doctor.get_by_role("alert")).to_contain_text("deactivated")


def test_search_updates_the_table_in_place_and_the_url_keeps_it(page):
    admin = make_user("AIPHAS")
    make_user("DOCTOR", name="Greta Lind", email="greta@example.test")
    make_user("DOCTOR", name="Omar Field", email="omar@example.test")
    sign_in(page, admin.email, PASSWORD)
    rows = page.locator("#users-table tbody tr")
    expect(rows).to_have_count(3)
    # htmx binds its handlers once the deferred scripts have run; type only after that.
    page.wait_for_load_state("load")
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Name or email").fill("gret")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("greta@example.test")
    expect(page).to_have_url(re.compile(r"/admin/users\?q=gret$"))
    assert page.evaluate("window.notReloaded") is True
    page.get_by_label("Role").select_option("AIPHAS")
    expect(rows.first).to_contain_text("No users match.")
    expect(page).to_have_url(re.compile(r"q=gret&role=AIPHAS$"))
    page.reload()
    expect(page.get_by_label("Name or email")).to_have_value("gret")
    expect(page.get_by_label("Role")).to_have_value("AIPHAS")
    expect(rows.first).to_contain_text("No users match.")


def test_new_user_errors_show_next_to_fields(page):
    admin = make_user("AIPHAS")
    sign_in(page, admin.email, PASSWORD)
    page.goto("/admin/users/new")
    page.get_by_label("Name", exact=True).fill("Typed Name")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Role").select_option("DOCTOR")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("#email-error")).to_have_text(
        "Another account already uses this email address."
    )
    expect(page.locator("#organization-error")).to_have_text(
        "Doctors must belong to an organization."
    )
    expect(page.get_by_label("Name", exact=True)).to_have_value("Typed Name")


def test_audit_log_lists_the_account_changes(page):
    admin = make_user("AIPHAS")
    doctor = make_user("DOCTOR")
    sign_in(page, admin.email, PASSWORD)
    page.goto(f"/admin/users/{doctor.id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Deactivate").click()
    page.get_by_role("link", name="Audit log", exact=True).click()
    page.get_by_label("Action").fill("user.deactivated")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit-table tbody tr")).to_have_count(1)
    expect(page.locator("#audit-table tbody tr").first).to_contain_text(admin.email)
    page.get_by_label("From").fill("2024-01-01")
    page.get_by_label("To").fill("2023-01-01")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#date_to-error")).to_contain_text("before the start date")
