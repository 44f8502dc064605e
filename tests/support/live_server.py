"""The app served over real HTTP from a thread, for browsers and WebSocket clients."""

import threading

from werkzeug.serving import make_server


class LiveServer:
    """A threaded werkzeug server on a free loopback port."""

    def __init__(self, app):
        self._app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "LiveServer":
        """Start serving in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wait for the thread, and end the live threads its sockets began."""
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._app.extensions["live"].stop()
