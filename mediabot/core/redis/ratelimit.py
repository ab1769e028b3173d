"""Rate limiting: GCRA in one Lua script, one round trip per check.

GCRA (the generic cell rate algorithm) keeps one number per limited key: the
theoretical arrival time (TAT) of the next call if calls came exactly at the
allowed rate. A call is allowed when it is not earlier than ``TAT - burst *
interval``. Unlike fixed windows it has no boundary burst (2x the rate
across a window edge), and unlike sliding logs it stores one field, not one
entry per call.

The script reads the clock with ``redis.call('TIME')``: every bot process
agrees on time even when their own clocks drift.

It also remembers whether the caller was already refused in the current
refusal window, so the bot tells a flooding user once when to retry instead
of answering every refused message (which would itself be the flood).
"""

from __future__ import annotations

from typing import Literal

import redis.asyncio

from mediabot.core.rate import Decision, Rate
from mediabot.core.redis.health import REDIS_ERRORS, RedisHealth, is_unavailable
from mediabot.core.redis.keys import hash_tagged
from mediabot.core.redis.local import TtlLru

# KEYS[1]: hash {t = TAT in microseconds of server time, n = "1" once refused in this window}
# ARGV[1]: emission interval (period / count) in microseconds
# ARGV[2]: burst, the number of calls that may arrive at once
# Returns ONE integer, because parsing a multi-element reply costs more client
# time than the whole script costs Redis (measured with bench/ratelimit.py):
#   >= 0: allowed, the value is `remaining`;
#   <  0: refused, -(retry_after_us * 2 + notify) - 1  (see _decode).
_GCRA_LUA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 't', 'n')
local tat = tonumber(state[1]) or now
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if allow_at > now then
  -- Refused. Mark the window as told; the key already expires when its TAT
  -- passes, and the next allowed call resets the mark, so each window is told once.
  local first = 0
  if not state[2] or state[2] == '0' then
    redis.call('HSET', KEYS[1], 'n', '1')
    first = 1
  end
  return -(math.ceil(allow_at - now) * 2 + first) - 1
end
-- '%.0f': Lua's default number formatting keeps 14 digits, too few for microseconds.
redis.call('HSET', KEYS[1], 't', string.format('%.0f', new_tat), 'n', '0')
redis.call('PEXPIRE', KEYS[1], math.ceil((new_tat - now) / 1000))
return math.floor((now - allow_at) / interval)
"""

class RateLimiter:
    """Checks calls against rates, one Redis round trip per check.

    :param redis: the shared client (see :func:`mediabot.core.redis.connect` for timeouts).
    :param health: shared Redis health, updated by every check.
    :param prefix: key prefix of this deployment; keys are ``<prefix>:rl:{<key>}``.
    :param policy: while Redis is unreachable, ``fail_open`` allows, ``fail_closed`` refuses.
    :param fail_closed_retry_after: seconds a refused caller is told to wait under ``fail_closed``.
    :param fallback_size: keys remembered in process while degraded (to notify once).
    """

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        health: RedisHealth,
        *,
        prefix: str,
        policy: Literal["fail_open", "fail_closed"] = "fail_open",
        fail_closed_retry_after: float = 5.0,
        fallback_size: int = 10_000,
    ) -> None:
        self._health = health
        self._prefix = f"{prefix}:rl"
        self._policy = policy
        self._fail_closed_retry_after = fail_closed_retry_after
        # register_script: EVALSHA on every call, and on NOSCRIPT (script cache
        # flushed by a Redis restart) redis-py loads the script and retries.
        self._script = redis.register_script(_GCRA_LUA)
        # Keys already told "retry later" while degraded under fail_closed.
        self._told_while_degraded: TtlLru[bool] = TtlLru(fallback_size)

    def redis_key(self, key: str) -> str:
        """The Redis key for a limiter key: the whole limiter key is the hash tag (one slot)."""
        return hash_tagged(self._prefix, key)

    async def check(self, key: str, rate: Rate) -> Decision:
        """Count one call for ``key`` (e.g. ``user:42`` or ``user:42:search``) against ``rate``.

        Never raises because Redis is unreachable: the answer then follows the
        policy and says ``degraded=True``.
        """
        redis_key = self.redis_key(key)
        if self._health.should_attempt():
            try:
                reply = await self._script(
                    keys=(redis_key,), args=(rate.interval * 1_000_000, rate.burst)
                )
            except REDIS_ERRORS as error:
                if not is_unavailable(error):
                    raise
                self._health.record_failure(error)
            else:
                self._health.record_success()
                return _decode(reply)
        return self._degraded(redis_key)

    def _degraded(self, redis_key: str) -> Decision:
        if self._policy == "fail_open":
            return Decision(allowed=True, retry_after=0.0, remaining=0, degraded=True)
        first = redis_key not in self._told_while_degraded
        if first:
            self._told_while_degraded.set(redis_key, True, self._fail_closed_retry_after)
        return Decision(
            allowed=False,
            retry_after=self._fail_closed_retry_after,
            remaining=0,
            degraded=True,
            notify=first,
        )


def _decode(reply: int) -> Decision:
    """Unpack the script's single-integer answer (format documented at _GCRA_LUA)."""
    if reply >= 0:
        return Decision(allowed=True, retry_after=0.0, remaining=reply)
    packed = -reply - 1
    return Decision(
        allowed=False, retry_after=(packed >> 1) / 1_000_000, remaining=0, notify=bool(packed & 1)
    )


__all__ = ["Decision", "Rate", "RateLimiter"]  # Rate and Decision are mediabot.core.rate's, re-exported
