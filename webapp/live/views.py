"""GET /ws/costs: cost rows pushed to doctors' open /costs pages and charts."""

import time
from urllib.parse import urlsplit

from flask import abort, current_app, request, session
from flask_login import current_user
from simple_websocket import ConnectionClosed, Server

from webapp.auth.decorators import permission_required
from webapp.extensions import db
from webapp.live import bp
from webapp.live.sender import close
from webapp.live.socket_response import end_cleanly, websocket_response
from webapp.live.state import live_state
from webapp.models.permissions import PATIENTS_READ
from webapp.services.accounts.sessions import end_reason_now, end_session, find_session
from webapp.services.audit.events import record_event
from webapp.services.patients.scope import Scope, scope_of
from webapp.web.http import is_websocket_upgrade

NORMAL_CLOSURE = 1000
POLICY_VIOLATION = 1008


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
    # Subscribed before the handshake, so nothing committed once the page has its socket is
    # missed; the process's one sender writes this socket's pushes, from the moment `ws` is set.
    subscription = state.hub.subscribe(config["LIVE_QUEUE_SIZE"], patient_id, scope)
    try:
        ws = Server(request.environ, ping_interval=config["LIVE_PING_SECONDS"])
    except Exception:
        state.hub.unsubscribe(subscription)
        raise
    subscription.ws = ws
    state.hub.wake()  # anything queued during the handshake
    try:
        _watch(ws, subscription, token, config["LIVE_RECHECK_SECONDS"])
    except ConnectionClosed:
        pass
    finally:
        state.hub.unsubscribe(subscription)
        close(subscription, NORMAL_CLOSURE, "")
        end_cleanly(ws)
    return websocket_response(ws)


def _watch(ws, subscription, token: str, recheck_seconds: float) -> None:
    # The scope is refreshed with the session check, so a new grant or an expired one applies
    # within `recheck_seconds`, without a query per push.
    next_check = time.monotonic() + recheck_seconds
    while not subscription.closed:
        # Wakes for a client message (nothing is expected: it is dropped), the socket closing
        # (ConnectionClosed) or the next session check.
        ws.receive(timeout=max(0.0, next_check - time.monotonic()))
        if time.monotonic() >= next_check:
            reason, scope = check_viewer(token)
            if reason:
                close(subscription, POLICY_VIOLATION, reason)  # live.js sends it to /login
                return
            subscription.scope = scope
            next_check = time.monotonic() + recheck_seconds
