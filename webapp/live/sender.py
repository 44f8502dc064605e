"""The one thread per process that writes pushes to every open WebSocket.

Each change is rendered once (fragments.render_pushes) and offered to every socket's bounded
queue; this thread drains the queues, keeps what each socket may see (its chart, its scope) and
writes it. A socket whose send buffer is full is skipped, so one slow client cannot hold up the
others; if it stays full until its queue overflows, it is dropped and its page reloads its rows.
"""

import contextlib
import queue
import select
import socket
import threading

from flask import Flask
from simple_websocket import ConnectionClosed

from webapp.live.hub import Hub, Subscription
from webapp.live.messages import RESYNC, Push

TRY_AGAIN_LATER = 1013
IDLE_WAIT = 1.0
# How soon a socket whose send buffer was full is tried again.
BACKLOG_WAIT = 0.05


def message_for(subscription: Subscription, push: Push) -> str | None:
    """What this socket shows of a push: a /costs row, or its own chart's block, in scope."""
    if not subscription.scope.allows(push.patient_id, push.hospital_ids):
        return None
    if subscription.patient_id is None:
        return push.costs_html
    # A chart page has no /costs table: rows it cannot place are errors in the browser.
    if subscription.patient_id == push.patient_id and push.chart_html:
        return push.chart_html
    return None


def close(subscription: Subscription, code: int, reason: str, writable: bool = True) -> None:
    """Close the socket (with a close frame when it can take one) and wake its request thread."""
    ws = subscription.ws
    with subscription.lock:
        if subscription.closed:
            return
        subscription.closed = True
        if ws.connected and writable:
            with contextlib.suppress(ConnectionClosed, OSError):
                ws.close(code, reason)
        elif ws.connected:  # a full send buffer would block the close frame: drop the connection
            ws.connected = False
            with contextlib.suppress(OSError):
                ws.sock.shutdown(socket.SHUT_RDWR)
    ws.event.set()  # the request thread waits in ws.receive()


class Sender(threading.Thread):
    """Drains every socket's queue of one hub and writes to the sockets."""

    def __init__(self, app: Flask, hub: Hub):
        super().__init__(name="live-sender", daemon=True)
        self.app = app
        self.hub = hub
        self.pending = threading.Event()
        self.stopping = threading.Event()
        hub.on_broadcast(self.pending.set)

    def run(self) -> None:
        """Send whatever was broadcast, until stopped."""
        backlog = False
        while not self.stopping.is_set():
            self.pending.wait(BACKLOG_WAIT if backlog else IDLE_WAIT)
            self.pending.clear()
            try:
                backlog = self.send_round()
            except Exception:  # one bad socket or push must not stop every socket's pushes
                self.app.logger.exception("live: sender round failed")
                backlog = False

    def send_round(self) -> bool:
        """Drain every writable socket's queue once; True when some socket still has a backlog."""
        waiting = [
            s
            for s in self.hub.subscriptions()
            if s.ws is not None and not s.closed and (s.overflowed or not s.queue.empty())
        ]
        if not waiting:
            return False
        writable, gone = _poll(waiting)
        backlog = False
        for subscription in waiting:
            ready = subscription in writable
            if subscription in gone:  # the client left: its request thread is ending
                close(subscription, TRY_AGAIN_LATER, "gone", writable=False)
            elif subscription.overflowed:
                close(subscription, TRY_AGAIN_LATER, "reconnect and refresh", ready)
            elif ready:
                self._drain(subscription)
            else:
                backlog = True
        return backlog

    def _drain(self, subscription: Subscription) -> None:
        while not subscription.closed:
            try:
                item = subscription.queue.get_nowait()
            except queue.Empty:
                return
            if item is RESYNC:  # changes may have been missed: the client refreshes its rows
                close(subscription, TRY_AGAIN_LATER, "reconnect and refresh")
                return
            message = message_for(subscription, item)
            if message is None:
                continue
            try:
                with subscription.lock:
                    if not subscription.closed:
                        subscription.ws.send(message)
            except (ConnectionClosed, OSError):
                close(subscription, TRY_AGAIN_LATER, "reconnect and refresh", writable=False)
                return

    def stop(self) -> None:
        """Stop sending (tests, shutdown)."""
        self.stopping.set()
        self.pending.set()
        self.join(timeout=IDLE_WAIT + 1)


def _poll(subscriptions: list[Subscription]) -> tuple[set, set]:
    """Which sockets can take a message now, and which are closed or broken.

    One poll() for every socket with something to send, not a select() per socket (nor
    select()'s limit of 1024 descriptors).
    """
    poller = select.poll()
    by_fd, gone = {}, set()
    for subscription in subscriptions:
        fd = subscription.ws.sock.fileno()
        if fd < 0 or not subscription.ws.connected:
            gone.add(subscription)
            continue
        by_fd[fd] = subscription
        poller.register(fd, select.POLLOUT)
    ready = set()
    for fd, events in poller.poll(0):
        if events & (select.POLLERR | select.POLLNVAL):
            gone.add(by_fd[fd])
        elif events & select.POLLOUT:
            ready.add(by_fd[fd])
    return ready, gone
