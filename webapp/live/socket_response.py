"""The response a view returns once simple-websocket has taken over the connection.

flask-sock's `sock.route` registers websocket-only rules, which werkzeug answers with 400
before any guard runs; this app's guards must refuse first, so the view upgrades by itself
and returns what flask-sock returns.
"""

from flask import Response


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
