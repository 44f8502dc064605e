"""Each role signs in through a real browser and lands on its page."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import sign_in
from tests.support.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("role", "landing", "heading"),
    [("AIPHAS", "/admin/users", "Users"), ("DOCTOR", "/patients", "Patients")],
)
def test_role_lands_on_its_page(page, role, landing, heading):
    user = make_user(role)
    sign_in(page, user.email, PASSWORD)
    expect(page).to_have_url(re.compile(re.escape(landing) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator(".whoami")).to_contain_text(user.name)


def test_wrong_password_shows_the_message_and_keeps_the_email(page):
    user = make_user("DOCTOR")
    sign_in(page, user.email, "not the password")
    expect(page.get_by_role("alert")).to_have_text("Invalid email or password.")
    expect(page.get_by_label("Email")).to_have_value(user.email)


def test_sign_out_returns_to_the_login_page(page):
    user = make_user("DOCTOR")
    sign_in(page, user.email, PASSWORD)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.goto("/patients")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
