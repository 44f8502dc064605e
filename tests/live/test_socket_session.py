"""/ws/costs obeys the server-side session: it closes within 5 s of the session ending.

The server below keeps the app's default recheck interval (LIVE_RECHECK_SECONDS), so these
tests measure the configured behaviour, not a test-only speed-up.
"""

import time
from datetime import timedelta

import pytest
from simple_websocket import ConnectionClosed
from sqlalchemy import select

from tests.support.factories import make_user
from tests.support.live_server import LiveServer
from tests.support.pages import csrf_token
from tests.support.settings import app_settings
from tests.support.sockets import connect, cookie_header, signed_in_http
from webapp import create_app
from webapp.models import AuditEvent, User, UserSession
from webapp.services.accounts.changes import deactivate_account

IDLE_SECONDS = 2
WITHIN = 5.0


@pytest.fixture(scope="module")
def idle_server(database_url):
    """The app with a two-second idle limit and the default socket recheck, over HTTP."""
    app = create_app(app_settings(database_url, IDLE_TIMEOUT=timedelta(seconds=IDLE_SECONDS)))
    assert app.config["LIVE_RECHECK_SECONDS"] <= 3
    server = LiveServer(app).start()
    yield server
    server.stop()


def closed_within(ws, seconds: float) -> float:
    """Seconds until the server closed the socket; fails if it stays open longer."""
    start = time.monotonic()
    with pytest.raises(ConnectionClosed):
        while time.monotonic() - start < seconds + 1:
            ws.receive(timeout=0.2)
    elapsed = time.monotonic() - start
    assert elapsed <= seconds, f"socket closed after {elapsed:.1f}s"
    return elapsed


def test_sign_out_in_another_tab_closes_the_socket(idle_server, db):
    doctor = make_user("DOCTOR")
    tab = signed_in_http(idle_server, doctor)
    ws = connect(idle_server, cookie=cookie_header(tab))
    token = csrf_token(tab.get(f"{idle_server.url}/account/sessions").text)
    assert tab.post(f"{idle_server.url}/logout", data={"csrf_token": token}).ok
    closed_within(ws, WITHIN)
    assert (ws.close_reason, ws.close_message) == (1008, "signed_out")


def test_idle_session_closes_its_socket_and_pushes_are_not_activity(idle_server, db):
    doctor = make_user("DOCTOR")
    ws = connect(idle_server, cookie=cookie_header(signed_in_http(idle_server, doctor)))
    opened = time.monotonic()
    closed_within(ws, IDLE_SECONDS + WITHIN)
    assert time.monotonic() - opened >= IDLE_SECONDS * 0.9
    assert (ws.close_reason, ws.close_message) == (1008, "idle")
    db.session.expire_all()
    row = db.session.scalars(select(UserSession).where(UserSession.user_id == doctor.id)).one()
    assert row.end_reason == "idle"
    assert row.last_seen_at == row.created_at  # the socket never counted as activity
    ended = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "session.ended", AuditEvent.actor_user_id == doctor.id
        )
    ).one()
    # Recorded with where the socket was opened from, though its recheck runs apart from it.
    assert (ended.details["reason"], ended.path, ended.ip_address) == (
        "idle",
        "/ws/costs",
        "127.0.0.1",
    )


def test_deactivation_closes_the_socket(idle_server, db):
    doctor, admin = make_user("DOCTOR"), make_user("AIPHAS")
    ws = connect(idle_server, cookie=cookie_header(signed_in_http(idle_server, doctor)))
    deactivate_account(db.session.get(User, doctor.id), admin)
    db.session.commit()
    closed_within(ws, WITHIN)
    assert (ws.close_reason, ws.close_message) == (1008, "deactivated")
