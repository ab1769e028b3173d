"""One configured database: its client, circuit breaker, capacity and latency.

Every call the router makes to a database goes through :meth:`Member.run`,
which asks the breaker first (an open breaker refuses at once), times the
call, and tells the breaker whether the database answered. What counts as
"did not answer": connection errors, server selection and socket timeouts
(a SIGSTOPped server), and pymongo's operation timeouts. An answer that is
an error (a duplicate key, a bad query) is still an answer.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from pymongo import WriteConcern
from pymongo.errors import BulkWriteError, ConnectionFailure, OperationFailure, PyMongoError

from mediabot_dbrouter.breaker import CircuitBreaker, CircuitOpenError
from mediabot_dbrouter.capacity import Capacity

__all__ = ["Member", "MemberUnavailable", "is_failure", "is_quota_error"]

T = TypeVar("T")
ATLAS_QUOTA_CODE = 8000  # "you are over your space quota"
_LATENCY_WEIGHT = 0.2


class MemberUnavailable(Exception):
    """A database did not take an operation: refused by its breaker, failed, or full.

    :param member: the database's name.
    :param reason: ``open`` (breaker refused), ``failed`` (no answer) or ``full``.
    """

    def __init__(self, member: str, reason: Literal["open", "failed", "full"], cause: BaseException) -> None:
        self.member = member
        self.reason = reason
        self.cause = cause
        super().__init__(f"database {member!r} unavailable ({reason}): {type(cause).__name__}: {cause}")


def is_quota_error(exc: BaseException) -> bool:
    """Whether a command was refused because the database is over its space quota.

    Not a bulk write's error: it says per document what was stored and what was
    refused, and the write path reads it (:func:`~mediabot_dbrouter.writes.insert_outcome`)
    instead of treating the whole batch as refused.
    """
    return isinstance(exc, OperationFailure) and not isinstance(exc, BulkWriteError) and (
        exc.code == ATLAS_QUOTA_CODE or "space quota" in str(exc).lower())


def is_failure(exc: BaseException) -> bool:
    """Whether an exception means the database did not answer (what opens breakers)."""
    if isinstance(exc, (ConnectionFailure, asyncio.TimeoutError, TimeoutError)):
        return True
    return isinstance(exc, PyMongoError) and bool(getattr(exc, "timeout", False))


class Member:
    """A database of ``[[plugins.dbrouter.databases]]`` at run time.

    :param name: its configured name.
    :param client: its own ``AsyncMongoClient`` (short timeouts).
    :param database: the database name inside that server.
    :param role: ``write``, ``read`` or ``home`` (a dedicated home database: no files).
    :param breaker: its circuit breaker.
    :param capacity: its capacity tracker.
    :param order: position in the configured list (write preference).
    :param durable: acknowledge writes only once journaled.
    """

    def __init__(self, *, name: str, client: Any, database: str, role: str, breaker: CircuitBreaker,
                 capacity: Capacity, order: int, durable: bool = True) -> None:
        self.name = name
        self.client = client
        # Journaled writes: an acknowledged file survives a crash of the server
        # (without it, the last ~100 ms of acknowledged writes can vanish with a kill -9).
        # The URI's own write concern (w=majority...) is kept.
        db = client.get_database(database)
        concern = db.write_concern.document
        # (fsync=true in the URI waits for the journal already, and pymongo refuses j with it.)
        self.db = db.with_options(write_concern=WriteConcern(**{**concern, "j": True})) \
            if durable and not concern.get("fsync") else db
        self.role = role
        self.breaker = breaker
        self.capacity = capacity
        self.order = order
        self.prepared = False  # every preparation step has run on it since it last (re)joined
        self.latency_ms: float | None = None
        # The last pings' round trips; their minimum is the bare round trip (a
        # ping sent while the server is busy with a write waits behind it).
        self._pings: deque[float] = deque(maxlen=10)
        self.last_error: str | None = None
        self.documents_written = 0
        self.good_since: float | None = None  # healthy and below the low-water mark since

    @property
    def takes_writes(self) -> bool:
        return self.role == "write"

    @property
    def holds_files(self) -> bool:
        """Files are read from it (a dedicated home database holds none)."""
        return self.role != "home"

    @property
    def readable(self) -> bool:
        return self.breaker.state == "closed"

    async def run(self, op: Callable[[], Awaitable[T]]) -> T:
        """Run ``op()`` on this database through its breaker.

        :raises MemberUnavailable: refused, no answer, or over quota.
        """
        start = time.perf_counter()
        try:
            result = await self.breaker.call(op, is_failure)
        except CircuitOpenError as exc:
            raise MemberUnavailable(self.name, "open", exc) from exc
        except Exception as exc:
            if is_failure(exc):
                self.last_error = f"{type(exc).__name__}: {exc}"[:200]
                raise MemberUnavailable(self.name, "failed", exc) from exc
            if is_quota_error(exc):
                self.capacity.full = True
                self.last_error = "over quota"
                raise MemberUnavailable(self.name, "full", exc) from exc
            raise
        ms = (time.perf_counter() - start) * 1000
        self.latency_ms = ms if self.latency_ms is None else \
            (1 - _LATENCY_WEIGHT) * self.latency_ms + _LATENCY_WEIGHT * ms
        return result

    def note_ping(self, ms: float) -> None:
        self._pings.append(ms)

    @property
    def rtt_ms(self) -> float | None:
        """Round trip of a bare command: the fastest of the last ten pings (``None`` before the first)."""
        return min(self._pings) if self._pings else None

    async def close(self) -> None:
        await self.client.close()
