"""Fan-out of cost changes to the WebSockets of this process, one bounded queue per socket."""

import queue
import threading


class Subscription:
    """One socket's inbox; when it overflows the socket is closed rather than grow."""

    def __init__(self, size: int, patient_id: int | None = None):
        self.queue: queue.Queue = queue.Queue(maxsize=size)
        self.overflowed = False
        self.patient_id = patient_id  # the chart this socket shows, if any

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

    def subscribe(self, size: int, patient_id: int | None = None) -> Subscription:
        """A new inbox that receives every later broadcast."""
        subscription = Subscription(size, patient_id)
        with self._lock:
            self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop delivering to an inbox."""
        with self._lock:
            self._subscriptions.discard(subscription)

    def charts_open(self) -> set[int]:
        """Patients whose chart some socket of this process shows."""
        with self._lock:
            return {s.patient_id for s in self._subscriptions if s.patient_id is not None}

    def broadcast(self, item) -> None:
        """Offer an item (a Push or RESYNC) to every inbox."""
        with self._lock:
            targets = list(self._subscriptions)
        for subscription in targets:
            subscription.offer(item)

    def __len__(self) -> int:
        with self._lock:
            return len(self._subscriptions)
