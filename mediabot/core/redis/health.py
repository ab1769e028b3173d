"""Is Redis usable right now? One shared answer for every Redis service.

The rate limiter and the session store report each call's outcome here, so
the first failure flips the state to ``degraded`` (visible to operators in
health) and the first success flips it back, with no restart. While degraded,
the services ask :meth:`RedisHealth.should_attempt` before each call: only one
trial call per ``retry_interval`` goes to Redis, the rest take the degraded
path at once. Without that, a paused or partitioned Redis would cost every
user message a full socket timeout.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import re
import time
from collections.abc import Callable
from typing import Literal

import msgspec
import redis.asyncio
import redis.exceptions

from mediabot.core.types import HealthReport

log = logging.getLogger(__name__)

#: Errors that mean "Redis cannot serve us right now", as opposed to bugs
#: (wrong type, script error) which must still raise. ``BusyLoadingError``
#: (Redis loading its dataset after a restart) is a ``ConnectionError``; a
#: replica promoted away (``READONLY``), a full server (``OOM``), a cluster
#: that is down or resharding (``CLUSTERDOWN``, ``TRYAGAIN``, ``MASTERDOWN``)
#: and a lost password (``NOAUTH``...) are outages too: they follow the
#: services' degraded policy and show in health instead of failing every command.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.OutOfMemoryError,
    redis.exceptions.ClusterDownError,
    redis.exceptions.TryAgainError,
    redis.exceptions.MasterDownError,
    redis.exceptions.AuthenticationError,
    redis.exceptions.NoPermissionError,
    builtins.ConnectionError,
    builtins.TimeoutError,
)

# The same outages reported from inside a Lua script come as a plain
# ResponseError whose text carries Redis' error code ("... -OOM command not allowed").
_OUTAGE_CODES = ("OOM", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "LOADING", "NOAUTH", "NOPERM")
_SCRIPT_OUTAGE = re.compile(r"(?:^|[\s-])(" + "|".join(_OUTAGE_CODES) + r")\b")

#: What the services catch around a Redis call; :func:`is_unavailable` tells outages from bugs.
REDIS_ERRORS: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError)


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means Redis cannot serve us now (follow the degraded policy), not a bug."""
    if isinstance(error, UNAVAILABLE_ERRORS):
        return True
    return isinstance(error, redis.exceptions.ResponseError) and bool(_SCRIPT_OUTAGE.search(str(error)))


HealthStateName = Literal["ok", "degraded"]


class RedisHealthSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """What an operator sees.

    :param state: ``ok`` or ``degraded`` (Redis unreachable; services run on their fallbacks).
    :param since: wall-clock time (epoch seconds) of the last change of ``state``.
    :param last_error: the last failure as ``Type: message``; kept after recovery for diagnosis.
    :param failures: calls failed since the last success.
    """

    state: HealthStateName
    since: float
    last_error: str | None
    failures: int


class RedisHealth:
    """Tracks Redis reachability from the outcome of real calls and from probes.

    :param redis: the shared client; :meth:`probe` pings through it.
    :param retry_interval: while degraded, seconds between trial calls let through to Redis.
    :param probe_timeout: seconds a probe waits for PONG.
    :param clock: monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        *,
        retry_interval: float = 1.0,
        probe_timeout: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._retry_interval = retry_interval
        self._probe_timeout = probe_timeout
        self._clock = clock
        self._degraded = False
        self._since = time.time()
        self._last_error: str | None = None
        self._failures = 0
        self._next_trial = 0.0

    @property
    def state(self) -> HealthStateName:
        return "degraded" if self._degraded else "ok"

    @property
    def degraded(self) -> bool:
        return self._degraded

    def snapshot(self) -> RedisHealthSnapshot:
        return RedisHealthSnapshot(
            state=self.state,
            since=self._since,
            last_error=self._last_error,
            failures=self._failures,
        )

    def report(self) -> HealthReport:
        """The kernel's health line for the ``redis`` component."""
        if not self._degraded:
            return HealthReport(component="redis", status="ok")
        age = time.time() - self._since
        return HealthReport(
            component="redis",
            status="degraded",
            detail=f"unreachable for {age:.0f}s ({self._last_error}); "
            "rate limits follow the degraded policy, sessions are kept in process",
        )

    def should_attempt(self) -> bool:
        """May the caller use Redis now? Always when ok; once per retry interval when degraded."""
        if not self._degraded:
            return True
        now = self._clock()
        if now < self._next_trial:
            return False
        # Claim the trial slot now so concurrent callers don't all pile onto a dead server.
        self._next_trial = now + self._retry_interval
        return True

    def record_success(self) -> None:
        # Hot path: one attribute test when already healthy.
        if self._degraded:
            self._degraded = False
            self._since = time.time()
            log.info("redis recovered after %d failed calls", self._failures)
        self._failures = 0

    def record_failure(self, error: BaseException) -> None:
        self._failures += 1
        self._last_error = f"{type(error).__name__}: {error}"
        self._next_trial = self._clock() + self._retry_interval
        if not self._degraded:
            self._degraded = True
            self._since = time.time()
            # Logged once per outage, not per call: the state is in health meanwhile.
            log.error("redis unreachable, services degraded: %s", self._last_error)

    async def probe(self) -> bool:
        """PING with a deadline; updates the state. Cheap enough for a background loop."""
        try:
            async with asyncio.timeout(self._probe_timeout):
                await self._redis.ping()
        except REDIS_ERRORS as error:
            if not is_unavailable(error):
                raise
            self.record_failure(error)
            return False
        self.record_success()
        return True

    async def watch(self, interval: float = 1.0) -> None:
        """Probe every ``interval`` seconds until cancelled (the app owns the task).

        Recovery does not depend on this loop (any successful call recovers),
        but it notices an outage or a recovery even when no user is talking.
        """
        task = asyncio.current_task()
        while True:
            await self.probe()
            # On Python 3.11, asyncio.wait_for (redis-py's socket timeouts) can swallow
            # a cancellation that arrives with the reply; re-raise it so shutdown stops us.
            if task is not None and task.cancelling():
                raise asyncio.CancelledError
            await asyncio.sleep(interval)
