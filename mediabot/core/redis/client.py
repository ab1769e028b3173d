"""The Redis client the services expect: short timeouts, one quick retry.

redis-py's defaults suit a batch job, not a chat bot: a 5 s socket timeout
and 10 retries with backoff mean a dead Redis stalls every message for
seconds. Here a call is given up after ``socket_timeout`` and retried once,
without backoff: the single retry is what turns a pooled connection left
stale by a Redis restart into a fresh one, so the first call after recovery
succeeds instead of failing once more.
"""

from __future__ import annotations

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff


def connect(url: str, *, socket_timeout: float = 0.5, max_connections: int = 64) -> redis.asyncio.Redis:
    """A client for ``url`` (``redis://host:port/db``); no I/O until the first call.

    Connections are made lazily and remade by the pool after a failure, so the
    same client keeps working across Redis restarts.

    The pool *blocks* (up to ``socket_timeout``) when all ``max_connections``
    are busy. redis-py's default pool raises ``MaxConnectionsError`` instead,
    which under a burst of updates looked exactly like an outage and sent the
    bot into degraded mode with Redis perfectly healthy.
    """
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=socket_timeout,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout,
        retry=Retry(NoBackoff(), retries=1),
    )
    return redis.asyncio.Redis.from_pool(pool)
