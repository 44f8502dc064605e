"""Per-app live machinery: the hub, its sender, the renderer and (PostgreSQL) the LISTEN thread."""

import threading

from flask import Flask, current_app

from webapp.database import sends_change_notifications
from webapp.live.fragments import render_pushes
from webapp.live.hub import Hub
from webapp.live.listener import Listener
from webapp.live.rechecks import Rechecker
from webapp.live.sender import Sender
from webapp.services.costs.live_events import CostChange


class LiveState:
    """Per-app live machinery: the hub, and the sender, the session rechecker and (on
    PostgreSQL) the LISTEN thread, all started with the first socket of this process."""

    def __init__(self, app: Flask):
        self.app = app
        self.hub = Hub()
        self.sender = None
        self.rechecker = None
        self.listener = None
        self._lock = threading.Lock()

    def ensure_listener(self) -> None:
        """Start this process's sender, rechecker and (PostgreSQL only) LISTEN thread on the
        first socket."""
        if self.sender is not None and (
            self.listener is not None or not sends_change_notifications(self.app)
        ):
            return
        with self._lock:
            if self.sender is None:
                self.sender = Sender(self.app, self.hub)
                self.sender.start()
                interval = self.app.config["LIVE_RECHECK_SECONDS"]
                self.rechecker = Rechecker(self.app, self.hub, interval)
                self.rechecker.start()
            if self.listener is None and sends_change_notifications(self.app):
                self.listener = Listener(self.app, self.publish)
                self.listener.start()

    def stop(self) -> None:
        """End the threads this state started (tests, shutdown); the next socket starts anew."""
        with self._lock:
            for thread in (self.listener, self.rechecker, self.sender):
                if thread is not None:
                    thread.stop()
            self.listener = self.rechecker = self.sender = None

    def publish(self, changes: list[CostChange], own_session: bool = False) -> None:
        """Render each change once and broadcast it."""
        charts = self.hub.charts_open()
        for push in render_pushes(self.app, changes, own_session, charts):
            self.hub.broadcast(push)


def live_state(app: Flask | None = None) -> LiveState:
    """The current app's live machinery."""
    return (app or current_app).extensions["live"]
