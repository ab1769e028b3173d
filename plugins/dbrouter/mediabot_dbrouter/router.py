"""The database router: the provider the dbrouter plugin gives the app.

Writes go to one **active** database: the first healthy one (breaker
closed, prepared, below ``high_water`` of its quota) in configured order.
It moves on automatically when the active one fills up or its breaker
opens; it moves *back* to a preferred (earlier) database only by rule —
that one must have been healthy and below ``low_water`` for
``return_after`` seconds — so a database that flickers does not drag
writes back and forth. An admin can pin one (``/dbswitch NAME``); a pin
holds until that database fails (breaker open) or is full. These rules act
in :meth:`DatabaseRouter.evaluate` only (monitor passes, each write, a
breaker opening); :attr:`DatabaseRouter.active` just reads the outcome.

Reads fan out to every readable database concurrently; one that is down is
skipped (and reported), never waited for twice: its breaker refuses at once.

A background monitor pings each database every ``probe_interval`` seconds
(half-open trials go through it, and it re-runs the preparation steps on a
database that comes back), and measures capacity every ``capacity_refresh``
seconds. The write path itself never asks a database how full it is.

Uniqueness across databases is :mod:`mediabot_dbrouter.writes`' job.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pymongo
from pymongo.errors import PyMongoError

from mediabot import DatabaseUnavailable, InsertReport, honour_cancellation
from mediabot_dbrouter.alerts import Alerts
from mediabot_dbrouter.breaker import BreakerStats, State
from mediabot_dbrouter.capacity import MB, measure
from mediabot_dbrouter.config import DbRouterConfig as RouterSettings
from mediabot_dbrouter.member import Member, MemberUnavailable
from mediabot_dbrouter.metrics import RouterMetrics
from mediabot_dbrouter.pins import PinSync
from mediabot_dbrouter.status import MemberStatus
from mediabot_dbrouter.views import ViewPublisher
from mediabot_dbrouter.writes import UniqueWriter

__all__ = ["DatabaseRouter", "MemberStatus"]

log = logging.getLogger("mediabot.plugin.dbrouter")
T = TypeVar("T")
STATE_VALUE = {"closed": 0, "half_open": 1, "open": 2}


class DatabaseRouter:
    """Routes catalogue reads and writes over several databases.

    :param members: the databases, in configured order.
    :param home: the member holding users, bans and the claim registry.
    :param settings: routing thresholds and timings.
    :param alerts: where notices go.
    :param metrics: ``app.metrics`` (or ``None``: no metrics).
    :param clock: monotonic clock for routing rules (the breakers have theirs).
    """

    def __init__(self, members: list[Member], *, home: Member, settings: RouterSettings,
                 alerts: Alerts | None = None, metrics: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.members = members
        self.home = home
        self.settings = settings
        self.alerts = alerts or Alerts()
        self.clock = clock
        self.writers = [m for m in members if m.takes_writes]
        self._by_name = {m.name: m for m in members}
        self._active: Member | None = None
        self._pinned: Member | None = None
        self._over_high: set[str] = set()
        # Preparation steps (the catalogue's indexes): run on every database
        # before it takes writes, again whenever it comes back from an outage.
        self._steps: list[Callable[[Any], Awaitable[None]]] = []
        #: collections written with insert_unique -> their key (the catalogue's is known from the start)
        self.unique_collections: dict[str, str] = {"files": "file_unique_id"}
        self.writer = UniqueWriter(self)
        self.pins = PinSync(self)
        #: set by a running bot: its view of the databases, for ``mediabot db status``
        self.views: ViewPublisher | None = None
        self._metrics(metrics)
        for m in members:
            m.breaker.on_change = self._on_breaker
            self._state_gauge.labels(database=m.name).set(0)

    def _metrics(self, metrics: Any) -> None:
        m = RouterMetrics(metrics)
        self._state_gauge = m.state
        self._transitions = m.transitions
        self._switches = m.switches
        self._written = m.written
        self._used = m.used
        self.counters = m

    # -- DatabaseProvider / Placement ------------------------------------------------
    def member(self, name: str) -> Member | None:
        return self._by_name.get(name)

    def write_database(self) -> Any:
        return self.choose_target().db

    def read_databases(self) -> list[Any]:
        return [m.db for m in self.members if m.holds_files and m.readable]

    def home_database(self) -> Any:
        return self.home.db

    async def prepare(self, step: Callable[[Any], Awaitable[None]]) -> None:
        self._steps.append(step)
        await asyncio.gather(*(self._prepare(m, [step] if m.prepared else self._steps)
                               for m in self.members))

    async def _prepare(self, m: Member, steps: list[Callable[[Any], Awaitable[None]]]) -> bool:
        try:
            for step in steps:
                await m.run(lambda step=step: step(m.db))
        except MemberUnavailable as exc:
            m.prepared = False
            log.warning("database %s not prepared (it takes no writes until it is): %s", m.name, exc)
            return False
        m.prepared = True if steps is self._steps else m.prepared
        return True

    async def insert_unique(self, collection: str, docs: list[dict[str, Any]], *, key: str) -> InsertReport:
        return await self.writer.insert(collection, docs, key)

    async def read_each(self, op: Callable[[Any], Awaitable[T]]) -> tuple[list[T], list[str]]:
        holding = [m for m in self.members if m.holds_files]
        readable = [m for m in holding if m.readable]
        skipped = [m.name for m in holding if m not in readable]
        answers = await asyncio.gather(*(m.run(lambda m=m: op(m.db)) for m in readable), return_exceptions=True)
        results: list[T] = []
        for m, answer in zip(readable, answers, strict=True):
            if isinstance(answer, MemberUnavailable):
                skipped.append(m.name)
            elif isinstance(answer, BaseException):
                raise answer
            else:
                results.append(answer)
        if not results:
            raise DatabaseUnavailable(f"no database could be read (unavailable: {', '.join(skipped)})")
        return results, skipped

    # -- write routing -------------------------------------------------------------
    def eligible(self, m: Member) -> bool:
        """Can take writes as the active database: healthy, ready, below high water."""
        return (m.takes_writes and m.prepared and m.breaker.state == "closed"
                and m.capacity.fraction < self.settings.high_water)

    @property
    def active(self) -> Member | None:
        """The database taking writes, as last decided by :meth:`evaluate` (reading it changes nothing)."""
        return self._active

    def evaluate(self) -> Member | None:
        """Decide which database takes writes now, and act on it: the transition of the routing rules.

        Cheap (memory only). Run by the monitor on every pass, by the write path before
        every batch (the estimate may have crossed a high-water mark), and at once when a
        breaker opens. Moves the return-to-preferred clocks, releases a pin whose database
        failed or filled, switches the active database and tells admins.

        :returns: the database taking writes now (``None``: none can).
        """
        now = self.clock()
        for m in self.writers:
            good = m.breaker.state == "closed" and m.prepared and m.capacity.fraction < self.settings.low_water
            if not good:
                m.good_since = None
            elif m.good_since is None:
                m.good_since = now
        pinned = self._pinned
        if pinned is not None:
            if pinned.breaker.state == "open" or pinned.capacity.fraction >= 1.0:
                self._pinned = None
                self.pins.released = pinned.name  # and for the other deployments, next monitor pass
                why = "its breaker opened" if pinned.breaker.state == "open" else "it is full"
                self.alerts.notify("pin", f"pin on {pinned.name} released: {why}")
            else:
                self._switch(pinned, "pinned by an admin", quiet=True)
                return pinned
        current = self._active
        best = next((m for m in self.writers if self.eligible(m)), None)
        if current is None or not self.eligible(current):
            new, reason = best, self._why_not(current)
        elif (best is not None and best.order < current.order and best.good_since is not None
              and now - best.good_since >= self.settings.return_after):
            new, reason = best, (f"{best.name} has been healthy and below "
                                 f"{self.settings.low_water:.0%} for {self.settings.return_after:.0f}s")
        else:
            new, reason = current, ""
        if new is not current:
            self._switch(new, reason)
        return new

    def _why_not(self, m: Member | None) -> str:
        if m is None:
            return "startup"
        if m.breaker.state != "closed":
            return f"{m.name} is unavailable (breaker {m.breaker.state.replace('_', '-')})"
        if not m.prepared:
            return f"{m.name} is not ready"
        return f"{m.name} is at {m.capacity.fraction:.0%} of its {m.capacity.quota_bytes / MB:.0f} MB quota"

    def _switch(self, new: Member | None, reason: str, *, quiet: bool = False) -> None:
        """Make ``new`` the active database; admins are told unless an admin did it (``quiet``)."""
        old = self._active
        if new is old:
            return
        self._active = new
        if new is None:
            self.alerts.notify("switch", f"no database can take writes ({reason}); indexing waits",
                               level=logging.ERROR)
            return
        self._switches.labels(to=new.name).inc()
        if quiet or (old is None and reason == "startup"):
            log.info("writes go to %s: %s", new.name, reason)
            return
        self.alerts.notify("switch", f"writes moved {'from ' + old.name + ' ' if old else ''}to {new.name}: "
                                     f"{reason}")

    def choose_target(self, exclude: list[Member] | tuple[Member, ...] = ()) -> Member:
        """Where a batch goes: the active database, else the next eligible one not in ``exclude``.

        :raises DatabaseUnavailable: nothing can take writes.
        """
        active = self.evaluate()
        if active is not None and active not in exclude:
            return active
        for m in self.writers:
            if m not in exclude and self.eligible(m):
                return m
        # Above high water is a soft limit: better a 95 % full database than no write.
        spare = [m for m in self.writers if m not in exclude and m.prepared and m.breaker.state == "closed"
                 and m.capacity.fraction < 1.0]
        if spare:
            self.alerts.notify("capacity:all", "every database is above its high-water mark; "
                               "add a database or raise a quota", level=logging.ERROR)
            return min(spare, key=lambda m: m.capacity.fraction)
        tried = ", ".join(m.name for m in exclude) or "none"
        raise DatabaseUnavailable(f"no database can take writes (tried: {tried}; "
                                  f"states: {', '.join(f'{m.name}={m.breaker.state}' for m in self.writers)})")

    def note_written(self, m: Member, documents: int, nbytes: int) -> None:
        m.documents_written += documents
        m.capacity.add_written(nbytes, documents)
        self._written.labels(database=m.name).inc(documents)

    def pin(self, name: str) -> str | None:
        """Pin writes to ``name``; returns why not, or ``None`` when done."""
        m = self._by_name.get(name)
        if m is None:
            return f"unknown database {name!r} (known: {', '.join(self._by_name)})"
        if not m.takes_writes:
            what = "the dedicated home database" if m.role == "home" else "read-only"
            return f"{name} takes no file writes: it is {what} (role = \"{m.role}\")"
        if m.breaker.state != "closed" or not m.prepared:
            return f"{name} is unavailable right now (breaker {m.breaker.state.replace('_', '-')})"
        if m.capacity.fraction >= 1.0:
            return f"{name} is full"
        self._pinned = m
        self.evaluate()
        return None

    def unpin(self) -> Member | None:
        """Back to automatic routing; returns the database that was pinned."""
        was, self._pinned = self._pinned, None
        # An admin's explicit "auto" picks the preferred healthy database now:
        # the hold time guards against automatic flapping, not against decisions.
        best = next((m for m in self.writers if self.eligible(m)), None)
        self._switch(best, "automatic routing restored by an admin", quiet=True)
        return was

    @property
    def pinned(self) -> Member | None:
        return self._pinned

    # -- breakers ------------------------------------------------------------------
    def _on_breaker(self, name: str, old: State, new: State) -> None:
        m = self._by_name[name]
        self._state_gauge.labels(database=name).set(STATE_VALUE[new])
        self._transitions.labels(database=name, state=new).inc()
        if new == "open":
            # It may come back as a different server (an in-memory one restarted
            # empty): indexes are made again before it takes writes.
            m.prepared = False
            stats = m.breaker
            self.alerts.notify(f"breaker:{name}",
                               f"database {name} is unavailable: breaker opened after {stats.failures} "
                               f"failure(s) ({m.last_error or 'no answer'}); retrying in "
                               f"{stats.open_seconds:.0f}s", level=logging.ERROR)
            self.evaluate()  # writes leave it (and a pin on it ends) now, not on the next pass
        elif new == "closed":
            self.alerts.notify(f"breaker:{name}", f"database {name} is back (breaker closed)",
                               level=logging.INFO)
        else:
            log.info("database %s: breaker %s -> %s", name, old, new)

    # -- background ----------------------------------------------------------------
    async def monitor_once(self) -> None:
        """Probe every database, re-prepare returning ones, refresh stale capacity, re-route."""
        await asyncio.gather(*(self._check(m) for m in self.members))
        self.evaluate()
        await self.pins.sync()
        if self.views is not None:
            await self.views.publish_if_due()
        self._capacity_alerts()

    async def _check(self, m: Member) -> None:
        state = m.breaker.state
        if state == "open":
            return
        start = time.perf_counter()
        try:
            await m.run(lambda: m.db.command("ping"))
        except MemberUnavailable:
            return
        m.note_ping((time.perf_counter() - start) * 1000)
        if not m.prepared and not await self._prepare(m, self._steps):
            return
        tried = m.capacity.attempted_at
        if tried is None or self.clock() - tried >= self.settings.capacity_refresh:
            await self.refresh_capacity(m)

    async def refresh_capacity(self, m: Member) -> bool:
        """Measure ``m`` now (background only); ``False`` when the measurement failed.

        Not through the breaker, and with a longer time limit than ordinary
        calls: ``dbStats`` can be slow on a large database without anything
        being wrong (the pings judge health). Tried once per ``capacity_refresh``.
        """
        m.capacity.attempted_at = self.clock()
        written_before, documents_before = m.capacity.written, m.capacity.written_documents
        limit = max(10.0, 10 * self.settings.timeout_ms / 1000)
        try:
            with pymongo.timeout(limit):
                stats, documents = await measure(m.db, list(self.unique_collections))
        except PyMongoError as exc:
            log.info("could not measure database %s (the estimate goes on): %s: %s", m.name,
                     type(exc).__name__, exc)
            return False
        m.capacity.apply(stats, written_before=written_before, documents=documents, at=self.clock(),
                         documents_before=documents_before)
        self._used.labels(database=m.name).set(m.capacity.fraction)
        return True

    def _capacity_alerts(self) -> None:
        s = self.settings
        # The home database too: users and the file registry keep growing there.
        watched = self.writers + ([] if self.home in self.writers else [self.home])
        for m in watched:
            fraction = m.capacity.fraction
            self._used.labels(database=m.name).set(fraction)
            if fraction >= s.high_water and m.name not in self._over_high:
                self._over_high.add(m.name)
                self.alerts.notify(f"capacity:{m.name}",
                                   f"database {m.name} is at {fraction:.0%} of its "
                                   f"{m.capacity.quota_bytes / MB:.0f} MB quota (high water "
                                   f"{s.high_water:.0%})")
            elif fraction < s.low_water:
                self._over_high.discard(m.name)

    async def run_monitor(self) -> None:
        while True:
            await self.monitor_once()
            # A cancel that lands as a probe's reply arrives can be lost (Python 3.11):
            # without this, the loop outlives its app and a shutdown waits forever.
            honour_cancellation()
            await asyncio.sleep(self.settings.probe_interval)

    # -- status --------------------------------------------------------------------
    def status(self) -> list[MemberStatus]:
        active = self._active
        out = []
        for m in self.members:
            b: BreakerStats = m.breaker.stats()
            cap = m.capacity
            out.append(MemberStatus(
                name=m.name, role=m.role, state=b.state, used_mb=cap.used_bytes / MB,
                quota_mb=cap.quota_bytes / MB, fraction=cap.fraction, measured=cap.measured is not None,
                documents=cap.documents_estimate,
                latency_ms=m.latency_ms, calls=b.calls, failures=b.failures, refused=b.refused,
                opened=b.opened, retry_after=b.retry_after, takes_writes=m is active,
                pinned=m is self._pinned, home=m is self.home, prepared=m.prepared, last_error=m.last_error))
        return out

    async def close(self) -> None:
        if self.views is not None:
            await self.views.withdraw()
        await asyncio.gather(*(m.close() for m in self.members), return_exceptions=True)
