"""/ws/costs: refused before the upgrade unless a same-origin doctor; pushes committed rows."""

import socket
import time
from datetime import date

import pytest
import requests
from simple_websocket import ConnectionClosed, ConnectionError
from sqlalchemy import select

from tests.support.factories import make_patient, make_record, make_user
from tests.support.sockets import connect, receive_until, session_cookie, wait_listening, ws_url
from webapp.models import PatientCost, User
from webapp.services.costs.recompute import recompute_costs


def handshake_status(server, headers) -> int:
    """The HTTP status the server answers a WebSocket handshake with."""
    response = requests.get(
        ws_url(server).replace("ws://", "http://"),
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            **headers,
        },
        allow_redirects=False,
        timeout=5,
    )
    return response.status_code


def test_refused_without_a_session(server, db):
    assert handshake_status(server, {"Origin": server.url}) == 401
    with pytest.raises(ConnectionError):
        connect(server, None)


def test_refused_with_a_foreign_origin(server, doctor):
    cookie = session_cookie(server, doctor)
    assert handshake_status(server, {"Cookie": cookie, "Origin": "http://evil.test"}) == 403
    assert handshake_status(server, {"Cookie": cookie}) == 403  # browsers always send Origin
    # Sandboxed frames and file:// pages send the literal origin "null".
    assert handshake_status(server, {"Cookie": cookie, "Origin": "null"}) == 403
    with pytest.raises(ConnectionError):
        connect(server, doctor, origin="http://evil.test")


def test_refused_for_aiphas(server, db):
    with pytest.raises(ConnectionError):
        connect(server, make_user("AIPHAS"))
    cookie = session_cookie(server, make_user("AIPHAS"))
    assert handshake_status(server, {"Cookie": cookie, "Origin": server.url}) == 403


def commit_cost(db, patient, day: date, cost: str):
    make_record(patient, day, cost)
    recompute_costs([patient.id])
    db.session.commit()
    return db.session.scalars(
        select(PatientCost).where(
            PatientCost.patient_id == patient.id, PatientCost.month == day.strftime("%Y-%m")
        )
    ).one()


def test_commit_reaches_the_socket_through_notify(server, live_app, doctor, db):
    ana = make_patient()
    ws = connect(server, doctor)
    chart_ws = connect(server, doctor, query=f"?patient={ana.id}")
    try:
        wait_listening(live_app)
        row = commit_cost(db, ana, date(2025, 7, 3), "80.00")
        (costs,) = receive_until(ws, lambda m: "cost-rows" in m)
        assert costs.startswith('<tbody id="cost-rows" hx-swap-oob="afterbegin">')
        assert f'id="cost-{ana.id}-2025-07"' in costs and "80.00" in costs
        assert "Ana García" in costs
        (chart,) = receive_until(chart_ws, lambda m: "chart-cost-rows" in m)
        assert f'id="chart-cost-{ana.id}-2025-07"' in chart
        commit_cost(db, ana, date(2025, 7, 20), "20.00")
        (update,) = receive_until(ws, lambda m: 'hx-swap-oob="outerHTML"' in m and "100.00" in m)
        assert update.startswith(f'<tr id="cost-{row.patient_id}-2025-07" hx-swap-oob="outerHTML"')
    finally:
        ws.close()
        chart_ws.close()


def test_a_chart_socket_gets_only_its_patients_block(server, live_app, doctor, db):
    ana, ben = make_patient(), make_patient(given="Ben", family="Ortiz")
    ws = connect(server, doctor, query=f"?patient={ben.id}")
    try:
        wait_listening(live_app)
        commit_cost(db, ana, date(2025, 8, 1), "5.00")
        commit_cost(db, ben, date(2025, 8, 1), "6.00")
        messages = receive_until(ws, lambda m: f"chart-cost-{ben.id}-" in m)
        # No /costs rows (a chart page has nowhere to put them) and nothing of another patient.
        assert len(messages) == 1 and messages[0].startswith('<div id="chart-cost-summary"')
        assert f"cost-{ana.id}-" not in messages[0]
    finally:
        ws.close()


def test_listener_reconnects_and_sockets_resync(server, live_app, doctor, db):
    ana = make_patient()
    ws = connect(server, doctor)
    listener = wait_listening(live_app)
    pid = listener.connection.get_backend_pid()
    db.session.execute(select(__import__("sqlalchemy").func.pg_terminate_backend(pid)))
    db.session.commit()
    # The socket is closed so that its client reconnects and refreshes its rows.
    with pytest.raises(ConnectionClosed):
        receive_until(ws, lambda m: False, timeout=15)
    ws = connect(server, doctor)
    try:
        deadline = time.monotonic() + 15
        while listener.connection is None or listener.connection.get_backend_pid() == pid:
            assert time.monotonic() < deadline, "listener did not reconnect"
            time.sleep(0.05)
        wait_listening(live_app)
        commit_cost(db, ana, date(2025, 9, 1), "9.00")
        receive_until(ws, lambda m: f"cost-{ana.id}-2025-09" in m)
    finally:
        ws.close()


def test_deactivated_users_socket_closes(server, doctor, db):
    ws = connect(server, doctor)
    user = db.session.get(User, doctor.id)
    user.active = False
    db.session.commit()
    with pytest.raises(ConnectionClosed):
        receive_until(ws, lambda m: False, timeout=5)
    assert ws.close_reason == 1008


def test_open_chart_gets_its_svg_rows_and_total_re_rendered(server, live_app, doctor, db):
    ana = make_patient()
    commit_cost(db, ana, date(2025, 5, 2), "30.00")
    ws = connect(server, doctor, query=f"?patient={ana.id}")
    try:
        wait_listening(live_app)
        commit_cost(db, ana, date(2025, 6, 9), "70.00")
        *_, chart = receive_until(ws, lambda m: "chart-cost-summary" in m)
        assert chart.startswith('<div id="chart-cost-summary" hx-swap-oob="outerHTML">')
        assert chart.count("<svg") == 1 and chart.count('class="bar"') == 2
        assert 'data-month="2025-06"' in chart and 'data-month="2025-05"' in chart
        assert '<th class="num" id="chart-cost-total">100.00</th>' in chart
        assert "Monthly cost of Ana García, total 100.00" in chart  # the SVG's own title
        assert "hx-swap-oob" not in chart[len('<div id="chart-cost-summary" hx') :]
        commit_cost(db, ana, date(2025, 6, 30), "0.50")
        *_, chart = receive_until(ws, lambda m: "chart-cost-summary" in m)
        assert '<th class="num" id="chart-cost-total">100.50</th>' in chart
        assert "2025-06: 70.50" in chart  # the bar's tooltip follows its row
    finally:
        ws.close()


def test_the_browsers_compression_offer_is_declined(server, doctor):
    # Chromium offers permessage-deflate in every handshake; accepted, every push would be
    # deflated once per socket, with a compressor kept per socket.
    host = server.url.removeprefix("http://")
    request = (
        "GET /ws/costs HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        f"Origin: {server.url}\r\nCookie: {session_cookie(server, doctor)}\r\n\r\n"
    )
    hostname, port = host.split(":")
    with socket.create_connection((hostname, int(port)), timeout=5) as sock:
        sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, f"closed during the handshake: {head!r}"
            head += chunk
    head = head.split(b"\r\n\r\n")[0].lower()
    assert head.startswith(b"http/1.1 101"), head
    assert b"sec-websocket-extensions" not in head, head
