"""WebSocket clients of /ws/costs, signed in through the real login form."""

import time

import requests
from simple_websocket import Client

from tests.support.factories import PASSWORD
from tests.support.pages import csrf_token
from tests.support.second_factor import fresh_code, secret_on_page


def signed_in_http(server, user) -> requests.Session:
    """An HTTP session signed in through the form, as a browser tab would be."""
    http = requests.Session()
    token = csrf_token(http.get(f"{server.url}/login").text)
    response = http.post(
        f"{server.url}/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    if "/login/code" in location or "/account/mfa" in location:
        # Complete the second factor as a person with an authenticator app would.
        url = server.url + location if location.startswith("/") else location
        page = http.get(url).text
        secret = secret_on_page(page) if "/account/mfa" in location else None
        done = http.post(
            url,
            data={"code": fresh_code(user, secret), "csrf_token": csrf_token(page)},
            allow_redirects=False,
        )
        assert done.status_code in (200, 302), done.text
    return http


def cookie_header(http: requests.Session) -> str:
    """The Cookie header value an HTTP session would send."""
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def session_cookie(server, user) -> str:
    """Sign in through the form; return the Cookie header value."""
    return cookie_header(signed_in_http(server, user))


def ws_url(server, query: str = "") -> str:
    """The ws:// address of /ws/costs on the server."""
    return server.url.replace("http://", "ws://") + "/ws/costs" + query


def connect(
    server, user=None, origin: str | None = "same", query: str = "", cookie: str | None = None
) -> Client:
    """A WebSocket to /ws/costs as the user (or anonymous, or the given cookie) from Origin."""
    headers = {}
    if cookie is not None:
        headers["Cookie"] = cookie
    elif user is not None:
        headers["Cookie"] = session_cookie(server, user)
    if origin == "same":
        # simple-websocket's Host header carries no port; a browser's Origin matches its Host.
        headers["Origin"] = "http://127.0.0.1"
    elif origin:
        headers["Origin"] = origin
    return Client.connect(ws_url(server, query), headers=headers)


def receive_until(ws, predicate, timeout=5.0) -> list[str]:
    """Messages received until one satisfies predicate; fails after the timeout."""
    messages, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = ws.receive(timeout=max(0.01, deadline - time.monotonic()))
        if message is None:
            continue
        messages.append(message)
        if predicate(message):
            return messages
    raise AssertionError(f"no matching message within {timeout}s; got {messages}")


def wait_listening(live_app, timeout=5.0):
    """The app's LISTEN thread once it is connected; fails after the timeout."""
    state = live_app.extensions["live"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if state.listener is not None and state.listener.connected.is_set():
            return state.listener
        time.sleep(0.02)
    raise AssertionError("the LISTEN thread never connected")
