"""Kernel plugin ``kernel.services``: rate limiter, sessions and Redis health on the app.

At startup (before any other plugin starts, so every plugin can use them)
it sets these declared attributes of :class:`~mediabot.App`:

- ``app.ratelimiter`` (:class:`~mediabot.RateLimits`): ``await app.ratelimiter.check(key, Rate.parse("5/10s"))`` -> ``Decision``;
- ``app.sessions`` (:class:`~mediabot.Sessions`): ``app.sessions.namespace(kind)`` -> a store with ``get/set/delete``;
- ``app.redis_health``: the shared :class:`~mediabot.core.redis.RedisHealth`
  (``None`` without Redis).

With ``MEDIABOT_REDIS_URL`` set they are the Redis services (GCRA in Lua,
msgpack sessions with TTL) on the app's client; a supervised loop probes Redis
every ``[services] retry_interval`` seconds, so health shows an outage and a
recovery even when nobody is talking to the bot. Without Redis they are the
in-process versions from :mod:`mediabot.core.local_services`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mediabot.core.local_services import LocalRateLimiter, LocalSessionStore
from mediabot.core.plugin import hookimpl
from mediabot.core.redis import RateLimiter, RedisHealth, SessionStore
from mediabot.core.types import HealthReport

if TYPE_CHECKING:
    from mediabot.core.app import App


class Services:
    """Creates the app's rate limiter and session store, and reports Redis health."""

    name = "services"

    def __init__(self, app: App) -> None:
        self.app = app

    @hookimpl
    async def mediabot_startup(self, app: App) -> None:
        cfg = app.section("services")
        if app.redis is None:
            app.ratelimiter = LocalRateLimiter(cfg.fallback_size)
            app.sessions = LocalSessionStore(ttl=cfg.session_ttl, max_entries=cfg.fallback_size)
            app.redis_health = None
            return
        redis_cfg = app.section("redis")
        health = RedisHealth(app.redis, retry_interval=cfg.retry_interval, probe_timeout=redis_cfg.socket_timeout)
        app.redis_health = health
        app.ratelimiter = RateLimiter(app.redis, health, prefix=redis_cfg.key_prefix,
                                      policy=cfg.rate_limit_policy,
                                      fail_closed_retry_after=cfg.fail_closed_retry_after,
                                      fallback_size=cfg.fallback_size)
        app.sessions = SessionStore(app.redis, health, prefix=redis_cfg.key_prefix, ttl=cfg.session_ttl,
                                    fallback_size=cfg.fallback_size)
        # ``App.start`` refuses a Redis that does not answer at all (a wrong URL, most likely);
        # from here on an outage is survived: degraded, recovering when Redis comes back.
        # (``App.open``, for CLI tools and ``mediabot health``, starts degraded instead.)
        await health.probe()
        app.supervisor.spawn_loop(lambda: health.watch(cfg.retry_interval), name="redis-probe",
                                  owner="kernel.services")

    @hookimpl
    def mediabot_health(self, app: App) -> list[HealthReport]:
        # Without Redis there is nothing to watch: rate limits and sessions are in process by design.
        health = app.redis_health
        return [] if health is None else [health.report()]
