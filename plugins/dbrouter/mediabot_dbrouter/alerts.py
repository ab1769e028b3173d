"""Telling operators and admins what the router did, without flooding anyone.

Every event is logged and counted. Admins get a Telegram message (when the
app has a gateway), at most one per event key (``breaker:a``, ``switch``,
``capacity:b``...) every ``interval`` seconds; what was held back is
summarised in the next message for that key.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["Alerts"]

log = logging.getLogger("mediabot.plugin.dbrouter")


class Alerts:
    """Rate-limited notices.

    :param send: ``await send(text)`` delivers one text to every admin; ``None``
        when there is nobody to tell (no gateway).
    :param spawn: runs a coroutine as a supervised background task (sending
        never blocks the write path).
    :param counter: a Prometheus counter with a ``kind`` label.
    :param interval: seconds between two messages for the same key.
    """

    def __init__(self, *, send: Callable[[str], Awaitable[None]] | None = None,
                 spawn: Callable[[Any], Any] | None = None, counter: Any = None, interval: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.send = send
        self.spawn = spawn
        self.counter = counter
        self.interval = interval
        self.clock = clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self.sent: deque[str] = deque(maxlen=100)  # the last texts handed to ``send``, newest last

    def notify(self, key: str, text: str, *, level: int = logging.WARNING) -> None:
        log.log(level, "%s", text, extra={"event": key})
        if self.counter is not None:
            self.counter.labels(kind=key.split(":", 1)[0]).inc()
        if self.send is None:
            return
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._held[key] = self._held.get(key, 0) + 1
            return
        self._last[key] = now
        held = self._held.pop(key, 0)
        message = f"dbrouter: {text}" + (f" ({held} similar notice(s) held back)" if held else "")
        self.sent.append(message)
        if self.spawn is not None:
            self.spawn(self._deliver(message))

    async def _deliver(self, message: str) -> None:
        assert self.send is not None
        try:
            await self.send(message)
        except Exception as exc:  # noqa: BLE001 - an alert that cannot be sent is logged, not raised
            log.warning("could not alert admins: %s: %s", type(exc).__name__, exc)
