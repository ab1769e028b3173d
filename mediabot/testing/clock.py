"""FakeClock: virtual time for tests, standing still while the test waits for real work.

``await clock.sleep(s)`` parks the caller until virtual time reaches
``now() + s``. Whenever the event loop is idle (no ready callbacks) and someone
sleeps, time jumps to the earliest deadline and the sleepers due at that
instant wake up, in the order they went to sleep. Nothing really sleeps.

An idle loop is not always a loop with nothing to do. It is idle too while it
waits for work done elsewhere, and then time must not jump, or a loop that
sleeps 300 s between database queries runs thousands of rounds while a test
waits two real seconds for a thread. So time stands still while:

* a call to Redis or MongoDB is in flight: the app reports them
  (:class:`mediabot.core.iohold.IoObserver`; the harness makes this clock the
  app's observer). A call older than ``max_hold`` real seconds (a stopped
  server, a hung call) no longer holds, so a test of an outage moves on;
* a function runs in an executor of the loop (``asyncio.to_thread``,
  ``loop.run_in_executor``, hence ``getaddrinfo``), until it returns;
* a child started with ``asyncio.create_subprocess_exec`` / ``_shell`` runs,
  until it exits. (A long-lived child, such as a server, would stop time for
  its whole life: start those with :class:`subprocess.Popen`, as the kit's
  test servers are.)

Threads and children are seen on the event loop the clock first meets (the
running loop when it is made, else the one of its first ``sleep``), through
that loop's ``run_in_executor`` and ``subprocess_exec``/``subprocess_shell``,
wrapped on that loop object only: nothing global is patched.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from mediabot.core.cancellation import honour_cancellation

__all__ = ["FakeClock"]


class FakeClock:
    """Virtual time that advances only when every task waits on it and no real work is under way.

    Satisfies :class:`mediabot.Clock` and the app's I/O observer protocol
    (:meth:`hold_io`, :meth:`release_io`).

    :param start: the initial value of :meth:`now`.
    :param wall_start: what :meth:`wall` says at ``start`` (timezone-aware);
        wall time moves with virtual time. Default: 2026-01-01 00:00 UTC.
    :param max_hold: real seconds after which a server call in flight stops holding time
        (threads and children hold until they end).
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
        # Threads and child processes running: tokens; they never expire.
        self._work: set[int] = set()
        self._hold_tokens = itertools.count()
        self._hold_timer: asyncio.TimerHandle | None = None
        self._watched: weakref.ref[asyncio.AbstractEventLoop] | None = None
        self.max_hold = max_hold
        # How many times sleep() was called with a positive duration: lets a
        # test assert that something did *not* wait.
        self.sleep_calls = 0
        try:
            self._watch(asyncio.get_running_loop())
        except RuntimeError:  # made outside a loop: the first sleep() watches its loop
            pass

    def now(self) -> float:
        return self._now

    def wall(self) -> datetime:
        return (self._wall_start + timedelta(seconds=self._now - self._start)).astimezone(UTC)

    async def sleep(self, seconds: float) -> None:
        honour_cancellation()
        loop = asyncio.get_running_loop()
        self._watch(loop)
        if seconds <= 0:
            # Still a suspension point, like asyncio.sleep(0): callers rely on
            # sleep() to let other tasks run.
            await asyncio.sleep(0)
            return
        self.sleep_calls += 1
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

    # -- holding time ----------------------------------------------------------------
    def hold_io(self) -> int:
        """A call to a real server starts: time stands still until :meth:`release_io` (or ``max_hold``)."""
        token = next(self._hold_tokens)
        self._holds[token] = time.monotonic()
        return token

    def release_io(self, token: int) -> None:
        """The call of ``token`` ended."""
        if self._holds.pop(token, None) is not None:
            self._released()

    def hold_work(self) -> int:
        """Work outside the loop starts (a thread, a child process): time stands still until :meth:`release_work`."""
        token = next(self._hold_tokens)
        self._work.add(token)
        return token

    def release_work(self, token: int) -> None:
        """The work of ``token`` ended."""
        if token in self._work:
            self._work.discard(token)
            self._released()

    @property
    def held(self) -> int:
        """Calls to real servers, threads and child processes holding the clock now."""
        return len(self._holds) + len(self._work)

    @property
    def sleeping(self) -> int:
        """How many tasks are waiting on this clock."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

    def _released(self) -> None:
        if self._holds or self._work or not self._sleepers:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # released outside a loop: the next sleep() schedules the jump
            return
        self._schedule_advance(loop)

    # -- advancing -------------------------------------------------------------------
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
        if self._work or self._held_for(loop):
            return  # the release (or a server hold's expiry) looks again
        self._now = max(self._now, self._sleepers[0][0])
        self._wake_due()
        if self._sleepers:
            self._schedule_advance(loop)

    def _held_for(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether a live server hold stops the jump; if so, look again when the oldest one expires."""
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

    # -- watching threads and children -----------------------------------------------
    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._watched is not None and self._watched() is not None:
            return
        self._watched = weakref.ref(loop)
        _watch_work(loop, weakref.ref(self))


def _watch_work(loop: asyncio.AbstractEventLoop, clock_ref: weakref.ref[FakeClock]) -> None:
    """Wrap ``loop``'s executor and subprocess entry points so that ``clock`` holds while they run.

    The wrappers are attributes of this loop object (they shadow its methods);
    they hold the clock through a weak reference, so a clock that is gone
    costs a lookup and nothing else.
    """
    run_in_executor = loop.run_in_executor

    def held_run_in_executor(executor: Any, func: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        future = run_in_executor(executor, func, *args)
        clock = clock_ref()
        if clock is not None:
            token = clock.hold_work()
            # Done callbacks run on the loop, after the waiting task is scheduled:
            # the task sees the result before time may jump.
            future.add_done_callback(lambda _f: clock.release_work(token))
        return future

    setattr(loop, "run_in_executor", held_run_in_executor)  # noqa: B010 - shadow this loop's method only
    for name in ("subprocess_exec", "subprocess_shell"):
        setattr(loop, name, _held_subprocess(getattr(loop, name), clock_ref))


def _held_subprocess(spawn: Callable[..., Any], clock_ref: weakref.ref[FakeClock]) -> Callable[..., Any]:
    async def held_spawn(protocol_factory: Callable[[], asyncio.SubprocessProtocol], *args: Any,
                         **kwargs: Any) -> Any:
        clock = clock_ref()
        if clock is None:
            return await spawn(protocol_factory, *args, **kwargs)
        token = clock.hold_work()

        def factory() -> asyncio.SubprocessProtocol:
            protocol = protocol_factory()
            exited = protocol.process_exited

            def process_exited() -> None:
                clock.release_work(token)  # release_work ignores a token already released
                exited()

            setattr(protocol, "process_exited", process_exited)  # noqa: B010 - this protocol object only
            return protocol

        try:
            return await spawn(factory, *args, **kwargs)
        except BaseException:
            clock.release_work(token)  # no child: nothing to wait for
            raise

    return held_spawn
