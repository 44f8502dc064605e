"""A live server for the concurrent sign-in tests."""

import pytest

from tests.support.live_server import LiveServer
from tests.support.settings import app_settings
from webapp import create_app


@pytest.fixture(scope="module")
def server(database_url):
    """The app on a loopback port, with threads answering requests in parallel."""
    server = LiveServer(create_app(app_settings(database_url))).start()
    yield server
    server.stop()
