"""Headless Chromium (Debian's) driven by Playwright against a live server."""

import os

import pytest
from playwright.sync_api import sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, browser_page
from tests.support.live_server import LiveServer


@pytest.fixture(scope="session")
def live_server(app):
    """The app under test on a real port."""
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the session; a missing browser is an error, never a skip."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server, db):
    """A fresh browser context and page on a clean database."""
    with browser_page(browser, live_server.url) as page:
        yield page
