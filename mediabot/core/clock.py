"""The app's clock: where every part of the kernel and every plugin reads time and waits.

Nothing in the kernel calls :func:`asyncio.sleep` or :func:`time.monotonic`
for its pacing, retries, leases or loops: it goes through ``app.clock``, a
:class:`Clock`. Production runs on :class:`MonotonicClock`; the testing kit
passes its virtual :class:`mediabot.testing.FakeClock`, so a test of "25
messages per second" or "wait 5 s after a FloodWait" runs in milliseconds and
asserts on exact times.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from mediabot.core.cancellation import honour_cancellation

__all__ = ["Clock", "MonotonicClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of time and a way to wait for it."""

    def now(self) -> float:
        """Seconds on a monotonic scale; only differences are meaningful."""
        ...

    def wall(self) -> datetime:
        """Wall-clock time, timezone-aware UTC: for days, leases and expiries (never for intervals)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Suspend the calling task for ``seconds`` of this clock's time.

        In a task asked to stop, it raises ``CancelledError`` at once, also when
        the request was swallowed on its way (see :func:`mediabot.honour_cancellation`):
        a loop that sleeps through the clock stops at its next sleep.
        """
        ...


class MonotonicClock:
    """Real time: :func:`time.monotonic` and :func:`asyncio.sleep`."""

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        honour_cancellation()
        await asyncio.sleep(max(0.0, seconds))
