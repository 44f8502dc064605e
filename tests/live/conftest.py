"""The app on a real port, and WebSocket clients signed in through the real login form."""

import pytest
import requests
from simple_websocket import Client

from tests.conftest import app_settings
from tests.support.factories import PASSWORD, make_user
from tests.support.live_server import LiveServer
from tests.support.pages import csrf_token
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
    listener = live_app.extensions["live"].listener
    if listener is not None:
        listener.stop()


def session_cookie(server, user) -> str:
    """Sign in through the form; return the Cookie header value."""
    http = requests.Session()
    token = csrf_token(http.get(f"{server.url}/login").text)
    response = http.post(
        f"{server.url}/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def ws_url(server, query: str = "") -> str:
    return server.url.replace("http://", "ws://") + "/ws/costs" + query


def connect(server, user=None, origin: str | None = "same", query: str = "") -> Client:
    """A WebSocket to /ws/costs as the user (or anonymous) with the given Origin."""
    headers = {}
    if user is not None:
        headers["Cookie"] = session_cookie(server, user)
    if origin == "same":
        # simple-websocket's Host header carries no port; a browser's Origin matches its Host.
        headers["Origin"] = "http://127.0.0.1"
    elif origin:
        headers["Origin"] = origin
    return Client.connect(ws_url(server, query), headers=headers)


@pytest.fixture
def doctor(db):
    """A doctor account."""
    return make_user("DOCTOR")
