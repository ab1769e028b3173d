"""The bot's global send budget, shared in Redis by every process of the bot.

Telegram's limit (about 30 messages per second) is per bot, not per
process: two processes pacing themselves at 25/s each would together earn
FloodWaits. :class:`SharedBudget` keeps the global slots in one Redis hash
(``<[redis] key_prefix>:{telegram}:sendbudget``) and books one with a single
Lua script call per send, with the same priority rule as the in-process
:class:`~mediabot.core.telegram.pacing.LocalBudget`:

* a ``reply`` books the next free slot (``g``), first come, first served,
  across all processes;
* a ``bulk`` send takes a slot only when one is free now *and* the bulk
  schedule (``b``, ``bulk_share`` of the rate) allows it; otherwise it is
  told how long to wait and books nothing. Bulk never queues ahead of
  replies, so a reply waits at most one slot behind a broadcast, whichever
  process runs it. A bulk sender that comes late for its slot (a sleep wakes
  late, a round trip) keeps the cadence: the next slot counts from when the
  late one was due when it is less than one interval late (an idle budget
  gives no credit) — so a broadcast runs at its rate, not below it, and a
  one-second window holds at most one send more than the rate (25/s by
  default against Telegram's ~30).

A FloodWait seen by one process holds every process (:meth:`SharedBudget.hold`).

Replies asked for while this process's previous booking is on its way to
Redis are booked together by the next call, as consecutive slots in the order
they asked: under load a process makes one round trip per batch of replies,
not per reply, and the slots are the same as if each had asked alone.

Time: the script is given the caller's wall clock (``clock.wall()``), not
Redis ``TIME``, so a test's virtual clock drives it; in production keep the
hosts' clocks in sync (NTP). A booked slot further ahead than
``_MAX_AHEAD_US`` is taken for a clock that stepped back and reset.

While Redis is unreachable (shared :class:`~mediabot.core.redis.RedisHealth`)
every process falls back to its local budget: pacing continues, but each
process then paces alone at the full rate. Health shows Redis degraded.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mediabot.core.clock import Clock
from mediabot.core.redis.health import UNAVAILABLE_ERRORS, RedisHealth
from mediabot.core.redis.keys import hash_tagged
from mediabot.core.telegram.pacing import LocalBudget, Priority, slot_span

__all__ = ["SharedBudget", "budget_key"]

log = logging.getLogger(__name__)

# A queue of replies this long is not a queue but a clock that jumped back.
_MAX_AHEAD_US = 300_000_000

# KEYS[1]: hash {g = first free slot (µs, wall clock), b = first bulk slot (µs)}
# ARGV: now µs, slot interval µs, bulk interval µs, slots before the call,
#       slots held, weight, bulk (1/0), max ahead µs
# Returns one integer: >= 0 granted, the delay in µs until the slot;
#                      <  0 refused (bulk only), -(µs to wait) - 1.
_TAKE_LUA = """
local now = tonumber(ARGV[1])
local gi = tonumber(ARGV[2])
local bi = tonumber(ARGV[3])
local before = tonumber(ARGV[4])
local held = tonumber(ARGV[5])
local weight = tonumber(ARGV[6])
local ahead = tonumber(ARGV[8])
local st = redis.call('HMGET', KEYS[1], 'g', 'b')
local g = tonumber(st[1]) or now
local b = tonumber(st[2]) or now
if g > now + ahead then g = now end
if b > now + ahead then b = now end
local delay
if ARGV[7] == '1' then
  local ready = math.max(g, b)
  if ready > now then return -math.ceil(ready - now) - 1 end
  if g < now - gi then g = now end
  if b < now - bi then b = now end
  g = g + held * gi
  b = b + weight * bi
  delay = before * gi
else
  local start = math.max(now, g)
  g = start + held * gi
  delay = start + before * gi - now
end
redis.call('HSET', KEYS[1], 'g', string.format('%.0f', g), 'b', string.format('%.0f', b))
redis.call('PEXPIRE', KEYS[1], math.ceil((math.max(g, b) - now) / 1000) + 1000)
return math.floor(delay)
"""

# Push the first free slot to now + ARGV[2] µs (never earlier than it is).
_HOLD_LUA = """
local now = tonumber(ARGV[1])
local until_ = now + tonumber(ARGV[2])
local g = tonumber(redis.call('HGET', KEYS[1], 'g')) or now
if until_ > g then
  redis.call('HSET', KEYS[1], 'g', string.format('%.0f', until_))
  redis.call('PEXPIRE', KEYS[1], math.ceil((until_ - now) / 1000) + 1000)
end
return 1
"""


def budget_key(prefix: str) -> str:
    """``<prefix>:{telegram}:sendbudget``: the one key every process of the bot books slots in."""
    return hash_tagged(prefix, "telegram", "sendbudget")


class SharedBudget:
    """Global send slots shared through Redis, falling back to ``local`` while Redis is down.

    :param redis: the app's ``redis.asyncio.Redis`` client.
    :param health: the app's shared Redis health (trial calls while degraded).
    :param prefix: ``[redis] key_prefix``.
    :param local: this process's budget, used while Redis is unreachable (same rates).
    :param clock: time source; its ``wall()`` is the time the script compares.
    """

    def __init__(self, redis: Any, health: RedisHealth | None, *, prefix: str, local: LocalBudget,
                 clock: Clock) -> None:
        self.key = budget_key(prefix)
        self._health = health
        self._local = local
        self._clock = clock
        self._gi = local.interval * 1e6
        self._bi = local.bulk_interval * 1e6
        self._take = redis.register_script(_TAKE_LUA)
        self._hold = redis.register_script(_HOLD_LUA)
        # As in LocalBudget: one bulk sender of this process asks at a time.
        self._bulk_turn = asyncio.Lock()
        # Replies waiting for the booking in flight to return: (slots before, slots held, its future).
        self._queued: list[tuple[int, int, asyncio.Future[tuple[bool, float] | None]]] = []
        self._booker: asyncio.Task[None] | None = None
        #: sends paced locally because Redis was unreachable (for tests and metrics)
        self.fallbacks = 0

    async def take(self, priority: Priority, weight: int = 1) -> float:
        if priority == "reply":
            answer = await self._reply_slot(weight)
            if answer is None:
                return await self._local.take(priority, weight)
            return await self._sleep_until(answer[1])
        async with self._bulk_turn:
            while (answer := await self._ask(True, weight)) is not None:
                granted, at = answer
                if granted:
                    return await self._sleep_until(at)
                await self._sleep_until(at)  # refused: ask again when a slot should be free
        return await self._local.take(priority, weight)

    async def hold(self, seconds: float) -> None:
        await self._local.hold(seconds)
        if not self._attempt():
            return
        try:
            await self._hold(keys=(self.key,), args=(self._now_us(), int(seconds * 1e6)))
        except UNAVAILABLE_ERRORS as exc:
            self._failed(exc)
        else:
            self._ok()

    async def _reply_slot(self, weight: int) -> tuple[bool, float] | None:
        """Book a reply's slot, together with the replies that ask while a booking is in flight."""
        future: asyncio.Future[tuple[bool, float] | None] = asyncio.get_running_loop().create_future()
        self._queued.append((*slot_span(weight), future))
        if self._booker is None or self._booker.done():
            # Its own task, so no caller's cancellation stops the bookings of the others.
            self._booker = asyncio.create_task(self._book_queued(), name="send-budget-booking")
        return await future

    async def _book_queued(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            try:
                answer = await self._ask(False, 1, span=(0, sum(held for _, held, _ in batch)))
            except BaseException as exc:
                for *_, future in (*batch, *self._queued):
                    if not future.done():
                        future.set_result(None)  # they pace locally
                self._queued = []
                if not isinstance(exc, Exception):
                    raise  # cancelled: the app is stopping
                log.warning("send budget: booking failed, pacing locally: %s: %s", type(exc).__name__, exc)
                return
            if answer is None:
                self.fallbacks += len(batch) - 1  # _ask counted one
            offset = 0
            for before, held, future in batch:
                if not future.done():  # a caller cancelled while waiting keeps nothing (its slots go unused)
                    future.set_result(None if answer is None else
                                      (True, answer[1] + (offset + before) * self._gi / 1e6))
                offset += held

    async def _ask(self, bulk: bool, weight: int, *, span: tuple[int, int] | None = None) -> tuple[bool, float] | None:
        """Ask Redis once: ``(granted, clock time of the slot or of the next try)``; ``None`` when it is down.

        :param span: (slots before, slots held) when not those of one call of ``weight``.
        """
        if not self._attempt():
            self.fallbacks += 1
            return None
        before, held = span if span is not None else slot_span(weight)
        asked_at = self._clock.now()
        try:
            reply = await self._take(keys=(self.key,), args=(
                self._now_us(), self._gi, self._bi, before, held, weight, 1 if bulk else 0, _MAX_AHEAD_US))
        except UNAVAILABLE_ERRORS as exc:
            self._failed(exc)
            self.fallbacks += 1
            return None
        self._ok()
        reply = int(reply)
        # Measured from when we asked: (virtual) time may have moved while Redis answered.
        if reply >= 0:
            return True, asked_at + reply / 1e6
        return False, asked_at + (-reply - 1) / 1e6

    async def _sleep_until(self, at: float) -> float:
        wait = at - self._clock.now()
        if wait > 0:
            await self._clock.sleep(wait)
        return at

    def _now_us(self) -> int:
        return int(self._clock.wall().timestamp() * 1e6)

    def _attempt(self) -> bool:
        return self._health is None or self._health.should_attempt()

    def _ok(self) -> None:
        if self._health is not None:
            self._health.record_success()

    def _failed(self, exc: BaseException) -> None:
        if self._health is not None:
            self._health.record_failure(exc)
        else:
            log.warning("send budget: Redis unreachable, pacing locally: %s: %s", type(exc).__name__, exc)
