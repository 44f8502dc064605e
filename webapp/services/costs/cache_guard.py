"""Cache calls that survive a Redis outage: pages fall back to the database, logged once.

Each app keeps one guard (in `app.extensions`). After a failure the guard stops calling Redis
for a short pause, so a dead server costs one log line and no per-request timeouts; the first
call that succeeds again logs the recovery. An invalidation that could not reach Redis leaves a
debt: the cache is cleared on recovery, so no entry written before the outage outlives it.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import current_app
from redis.exceptions import RedisError

from webapp.extensions import cache

log = logging.getLogger("webapp.cache")

RETRY_AFTER_SECONDS = 5.0
CACHE_ERRORS = (RedisError, OSError)
_MISSING = object()


class CacheGuard:
    """Circuit breaker around one app's cache backend."""

    def __init__(self, retry_after: float = RETRY_AFTER_SECONDS):
        self.retry_after = retry_after
        self.down_since: float | None = None
        self.retry_at = 0.0
        self.debt = False
        self._lock = threading.Lock()

    def call(self, operation: Callable[[], Any], default: Any = None, invalidates: bool = False):
        """Run one cache operation; on a cache error return `default` and open the breaker."""
        if self.down_since is not None and time.monotonic() < self.retry_at:
            self.debt = self.debt or invalidates
            return default
        try:
            if self.debt:
                cache.clear()
                self.debt = False
            result = operation()
        except CACHE_ERRORS as exc:
            self._failed(exc, invalidates)
            return default
        if self.down_since is not None:
            self._recovered()
        return result

    def _failed(self, exc: Exception, invalidates: bool) -> None:
        with self._lock:
            self.debt = self.debt or invalidates
            self.retry_at = time.monotonic() + self.retry_after
            if self.down_since is None:
                self.down_since = time.monotonic()
                log.error("Cache unavailable, serving from the database: %s", exc)

    def _recovered(self) -> None:
        with self._lock:
            if self.down_since is not None:
                log.warning("Cache available again after %.0fs", time.monotonic() - self.down_since)
                self.down_since = None


def guard() -> CacheGuard:
    """The current app's guard, created on first use."""
    return current_app.extensions.setdefault("aikey_cache_guard", CacheGuard())


def get(key: str) -> Any:
    """The cached value, or None when absent or the cache is down."""
    return guard().call(lambda: cache.get(key))


def put(key: str, value: Any, timeout: int | None = None) -> None:
    """Store a value; silently skipped while the cache is down."""
    guard().call(lambda: cache.set(key, value, timeout=timeout))


def put_new(key: str, value: Any, timeout: int | None = None) -> None:
    """Store a value unless the key exists; skipped while the cache is down."""
    guard().call(lambda: cache.add(key, value, timeout=timeout))


def delete_keys(keys: Iterable[str]) -> None:
    """Delete keys in one round trip; an outage is remembered and repaid on recovery."""
    keys = list(keys)
    if keys:
        guard().call(lambda: _delete(keys), invalidates=True)


def _delete(keys: list[str]) -> None:
    backend = cache.cache
    client = getattr(backend, "_write_client", None)
    if client is None:
        backend.delete_many(*keys)
        return
    # cachelib's delete_many checks every key back one by one; one DEL is enough.
    prefix = backend._get_prefix()
    for start in range(0, len(keys), 10_000):
        client.delete(*(prefix + key for key in keys[start : start + 10_000]))
