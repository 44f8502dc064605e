"""GET /ws/costs: cost rows pushed to doctors' open /costs pages and charts."""

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
from webapp.services.audit.events import AuditContext, record_event
from webapp.services.patients.scope import scope_of
from webapp.web.http import client_address, is_websocket_upgrade

NORMAL_CLOSURE = 1000


def same_origin() -> bool:
    """The handshake comes from a page of this site (browsers always send Origin)."""
    origin = request.headers.get("Origin")
    return bool(origin) and urlsplit(origin).netloc.lower() == request.host.lower()


def without_compression(environ: dict) -> dict:
    """The handshake without the browser's permessage-deflate offer, so none is accepted.

    Compression would deflate every push once per socket, with a compressor kept per socket
    (about 256 KiB each at zlib's defaults), for fragments of a few hundred bytes.
    """
    return {key: value for key, value in environ.items() if key != "HTTP_SEC_WEBSOCKET_EXTENSIONS"}


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
    opened_from = AuditContext(address=client_address(), path=request.full_path.rstrip("?"))
    subscription = state.hub.subscribe(
        config["LIVE_QUEUE_SIZE"],
        patient_id=patient_id,
        scope=scope,
        token=token,
        opened_from=opened_from,
    )
    try:
        ws = Server(without_compression(request.environ), ping_interval=config["LIVE_PING_SECONDS"])
    except Exception:
        state.hub.unsubscribe(subscription)
        raise
    subscription.ws = ws
    state.hub.wake()  # anything queued during the handshake
    try:
        _watch(ws, subscription, config["LIVE_RECHECK_SECONDS"])
    except ConnectionClosed:
        pass
    finally:
        state.hub.unsubscribe(subscription)
        close(subscription, NORMAL_CLOSURE, "")
        end_cleanly(ws)
    return websocket_response(ws)


def _watch(ws, subscription, wait_seconds: float) -> None:
    # The process's rechecker (webapp.live.rechecks) checks the session and refreshes the scope;
    # this thread only waits for a client message (nothing is expected: it is dropped), the
    # socket closing (ConnectionClosed) or the rechecker closing it.
    while not subscription.closed:
        ws.receive(timeout=wait_seconds)
