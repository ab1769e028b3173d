"""Periodic work: ``ctx.every(interval, fn, name=...)`` and its health, kept by the kernel.

A job runs ``await fn()`` on a fixed grid of the app's clock: one interval
after the app starts, then every interval. A run that outlasts the interval
never overlaps the next one: the ticks that passed while it ran are dropped
(counted as *skipped*) and the next run waits for the next tick, so runs
never pile up after a slow one. ``jitter`` delays each run by a random part
of that many seconds, without moving the grid (no drift).

A run that raises is logged with its traceback, counted in
``mediabot_periodic_failures_total{owner,job}`` and shown in the health
report; the schedule goes on, and consecutive failures wait out a backoff
(0.5 s, doubling, up to ``max_backoff``) like a crashed ``spawn_loop``, so a
job with a short interval does not hammer a server that is down.

Every started job adds a :class:`~mediabot.HealthReport` to ``app.health()``
(component ``<plugin>.<name>``): the last success, the last error, the lag
(how late the last run started; while a run overruns, how far past its next
tick it is), and the counts. The plugin writes no health code for it.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from mediabot.core.types import HealthReport

if TYPE_CHECKING:
    from mediabot.core.clock import Clock
    from mediabot.core.metrics import Metrics
    from mediabot.core.supervisor import TaskSupervisor

__all__ = ["Periodic", "PeriodicJob"]

log = logging.getLogger("mediabot.periodic")


@dataclass(eq=False)
class PeriodicJob:
    """One job's schedule and outcome (what ``ctx.every`` returns; read it, never set it).

    :param owner: the plugin that owns it.
    :param name: its name within the plugin.
    """

    owner: str
    name: str
    interval: float
    fn: Callable[[], Awaitable[object]] = field(repr=False)
    jitter: float = 0.0
    max_backoff: float = 30.0
    #: successful and failed runs so far
    runs: int = 0
    failures: int = 0
    #: ticks dropped because a run (or a failure's backoff) outlasted them
    skipped: int = 0
    #: wall time of the last run that returned, and app-clock time of its end
    last_success: datetime | None = None
    last_success_at: float | None = None
    #: ``Type: message`` of the last run that raised, and app-clock time of its end
    last_error: str | None = None
    last_error_at: float | None = None
    #: seconds the last run started after its planned time
    lag: float = 0.0
    #: failures in a row (resets on success): sets the backoff
    consecutive_failures: int = 0
    started: bool = False
    #: app-clock time the grid counts from (when the job started): run ``n`` is due at ``origin + n * interval``
    origin: float | None = None
    _tick: int = 0
    _running_since: float | None = None

    @property
    def component(self) -> str:
        return f"{self.owner}.{self.name}"

    def next_tick(self) -> float | None:
        """App-clock time of the next planned run (``None`` before the job starts)."""
        return None if self.origin is None else self.origin + self._tick * self.interval


class Periodic:
    """The periodic jobs of one app.

    :param clock: the app's clock (a test's virtual clock drives the jobs).
    :param metrics: where failures are counted.
    :param rng: the source of jitter.
    """

    def __init__(self, clock: Clock, metrics: Metrics, *, rng: random.Random | None = None) -> None:
        self._clock = clock
        self._rng = rng if rng is not None else random.Random()
        self._jobs: list[PeriodicJob] = []
        self._supervisor: TaskSupervisor | None = None
        self._failed = metrics.counter("mediabot_periodic_failures_total",
                                       "Runs of periodic jobs that raised", ["owner", "job"])

    def add(self, owner: str, interval: float, fn: Callable[[], Awaitable[object]], *, name: str,
            jitter: float = 0.0, max_backoff: float = 30.0) -> PeriodicJob:
        """Register a job; it starts with the app, or now if the app is already running.

        :raises ValueError: a non-positive interval, a jitter outside ``[0, interval]``, or a
            name the plugin already uses for another job.
        """
        if not (interval > 0 and math.isfinite(interval)):
            raise ValueError(f"every(): interval must be a positive number of seconds, not {interval!r}")
        if not 0 <= jitter <= interval:
            raise ValueError(f"every(): jitter must be from 0 to the interval ({interval:g}), not {jitter!r}")
        if any(j.owner == owner and j.name == name for j in self._jobs):
            raise ValueError(f"plugin {owner!r} already has a periodic job named {name!r}")
        job = PeriodicJob(owner=owner, name=name, interval=float(interval), fn=fn, jitter=float(jitter),
                          max_backoff=max_backoff)
        self._jobs.append(job)
        if self._supervisor is not None:
            self._spawn(job)
        return job

    def start(self, supervisor: TaskSupervisor, owners: Iterable[str]) -> None:
        """Start the jobs of ``owners`` (the plugins that started); later jobs start as they are added."""
        self._supervisor = supervisor
        running = set(owners)
        for job in self._jobs:
            if job.owner in running and not job.started:
                self._spawn(job)

    def _spawn(self, job: PeriodicJob) -> None:
        assert self._supervisor is not None
        job.started = True
        if job.origin is None:  # the grid counts from the start of the app (or of a job added later)
            job.origin, job._tick = self._clock.now(), 1
        # spawn_loop: owned by the plugin, stopped before its shutdown hook, restarted if the
        # scheduler itself ever fails (the job's own errors are handled in _run).
        self._supervisor.spawn_loop(lambda: self._run(job), name=f"every:{job.name}", owner=job.owner,
                                    max_backoff=job.max_backoff)

    async def _run(self, job: PeriodicJob) -> None:
        clock = self._clock
        assert job.origin is not None
        while True:
            planned = job.origin + job._tick * job.interval
            if job.jitter:
                planned += self._rng.uniform(0, job.jitter)
            await clock.sleep(planned - clock.now())
            start = clock.now()
            job.lag = max(0.0, start - planned)
            job._running_since = start
            try:
                await job.fn()
            except Exception as exc:  # one failed run: the schedule goes on
                job.failures += 1
                job.consecutive_failures += 1
                text = str(exc).strip().splitlines()
                job.last_error = f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__
                job.last_error_at = clock.now()
                self._failed.labels(owner=job.owner, job=job.name).inc()
                log.error("periodic job %s of %s failed: %s", job.name, job.owner, exc, exc_info=exc)
            else:
                job.consecutive_failures = 0
                job.last_success, job.last_success_at = clock.wall(), clock.now()
            finally:
                job._running_since = None
            job.runs += 1  # not for a run cut short by the shutdown (CancelledError)
            self._advance(job, clock.now())

    def _advance(self, job: PeriodicJob, end: float) -> None:
        """Move to the first tick not before ``end`` (plus the backoff after a failure)."""
        assert job.origin is not None
        earliest = end
        if job.consecutive_failures:
            earliest += min(0.5 * 2 ** (job.consecutive_failures - 1), job.max_backoff)
        # The small epsilon keeps float noise from dropping a tick that ``end`` only just reached.
        nxt = max(job._tick + 1, math.ceil((earliest - job.origin) / job.interval - 1e-9))
        job.skipped += nxt - job._tick - 1
        job._tick = nxt

    # -- health ---------------------------------------------------------------------
    def reports(self) -> list[HealthReport]:
        """One report per started job."""
        return [self._report(job) for job in self._jobs if job.started]

    def _report(self, job: PeriodicJob) -> HealthReport:
        now = self._clock.now()
        lag = job.lag
        parts = [f"every {_secs(job.interval)}"]
        if job._running_since is not None:
            parts.append(f"running for {_secs(now - job._running_since)}")
            nxt = job.next_tick()
            if nxt is not None and now > nxt + job.interval:
                lag = now - (nxt + job.interval)  # overrunning: how far past the tick it should have freed
        if job.last_success_at is not None:
            parts.append(f"last ok {_secs(now - job.last_success_at)} ago")
        elif job.runs == 0:
            parts.append("not run yet")
        else:
            parts.append("never succeeded")
        if job.last_error is not None and job.last_error_at is not None:
            parts.append(f"last error {_secs(now - job.last_error_at)} ago: {job.last_error}")
        parts.append(f"lag {_secs(lag)}")
        parts.append(f"{job.runs} runs, {job.failures} failed, {job.skipped} skipped")
        healthy = job.consecutive_failures == 0 and lag <= job.interval
        return HealthReport(component=job.component, status="ok" if healthy else "degraded",
                            detail="; ".join(parts))


def _secs(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
