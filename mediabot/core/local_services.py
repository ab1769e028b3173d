"""Rate limiting and sessions in process, for a deployment without Redis.

Same interfaces as :class:`mediabot.core.redis.RateLimiter` and
:class:`mediabot.core.redis.SessionStore`, so the dispatcher and plugins do
not care which one runs. Without Redis:

- limits are per process: with several bot processes a user gets the rate
  once per process;
- sessions live in this process only and are lost at restart.

That suits one process and development; production with several processes
sets ``MEDIABOT_REDIS_URL``. Both are bounded (least recently used keys are
dropped beyond ``max_entries``) so memory cannot grow with the user count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from mediabot.core.rate import Decision, Rate
from mediabot.core.redis.local import TtlLru
from mediabot.core.redis.sessions import check_session_args

S = TypeVar("S")


class LocalRateLimiter:
    """GCRA (as in the Redis script) on a monotonic clock, one entry per key.

    :param max_entries: keys remembered; beyond it the least recently used is
        forgotten (that user starts with a full burst again).
    """

    def __init__(self, max_entries: int = 10_000, *, clock: Callable[[], float] = time.monotonic) -> None:
        # key -> (theoretical arrival time, already told in this refusal window)
        self._state: TtlLru[tuple[float, bool]] = TtlLru(max_entries, clock=clock)
        self._clock = clock

    async def check(self, key: str, rate: Rate) -> Decision:
        now = self._clock()
        interval = rate.interval
        entry = self._state.get(key)
        tat, told = entry[0] if entry is not None else (now, False)
        tat = max(tat, now)
        allow_at = tat + interval - interval * rate.burst
        if allow_at > now:
            # tat > now here (burst >= 1), so the entry lives until the refusal window ends.
            self._state.set(key, (tat, True), tat - now)
            return Decision(allowed=False, retry_after=allow_at - now, remaining=0, notify=not told)
        new_tat = tat + interval
        self._state.set(key, (new_tat, False), new_tat - now)
        return Decision(allowed=True, retry_after=0.0, remaining=math.floor((now - allow_at) / interval))


class LocalSessionStore:
    """Per-user state of one kind, msgspec-encoded like the Redis store (a reader gets a copy).

    :param ttl: default seconds a value lives after it is written.
    :param max_entries: values kept (all kinds together).
    """

    def __init__(self, *, kind: str = "default", ttl: float = 3600.0, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic,
                 _values: TtlLru[bytes] | None = None) -> None:
        check_session_args(kind, ttl)
        self._kind = kind
        self._ttl = ttl
        self._clock = clock
        self._values: TtlLru[bytes] = _values if _values is not None else TtlLru(max_entries, clock=clock)
        self._encoder = msgspec.msgpack.Encoder()

    @property
    def kind(self) -> str:
        return self._kind

    def namespace(self, kind: str, *, ttl: float | None = None) -> LocalSessionStore:
        """A store for another kind of state sharing this one's memory."""
        return LocalSessionStore(kind=kind, ttl=self._ttl if ttl is None else ttl, clock=self._clock,
                                 _values=self._values)

    def _key(self, user_id: int) -> str:
        return f"{self._kind}:{user_id}"

    async def get(self, user_id: int, type_: type[S]) -> S | None:
        found = self._values.get(self._key(user_id))
        if found is None:
            return None
        try:
            return msgspec.msgpack.decode(found[0], type=type_)
        except msgspec.DecodeError:
            return None  # schema changed: start over, as the Redis store does

    async def set(self, user_id: int, value: Any, ttl: float | None = None) -> None:
        ttl = self._ttl if ttl is None else ttl
        if ttl <= 0:
            raise ValueError(f"session ttl must be > 0, got {ttl}")
        self._values.set(self._key(user_id), self._encoder.encode(value), ttl)

    async def delete(self, user_id: int) -> None:
        self._values.pop(self._key(user_id))
