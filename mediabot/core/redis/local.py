"""A bounded in-process map with per-entry expiry: the stand-in while Redis is down.

Both the session store (to keep a user's paging state) and the rate limiter
(to tell a refused user once, not on every message) need a little memory of
their own when Redis cannot be reached. It must be bounded, because an outage
can last long enough for every user of the bot to write something, and it must
honour TTLs the way Redis does, so that degraded mode behaves like normal mode.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlLru(Generic[V]):
    """At most ``max_entries`` live values, least recently used evicted first.

    :param max_entries: capacity; the least recently used entry is dropped beyond it.
    :param clock: monotonic seconds; injectable so expiry can be tested without sleeping.
    """

    def __init__(self, max_entries: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries}")
        self._max = max_entries
        self._clock = clock
        # key -> (expires_at or None for no expiry, value)
        self._entries: OrderedDict[str, tuple[float | None, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return self._live(key) is not None

    def get(self, key: str) -> tuple[V] | None:
        """The value wrapped in a 1-tuple, or ``None`` when absent or expired.

        The wrapper lets callers store ``None`` itself (a tombstone) and still
        tell "stored None" from "nothing stored".
        """
        entry = self._live(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return (entry[1],)

    def set(self, key: str, value: V, ttl: float | None) -> None:
        """Store ``value``; ``ttl`` in seconds, ``None`` to keep it until evicted."""
        expires_at = None if ttl is None else self._clock() + ttl
        self._entries[key] = (expires_at, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def pop(self, key: str) -> None:
        self._entries.pop(key, None)

    def _live(self, key: str) -> tuple[float | None, V] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at = entry[0]
        if expires_at is not None and expires_at <= self._clock():
            # Expired entries are dropped when touched; eviction by size bounds the rest.
            del self._entries[key]
            return None
        return entry
