"""Per-app live machinery: the hub, the renderer and, on PostgreSQL, the LISTEN thread."""

import threading

from flask import Flask, current_app

from webapp.database import sends_change_notifications
from webapp.live.fragments import render_pushes
from webapp.live.hub import Hub
from webapp.live.listener import Listener
from webapp.services.costs.live_events import CostChange


class LiveState:
    """Per-app live machinery: the hub and, on PostgreSQL, the LISTEN thread started lazily."""

    def __init__(self, app: Flask):
        self.app = app
        self.hub = Hub()
        self.listener = None
        self._lock = threading.Lock()

    def ensure_listener(self) -> None:
        """Start this process's LISTEN thread on the first socket (PostgreSQL only)."""
        if self.listener is not None or not sends_change_notifications(self.app):
            return
        with self._lock:
            if self.listener is None:
                self.listener = Listener(self.app, self.publish)
                self.listener.start()

    def publish(self, changes: list[CostChange], own_session: bool = False) -> None:
        """Render each change once and broadcast it."""
        charts = self.hub.charts_open()
        for push in render_pushes(self.app, changes, own_session, charts):
            self.hub.broadcast(push)


def live_state(app: Flask | None = None) -> LiveState:
    """The current app's live machinery."""
    return (app or current_app).extensions["live"]
