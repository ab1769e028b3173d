"""Tuning of the Redis services (rate limiting, sessions, degraded mode)."""

from __future__ import annotations

from typing import Literal

import msgspec

from mediabot.core.redis.ratelimit import Rate

RateLimitPolicy = Literal["fail_open", "fail_closed"]


class RedisServicesConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """How the Redis services behave, including while Redis is down.

    :param rate_limit_policy: while Redis is unreachable, ``fail_open`` lets every message through (users are never blocked by an outage) and ``fail_closed`` refuses them (protects downstream quotas).
    :param fail_closed_retry_after: seconds a user is told to wait when refused under ``fail_closed``.
    :param session_ttl: seconds a user's interaction state (query, page, selection) lives after its last write.
    :param session_fallback_size: sessions kept in process while Redis is down; the least recently used are dropped beyond it.
    :param socket_timeout: seconds before a Redis call (and a connection attempt) is given up, so a dead Redis cannot stall the bot.
    :param retry_interval: while Redis is down, seconds between trial calls that detect its return.
    :param default_user_rate: messages one user may send, e.g. ``20/min``, ``5/10s``, ``30/min burst 10``.
    """

    rate_limit_policy: RateLimitPolicy = "fail_open"
    fail_closed_retry_after: float = 5.0
    session_ttl: float = 3600.0
    session_fallback_size: int = 10_000
    socket_timeout: float = 0.5
    retry_interval: float = 1.0
    default_user_rate: str = "20/min"

    def __post_init__(self) -> None:
        # Validate once at the edge: a bad rate string fails at startup, not on the first message.
        Rate.parse(self.default_user_rate)
        for name in ("fail_closed_retry_after", "session_ttl", "socket_timeout", "retry_interval"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        if self.session_fallback_size < 1:
            raise ValueError("session_fallback_size must be >= 1")

    @property
    def user_rate(self) -> Rate:
        return Rate.parse(self.default_user_rate)
