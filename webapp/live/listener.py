"""One PostgreSQL LISTEN connection per app and process, reconnecting with backoff."""

import contextlib
import json
import select
import threading
from collections.abc import Callable

import psycopg2
from flask import Flask
from sqlalchemy.engine import make_url

from webapp.live.messages import RESYNC
from webapp.services.costs.live_events import CostChange

CHANNEL = "patient_cost"
POLL_SECONDS = 5.0
MAX_BACKOFF = 30.0


def connect_kwargs(database_uri: str) -> dict:
    """psycopg2.connect arguments for the app's database, with TCP keepalives."""
    url = make_url(database_uri)
    kwargs = url.translate_connect_args(username="user", database="dbname")
    kwargs.update(url.query)
    kwargs.update(keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3)
    return {"connect_timeout": 5, **kwargs}


def parse_notify(payload: str) -> CostChange | None:
    """A CostChange from the trigger's JSON payload; None if it is not one."""
    try:
        data = json.loads(payload)
        return CostChange(
            int(data["id"]), int(data["patient_id"]), str(data["month"]), data.get("op", "UPDATE")
        )
    except (ValueError, KeyError, TypeError):
        return None


class Listener(threading.Thread):
    """LISTENs on patient_cost and hands each batch of changes to `publish`."""

    def __init__(self, app: Flask, publish: Callable[[list], None]):
        super().__init__(name="live-listener", daemon=True)
        self.app = app
        self.publish = publish
        self.hub = app.extensions["live"].hub
        self.connected = threading.Event()
        self.stopping = threading.Event()
        self.connection = None
        self.connections_made = 0

    def run(self) -> None:
        """Listen until stopped; after a drop, reconnect and tell sockets to resync."""
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                self._listen()
                backoff = 0.5
            except (psycopg2.Error, OSError, ValueError) as exc:
                self.connected.clear()
                self.app.logger.warning("live listener lost PostgreSQL: %s", exc)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            finally:
                self._close()

    def _listen(self) -> None:
        self.connection = psycopg2.connect(
            **connect_kwargs(self.app.config["SQLALCHEMY_DATABASE_URI"])
        )
        self.connection.autocommit = True
        with self.connection.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        self.connections_made += 1
        if self.connections_made > 1:
            self.hub.broadcast(RESYNC)  # changes made while we were away were not heard
        self.connected.set()
        while not self.stopping.is_set():
            if select.select([self.connection], [], [], POLL_SECONDS) == ([], [], []):
                with self.connection.cursor() as cursor:
                    cursor.execute("SELECT 1")  # notices a dead server between notifications
                continue
            self.connection.poll()
            changes = [parse_notify(n.payload) for n in self.connection.notifies]
            self.connection.notifies.clear()
            changes = [c for c in changes if c is not None]
            if changes:
                self._publish(changes)

    def _publish(self, changes: list[CostChange]) -> None:
        try:
            self.publish(changes, own_session=True)
        except Exception:  # one bad render must not stop the listener
            self.app.logger.exception("live: could not publish %d changes", len(changes))

    def _close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(psycopg2.Error):
                self.connection.close()
            self.connection = None

    def stop(self) -> None:
        """Stop listening and close the connection (tests, shutdown)."""
        self.stopping.set()
        self.join(timeout=POLL_SECONDS + 1)
