"""Clocks for the gateway's pacing and retry logic.

Everything in :mod:`mediabot.core.telegram` that waits does so through a
:class:`Clock`, never through :func:`asyncio.sleep` or :func:`time.monotonic`
directly. Production uses :class:`MonotonicClock`; tests use :class:`FakeClock`,
whose virtual time jumps forward as soon as every task is asleep, so a test of
"25 messages per second" or "wait 5 s after a FloodWait" runs in milliseconds
and asserts on exact, reproducible times.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from mediabot.core.cancellation import honour_cancellation

__all__ = ["Clock", "FakeClock", "MonotonicClock", "TimeHolder"]


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


@runtime_checkable
class TimeHolder(Protocol):
    """A clock whose time should stand still while the app waits for its servers.

    :class:`FakeClock` is one. :class:`~mediabot.core.app.App` holds it for every
    Redis command and MongoDB command in flight (not for blocking reads such as
    ``XREADGROUP ... BLOCK``, which wait for something to happen).
    """

    def hold_io(self) -> int:
        """A call to a real server starts: return a token for :meth:`release_io`."""
        ...

    def release_io(self, token: int) -> None:
        """The call of ``token`` ended (answered, failed or cancelled)."""
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


class FakeClock:
    """Virtual time that advances only when the event loop has nothing to run.

    ``await clock.sleep(s)`` parks the caller until virtual time reaches
    ``now() + s``. Whenever the loop is idle (no ready callbacks) and someone
    sleeps, time jumps to the earliest deadline and the sleepers due at that
    instant wake up, in the order they went to sleep. Nothing really sleeps.

    Only waits made through this clock are virtual. While the loop waits for a
    real server, it is idle too: without more, time would jump then, and a
    Redis round trip would "take" as long as the gap to the next sleeper
    (sends bunch up after it, a 2 s pause becomes 6,000 s). So calls to real
    servers *hold* the clock (:meth:`hold_io` ... :meth:`release_io`; the app
    does it for its Redis and MongoDB clients when its clock is a
    :class:`TimeHolder`): time does not jump while one is in flight, as in
    production, where a round trip is a fraction of a millisecond. A hold
    older than ``max_hold`` real seconds (a stopped server, a hung call) no
    longer holds, so a test of an outage still moves on.

    :param start: the initial value of :meth:`now`.
    :param wall_start: what :meth:`wall` says at ``start`` (timezone-aware);
        wall time moves with virtual time. Default: 2026-01-01 00:00 UTC.
    :param max_hold: real seconds after which a call in flight stops holding time.
    """

    def __init__(self, start: float = 0.0, *, wall_start: datetime | None = None, max_hold: float = 1.0) -> None:
        self._now = start
        self._start = start
        self._wall_start = wall_start if wall_start is not None else datetime(2026, 1, 1, tzinfo=UTC)
        if self._wall_start.tzinfo is None:
            raise ValueError("wall_start must be timezone-aware")
        # (deadline, arrival order, future): the order breaks ties so that
        # sleepers due at the same instant wake first-come, first-served.
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()
        self._advancer: asyncio.Handle | None = None
        self._idle_passes = 0
        # Calls to real servers in flight: token -> when it started (real time).
        self._holds: dict[int, float] = {}
        self._hold_tokens = itertools.count()
        self._hold_timer: asyncio.TimerHandle | None = None
        self.max_hold = max_hold
        # How many times sleep() was called with a positive duration: lets a
        # test assert that something did *not* wait.
        self.sleep_calls = 0

    def now(self) -> float:
        return self._now

    def wall(self) -> datetime:
        return (self._wall_start + timedelta(seconds=self._now - self._start)).astimezone(UTC)

    async def sleep(self, seconds: float) -> None:
        honour_cancellation()
        if seconds <= 0:
            # Still a suspension point, like asyncio.sleep(0): callers rely on
            # sleep() to let other tasks run.
            await asyncio.sleep(0)
            return
        self.sleep_calls += 1
        loop = asyncio.get_running_loop()
        wakeup: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._arrivals), wakeup))
        self._schedule_advance(loop)
        # A cancelled sleeper stays in the heap; _advance skips finished futures.
        await wakeup

    def advance(self, seconds: float) -> None:
        """Move time forward by hand and wake every sleeper now due."""
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        self._now += seconds
        self._wake_due()

    def hold_io(self) -> int:
        token = next(self._hold_tokens)
        self._holds[token] = time.monotonic()
        return token

    def release_io(self, token: int) -> None:
        if self._holds.pop(token, None) is None or self._holds or not self._sleepers:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # released outside a loop: the next sleep() schedules the jump
            return
        self._schedule_advance(loop)

    @property
    def held(self) -> int:
        """Calls to real servers holding the clock now."""
        return len(self._holds)

    @property
    def sleeping(self) -> int:
        """How many tasks are waiting on this clock."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

    def _schedule_advance(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._advancer is None:
            self._advancer = loop.call_soon(self._advance, loop)

    def _advance(self, loop: asyncio.AbstractEventLoop) -> None:
        self._advancer = None
        self._drop_finished()
        if not self._sleepers:
            return
        if not self._loop_idle(loop):
            # Other callbacks are runnable: a woken task may be about to take
            # a slot or release a lock. Look again on the next loop iteration.
            self._advancer = loop.call_soon(self._advance, loop)
            return
        if self._held_for(loop):
            return  # release_io (or the hold's expiry) looks again
        self._now = max(self._now, self._sleepers[0][0])
        self._wake_due()
        if self._sleepers:
            self._schedule_advance(loop)

    def _held_for(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether a live hold stops the jump; if so, look again when the oldest one expires."""
        if not self._holds:
            return False
        now = time.monotonic()
        for token, since in list(self._holds.items()):
            if now - since >= self.max_hold:
                del self._holds[token]  # a hung call: time moves on without it
        if not self._holds:
            return False
        if self._hold_timer is None or self._hold_timer.cancelled():
            expires = min(self._holds.values()) + self.max_hold - now

            def expired() -> None:
                self._hold_timer = None
                self._schedule_advance(loop)

            self._hold_timer = loop.call_later(max(0.0, expires), expired)
        return True

    def _loop_idle(self, loop: asyncio.AbstractEventLoop) -> bool:
        # asyncio has no public "is anything runnable?" question. The default
        # loop keeps its runnable callbacks in ``_ready``; when that is empty
        # the loop would block in select(), i.e. every task is waiting.
        ready = getattr(loop, "_ready", None)
        if ready is not None:
            return len(ready) == 0
        # Other loops (uvloop): settle for a fixed number of iterations, which
        # covers the few hops a woken task needs to reach its next sleep.
        self._idle_passes += 1
        if self._idle_passes < 50:
            return False
        self._idle_passes = 0
        return True

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, wakeup = heapq.heappop(self._sleepers)
            if not wakeup.done():
                wakeup.set_result(None)

    def _drop_finished(self) -> None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
