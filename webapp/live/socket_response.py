"""The response a view returns once simple-websocket has taken over the connection.

flask-sock's `sock.route` registers websocket-only rules, which werkzeug answers with 400
before any guard runs; this app's guards must refuse first, so the view upgrades by itself
and returns what flask-sock returns.
"""

import contextlib
import os
import socket

from flask import Response


def end_cleanly(ws) -> None:
    """Under werkzeug, wait for the client's close reply, then shut the TCP connection.

    werkzeug's server writes an HTTP response after the view returns; a browser reads those
    bytes as a broken frame and reports close code 1006 instead of ours, so a page could not
    tell that its session ended. Shutting the connection first turns that write into a
    dropped connection, which werkzeug ignores.
    """
    if ws.mode != "werkzeug":
        return
    fd = ws.sock.fileno()  # before the reader thread closes its socket object
    ws.thread.join(timeout=1)
    if fd < 0:
        return
    with contextlib.suppress(OSError), socket.socket(fileno=os.dup(fd)) as duplicate:
        duplicate.shutdown(socket.SHUT_RDWR)


def websocket_response(ws) -> Response:
    """A response that tells the server (werkzeug, gunicorn, eventlet) the socket is done."""

    class WebSocketResponse(Response):
        def __call__(self, *args, **kwargs):
            if ws.mode == "eventlet":
                try:
                    from eventlet.wsgi import WSGI_LOCAL

                    already_handled = []
                except ImportError:
                    from eventlet.wsgi import ALREADY_HANDLED as already_handled

                    WSGI_LOCAL = None
                if hasattr(WSGI_LOCAL, "already_handled"):
                    WSGI_LOCAL.already_handled = True
                return already_handled
            if ws.mode == "gunicorn":
                raise StopIteration()
            if ws.mode == "werkzeug":
                return super().__call__(*args, **kwargs)
            return []

    return WebSocketResponse()
