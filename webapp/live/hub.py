"""Fan-out of cost changes to the WebSockets of this process, one bounded queue per socket."""

import queue
import threading
from collections.abc import Callable


class Subscription:
    """One socket's inbox; when it overflows the socket is closed rather than grow.

    The hub's sender writes to `ws` and the session recheck closes it when the session ends:
    both hold `lock` to touch the connection. `scope` is swapped whole by the recheck, so the
    sender always filters with a complete one. `token` is the server-side session id the
    socket was opened with, and `opened_from` the audit context (client address, path) of its
    request, for the audit row of a session the recheck ends.
    """

    def __init__(
        self,
        size: int,
        patient_id: int | None = None,
        scope=None,
        token: str | None = None,
        opened_from=None,
    ):
        self.queue: queue.Queue = queue.Queue(maxsize=size)
        self.overflowed = False
        self.patient_id = patient_id  # the chart this socket shows, if any
        self.token = token
        self.opened_from = opened_from
        self.ws = None  # set once the handshake is done; the sender waits for it
        self.scope = scope
        self.lock = threading.Lock()
        self.closed = False  # set by whoever closes ws first

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
        self._wake: Callable[[], None] = lambda: None

    def on_broadcast(self, wake: Callable[[], None]) -> None:
        """Call `wake` after every broadcast (the sender, which then drains the inboxes)."""
        self._wake = wake

    def subscribe(self, size: int, **details) -> Subscription:
        """A new inbox that receives every later broadcast (`details`: Subscription's)."""
        subscription = Subscription(size, **details)
        with self._lock:
            self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop delivering to an inbox."""
        with self._lock:
            self._subscriptions.discard(subscription)

    def subscriptions(self) -> list[Subscription]:
        """The inboxes open now."""
        with self._lock:
            return list(self._subscriptions)

    def charts_open(self) -> set[int]:
        """Patients whose chart some socket of this process shows."""
        with self._lock:
            return {s.patient_id for s in self._subscriptions if s.patient_id is not None}

    def broadcast(self, item) -> None:
        """Offer an item (a Push or RESYNC) to every inbox, then wake the sender."""
        for subscription in self.subscriptions():
            subscription.offer(item)
        self.wake()

    def wake(self) -> None:
        """Tell the sender there may be something to send."""
        self._wake()

    def __len__(self) -> int:
        with self._lock:
            return len(self._subscriptions)
