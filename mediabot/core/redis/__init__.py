"""Redis services of the kernel: rate limiting, per-user sessions, Redis health.

Both services keep answering while Redis is down (degraded, and visible in
:class:`RedisHealth`) and go back to Redis on their own when it returns::

    client = connect("redis://localhost:6379/0", socket_timeout=0.5)
    health = RedisHealth(client, retry_interval=1.0)
    limiter = RateLimiter(client, health, prefix="mb", policy="fail_open")
    sessions = SessionStore(client, health, prefix="mb", ttl=3600)

The app wires them from the ``[redis]`` and ``[services]`` sections
(:mod:`mediabot.core.services`).

    decision = await limiter.check(f"user:{uid}", config.user_rate)
    if not decision.allowed and decision.notify:
        ...  # tell the user once: retry in decision.retry_after seconds
    await sessions.namespace("search").set(uid, SearchState(query="x", page=2))
"""

from mediabot.core.redis.client import connect
from mediabot.core.redis.config import RateLimitPolicy
from mediabot.core.redis.health import UNAVAILABLE_ERRORS, RedisHealth, RedisHealthSnapshot
from mediabot.core.redis.ratelimit import Decision, Rate, RateLimiter
from mediabot.core.redis.sessions import SessionStore

__all__ = [
    "UNAVAILABLE_ERRORS",
    "Decision",
    "Rate",
    "RateLimitPolicy",
    "RateLimiter",
    "RedisHealth",
    "RedisHealthSnapshot",
    "SessionStore",
    "connect",
]
