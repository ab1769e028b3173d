"""The Redis client the services expect: short timeouts, one quick retry.

redis-py's defaults suit a batch job, not a chat bot: a 5 s socket timeout
and 10 retries with backoff mean a dead Redis stalls every message for
seconds. Here a call is given up after ``socket_timeout`` and retried once,
without backoff: the single retry is what turns a pooled connection left
stale by a Redis restart into a fresh one, so the first call after recovery
succeeds instead of failing once more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import redis.asyncio
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

if TYPE_CHECKING:
    from mediabot.core.iohold import IoObserver

# Commands that wait for something to happen, not for the server to answer:
# they are not reported to the I/O observer (see mediabot.core.iohold).
_WAITING = frozenset({"BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH", "BZPOPMIN", "BZPOPMAX", "BLMPOP", "BZMPOP",
                      "WAIT"})


def connect(url: str, *, socket_timeout: float = 0.5, max_connections: int = 64,
            observer: IoObserver | None = None) -> redis.asyncio.Redis:
    """A client for ``url`` (``redis://host:port/db``); no I/O until the first call.

    Connections are made lazily and remade by the pool after a failure, so the
    same client keeps working across Redis restarts.

    The pool *blocks* (up to ``socket_timeout``) when all ``max_connections``
    are busy. redis-py's default pool raises ``MaxConnectionsError`` instead,
    which under a burst of updates looked exactly like an outage and sent the
    bot into degraded mode with Redis perfectly healthy.

    :param observer: told when each command or pipeline starts and ends (the
        testing kit's virtual clock; see :mod:`mediabot.core.iohold`).
    """
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=socket_timeout,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout,
        retry=Retry(NoBackoff(), retries=1),
    )
    if observer is None:
        return redis.asyncio.Redis.from_pool(pool)
    client = cast(_HeldRedis, _HeldRedis.from_pool(pool))
    client.holder = observer
    return client


def _waits(args: tuple[Any, ...]) -> bool:
    name = args[0].upper() if args and isinstance(args[0], str) else args[0] if args else None
    if isinstance(name, bytes):
        name = name.decode().upper()
    return name in _WAITING or any(a in ("BLOCK", b"BLOCK") for a in args[1:])


class _HeldRedis(redis.asyncio.Redis):
    """Reports each command to :attr:`holder` while it is in flight (tests only: production has no observer)."""

    holder: IoObserver

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        if _waits(args):
            return await super().execute_command(*args, **options)
        token = self.holder.hold_io()
        try:
            return await super().execute_command(*args, **options)
        finally:
            self.holder.release_io(token)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        pipe = _HeldPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
        pipe.holder = self.holder
        return pipe


class _HeldPipeline(Pipeline):
    holder: IoObserver

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        token = self.holder.hold_io()
        try:
            return await super().execute(raise_on_error)
        finally:
            self.holder.release_io(token)
