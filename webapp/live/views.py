"""GET /ws/costs: cost rows pushed to doctors' open /costs pages and charts."""

import contextlib
import queue
import time
from urllib.parse import urlsplit

from flask import abort, current_app, request, session
from flask_login import current_user
from simple_websocket import ConnectionClosed, Server

from webapp.auth.decorators import permission_required
from webapp.extensions import db
from webapp.live import bp
from webapp.live.messages import RESYNC
from webapp.live.socket_response import end_cleanly, websocket_response
from webapp.live.state import live_state
from webapp.models.permissions import PATIENTS_READ
from webapp.services.accounts.sessions import end_reason_now, end_session, find_session
from webapp.services.audit.events import record_event
from webapp.services.patients.scope import Scope, scope_of
from webapp.web.http import is_websocket_upgrade

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


def same_origin() -> bool:
    """The handshake comes from a page of this site (browsers always send Origin)."""
    origin = request.headers.get("Origin")
    return bool(origin) and urlsplit(origin).netloc.lower() == request.host.lower()


def check_viewer(session_token: str) -> tuple[str | None, Scope | None]:
    """Why the socket must close (session ended, idled or aged out, role changed), or None and
    the doctor's current scope (hospital, grants).

    Never writes last_seen: receiving pushes is not activity.
    """
    try:
        row = find_session(session_token)
        reason = end_reason_now(row)
        if reason is None and not row.user.has_permission(PATIENTS_READ):
            reason = "role_changed"
        if reason is not None and row is not None and row.ended_at is None:
            end_session(row, reason)  # idle or too old: recorded as the HTTP guard would
            record_event("session.ended", actor=row.user, details={"reason": reason})
        return reason, None if reason else scope_of(row.user)
    finally:
        db.session.remove()  # never keep a pooled connection for the life of a socket


# werkzeug routes handshakes only to websocket rules and plain requests only to plain ones;
# both lead here, so that the guards answer either kind before anything is upgraded.
@bp.route("/ws/costs", websocket=True)
@bp.route("/ws/costs")
@permission_required(PATIENTS_READ)
def costs_socket():
    """Upgrade to a WebSocket that streams /costs rows, or with ?patient=<id> that chart's block."""
    if not is_websocket_upgrade():
        abort(400)
    if not same_origin():
        record_event("ws.refused", details={"reason": "cross-origin", "origin": request.origin})
        abort(403)
    patient_id = request.args.get("patient", type=int)
    token = session["_user_id"]  # the server-side session id the guard just accepted
    scope = scope_of(current_user)
    db.session.remove()
    config = current_app.config
    state = live_state()
    state.ensure_listener()
    subscription = state.hub.subscribe(config["LIVE_QUEUE_SIZE"], patient_id)
    try:
        ws = Server(request.environ, ping_interval=config["LIVE_PING_SECONDS"])
    except Exception:
        state.hub.unsubscribe(subscription)
        raise
    try:
        _stream(ws, subscription, patient_id, (token, scope), config["LIVE_RECHECK_SECONDS"])
    except ConnectionClosed:
        pass
    finally:
        state.hub.unsubscribe(subscription)
        if ws.connected:
            with contextlib.suppress(ConnectionClosed):
                ws.close()
        end_cleanly(ws)
    return websocket_response(ws)


def _stream(ws, subscription, patient_id, viewer, recheck_seconds) -> None:
    # The scope is refreshed with the session check, so a new grant or an expired one applies
    # within `recheck_seconds`, without a query per push.
    token, scope = viewer
    next_check = time.monotonic() + recheck_seconds
    while ws.connected:
        try:
            item = subscription.queue.get(timeout=min(1.0, recheck_seconds))
        except queue.Empty:
            item = None
        if subscription.overflowed or item is RESYNC:
            ws.close(TRY_AGAIN_LATER, "reconnect and refresh")  # the client reloads its rows
            return
        if item is not None and scope.allows(item.patient_id, item.hospital_ids):
            # A chart page has no /costs table: rows it cannot place are errors in the browser.
            if patient_id is None:
                ws.send(item.costs_html)
            elif patient_id == item.patient_id and item.chart_html:
                ws.send(item.chart_html)
        while ws.receive(timeout=0) is not None:
            pass  # nothing is expected from the client; don't let it pile up
        if time.monotonic() >= next_check:
            reason, scope = check_viewer(token)
            if reason:
                ws.close(POLICY_VIOLATION, reason)  # live.js sends the page to /login?ended=
                return
            next_check = time.monotonic() + recheck_seconds
