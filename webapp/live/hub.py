"""Fan-out of cost changes to the WebSockets of this process, one bounded queue per socket."""

import queue
import threading
from dataclasses import dataclass

from flask import Flask, current_app

from webapp.services.live_events import CostChange


@dataclass(frozen=True)
class Push:
    """What a change becomes on the wire: the /costs fragment and the chart fragment."""

    patient_id: int
    costs_html: str
    chart_html: str


RESYNC = object()  # changes may have been missed: the socket closes so its client refreshes


class Subscription:
    """One socket's inbox; when it overflows the socket is closed rather than grow."""

    def __init__(self, size: int):
        self.queue: queue.Queue = queue.Queue(maxsize=size)
        self.overflowed = False

    def offer(self, item) -> None:
        """Queue an item without blocking the publisher."""
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            self.overflowed = True


class Hub:
    """The sockets of one app in this process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._subscriptions: set[Subscription] = set()

    def subscribe(self, size: int) -> Subscription:
        """A new inbox that receives every later broadcast."""
        subscription = Subscription(size)
        with self._lock:
            self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop delivering to an inbox."""
        with self._lock:
            self._subscriptions.discard(subscription)

    def broadcast(self, item) -> None:
        """Offer an item (a Push or RESYNC) to every inbox."""
        with self._lock:
            targets = list(self._subscriptions)
        for subscription in targets:
            subscription.offer(item)

    def __len__(self) -> int:
        with self._lock:
            return len(self._subscriptions)


class LiveState:
    """Per-app live machinery: the hub and, on PostgreSQL, the LISTEN thread started lazily."""

    def __init__(self, app: Flask):
        self.app = app
        self.hub = Hub()
        self.listener = None
        self._lock = threading.Lock()

    def ensure_listener(self) -> None:
        """Start this process's LISTEN thread on the first socket (PostgreSQL only)."""
        if self.listener is not None or not uses_notify(self.app):
            return
        with self._lock:
            if self.listener is None:
                from webapp.live.listener import Listener

                self.listener = Listener(self.app, self.publish)
                self.listener.start()

    def publish(self, changes: list[CostChange], own_session: bool = False) -> None:
        """Render each change once and broadcast it."""
        from webapp.live.fragments import render_pushes

        for push in render_pushes(self.app, changes, own_session):
            self.hub.broadcast(push)


def uses_notify(app: Flask) -> bool:
    """PostgreSQL delivers changes through NOTIFY; other databases publish in-process."""
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def live_state(app: Flask | None = None) -> LiveState:
    """The current app's live machinery."""
    return (app or current_app).extensions["live"]
