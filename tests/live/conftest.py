"""The app on a real port, and WebSocket clients signed in through the real login form."""

import pytest

from tests.support.factories import make_user
from tests.support.live_server import LiveServer
from tests.support.settings import app_settings
from webapp import create_app


@pytest.fixture(scope="module")
def live_app(database_url):
    """An app whose sockets re-check their user often, served over HTTP."""
    return create_app(app_settings(database_url, LIVE_RECHECK_SECONDS=0.2))


@pytest.fixture(scope="module")
def server(live_app):
    """The live app on a loopback port."""
    server = LiveServer(live_app).start()
    yield server
    server.stop()


@pytest.fixture
def doctor(db):
    """A doctor account."""
    return make_user("DOCTOR")
