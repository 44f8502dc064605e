"""Headless Chromium (Debian's) for browser tests: how to launch it, pages, signing in."""

import os
import shutil
from contextlib import contextmanager
from urllib.parse import urlsplit

from sqlalchemy import func, select

from tests.support.second_factor import fresh_code
from webapp.extensions import db
from webapp.models import User

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def browser_page(browser, base_url: str, expected_errors: tuple[str, ...] = ()):
    """A page in a context of its own (own cookies); fails on any browser console error.

    `expected_errors` lists messages a test provokes on purpose (e.g. a page answered 403).
    """
    context = browser.new_context(base_url=base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()
    unexpected = [e for e in errors if not any(text in e for text in expected_errors)]
    assert unexpected == [], f"browser reported errors: {unexpected}"


def sign_in(page, email: str, password: str) -> None:
    """Fill in and submit the sign-in form."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    # The next page's deferred scripts (htmx) must run before a test types into it.
    page.wait_for_load_state("load")
    complete_second_factor(page, email)


def complete_second_factor(page, email: str) -> None:
    """Type the code an authenticator app would show, enrolling first where the app asks."""
    path = urlsplit(page.url).path
    if path not in ("/account/mfa", "/login/code"):
        return
    user = db.session.scalar(
        select(User)
        .where(func.lower(User.email) == email.lower())
        .execution_options(populate_existing=True)
    )
    enrolling = path == "/account/mfa"
    secret = page.locator("#totp-secret").inner_text().strip() if enrolling else None
    page.get_by_label("Code").fill(fresh_code(user, secret))
    page.get_by_role("button", name="Turn on" if enrolling else "Continue").click()
    if enrolling:
        page.get_by_role("link", name="I have saved them, continue").click()
    page.wait_for_load_state("load")
