"""Pacing of outgoing messages to stay under Telegram's send limits.

Telegram allows a bot about 30 messages per second to different chats, one
per second to the same private chat and 20 per minute to the same group.
Going over earns a FloodWait that stalls *every* send, so the gateway paces
itself a little below those numbers instead of discovering them.

Each limit is a scheduler of evenly spaced slots (GCRA with no burst
tolerance): a caller reserves the next free slot the moment it asks, which
makes service strictly first-come, first-served, then sleeps until its slot.
Nobody polls. A send passes two gates:

1. its chat's turn (:meth:`SendPacer.turn`): sends to one chat go one at a
   time, in order, each at least the chat's interval after the previous one;
2. a global slot (:meth:`ChatTurn.take_slot`), shared by all chats.

The chat gate is waited for first and separately, so a busy group never
holds back sends to other chats beyond the global rate.

Global slots have a **priority** (:data:`Priority`). A ``reply`` (anything a
user is waiting for) books the next free slot, first come, first served. A
``bulk`` send (a broadcast) never books ahead: it takes a slot only when one
is free *now* and its own, slower schedule (``bulk_share`` of the rate)
allows it, otherwise it waits and asks again. So bulk sends use only what
replies leave, and a reply waits at most one slot behind them.
:class:`LocalBudget` does this for one process; :mod:`.budget` does the same
in Redis for every process of the bot, and falls back to the local one.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal, Protocol

from mediabot.core.clock import Clock

__all__ = ["PRIORITIES", "ChatTurn", "GlobalBudget", "IntervalScheduler", "LocalBudget", "Priority",
           "SendPacer", "slot_span"]

Priority = Literal["reply", "bulk"]
"""``reply``: a user waits for it (the default). ``bulk``: a broadcast; only uses what replies leave."""
PRIORITIES: tuple[Priority, ...] = ("reply", "bulk")

# Idle chats examined per new turn. Two per arrival is enough to keep the
# table at (recently used + busy) chats: each arrival adds at most one entry
# and looks at two old ones, deleting the idle and rotating the busy.
_SWEEP_PER_TURN = 2


class IntervalScheduler:
    """First-come, first-served slots at least ``interval`` seconds apart.

    A cancelled waiter's slot is simply lost: at worst one interval of idle
    time, which is cheaper than re-planning everyone behind it.
    """

    def __init__(self, clock: Clock, interval: float) -> None:
        if interval < 0 or math.isnan(interval):
            raise ValueError(f"interval must be >= 0, got {interval!r}")
        self._clock = clock
        self.interval = interval
        self._next_free = -math.inf

    def reserve(self) -> float:
        """Book the next free slot and return its time (possibly now)."""
        slot = max(self._clock.now(), self._next_free)
        self._next_free = slot + self.interval
        return slot

    async def wait(self) -> float:
        """Book the next free slot, sleep until it, and return its time."""
        slot = self.reserve()
        delay = slot - self._clock.now()
        if delay > 0:
            await self._clock.sleep(delay)
        return slot


def slot_span(weight: int) -> tuple[int, int]:
    """For a call carrying ``weight`` messages at once (an album): (slots before it goes, slots it holds).

    Telegram counts each message of an album, and they all arrive at one
    instant. Keeping ``weight - 1`` slots free before *and* after the burst
    means no one-second window holds more than the paced rate.
    """
    if weight < 1:
        raise ValueError(f"weight must be >= 1, got {weight!r}")
    return weight - 1, 2 * weight - 1


class GlobalBudget(Protocol):
    """The bot's global send slots: local to the process or shared in Redis."""

    async def take(self, priority: Priority, weight: int = 1) -> float:
        """Wait for a slot of ``priority`` worth ``weight`` messages; return the clock time it was granted for."""
        ...

    async def hold(self, seconds: float) -> None:
        """No slot for anyone during the next ``seconds`` (Telegram answered FloodWait)."""
        ...


class LocalBudget:
    """Prioritised global slots of one process.

    :param clock: time source.
    :param rate: messages per second, all priorities together.
    :param bulk_share: the fraction of ``rate`` bulk sends may use at most.
    """

    def __init__(self, clock: Clock, rate: float, bulk_share: float = 0.8) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be > 0, got {rate!r}")
        if not 0 < bulk_share <= 1:
            raise ValueError(f"bulk_share must be in (0, 1], got {bulk_share!r}")
        self.clock = clock
        self.interval = 1.0 / rate
        self.bulk_interval = self.interval / bulk_share
        self._next_free = -math.inf      # first free slot for anyone
        self._next_bulk = -math.inf      # first slot the bulk schedule allows
        # Bulk senders ask one at a time: woken together, N waiters would all
        # race for the one free slot and N-1 of them would ask again.
        self._bulk_turn = asyncio.Lock()

    def try_bulk(self, weight: int = 1) -> float:
        """Book a bulk slot if one is free now: return its delay (>= 0), or minus the seconds to wait."""
        now = self.clock.now()
        ready = max(self._next_free, self._next_bulk)
        if ready > now:
            return -(ready - now)
        before, held = slot_span(weight)
        # Less than one interval late for the slot (a sleep woke late)? Count the next
        # from when this one was due: the cadence holds (at most one send more in a
        # window). An idle budget gives no credit.
        free = self._next_free if self._next_free >= now - self.interval else now
        bulk = self._next_bulk if self._next_bulk >= now - self.bulk_interval else now
        self._next_free = free + held * self.interval
        self._next_bulk = bulk + weight * self.bulk_interval
        return before * self.interval

    def book_reply(self, weight: int = 1) -> float:
        """Book the next free slot for a reply and return its time."""
        before, held = slot_span(weight)
        start = max(self.clock.now(), self._next_free)
        self._next_free = start + held * self.interval
        return start + before * self.interval

    async def take(self, priority: Priority, weight: int = 1) -> float:
        if priority == "reply":
            slot = self.book_reply(weight)
        else:
            async with self._bulk_turn:
                while (delay := self.try_bulk(weight)) < 0:
                    await self.clock.sleep(-delay)
            slot = self.clock.now() + delay
        wait = slot - self.clock.now()
        if wait > 0:
            await self.clock.sleep(wait)
        return slot

    async def hold(self, seconds: float) -> None:
        self._next_free = max(self._next_free, self.clock.now() + seconds)


@dataclass(slots=True, eq=False)
class _ChatState:
    interval: float
    # Earliest time the next send to this chat may go out.
    next_at: float = -math.inf
    # asyncio.Lock wakes waiters in arrival order, so it doubles as the FIFO
    # queue of sends to this chat.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Turns that hold or wait for this state: a state in use is never evicted.
    users: int = 0


class ChatTurn:
    """One send's place in its chat's queue, held for the duration of a turn.

    Call :meth:`ready` before taking scarce resources (a concurrency permit),
    then :meth:`take_slot` right before the request goes out. Retrying inside
    the same turn keeps the chat's messages in order.
    """

    def __init__(self, pacer: SendPacer, state: _ChatState | None) -> None:
        self._pacer = pacer
        self._state = state

    def delay(self) -> float:
        """Seconds until this chat may receive another message (0 if now)."""
        if self._state is None:
            return 0.0
        return max(0.0, self._state.next_at - self._pacer.clock.now())

    async def ready(self) -> None:
        """Wait until this chat may receive another message."""
        delay = self.delay()
        if delay > 0:
            await self._pacer.clock.sleep(delay)

    async def take_slot(self, priority: Priority = "reply", weight: int = 1) -> None:
        """Wait for a global send slot of ``priority`` and count it against this chat.

        :param weight: messages the call sends at once (an album's size).
        """
        slot = await self._pacer.budget.take(priority, weight)
        if self._state is not None:
            # Measured from the slot actually used, not from when the chat
            # became ready, so a long global wait cannot squeeze two sends to
            # the same chat closer than its interval.
            self._state.next_at = max(self._state.next_at, slot + self._state.interval)

    def defer(self, seconds: float) -> None:
        """Hold this chat back for ``seconds`` (e.g. Telegram's slow mode said so)."""
        if self._state is None:
            return
        until = self._pacer.clock.now() + seconds
        self._state.next_at = max(self._state.next_at, until)

    @property
    def interval(self) -> float:
        """The chat's regular spacing between sends (0 without a chat)."""
        return 0.0 if self._state is None else self._state.interval

    @property
    def per_chat(self) -> bool:
        """Whether a per-chat limit applies (``False`` without a chat id)."""
        return self._state is not None


class SendPacer:
    """Global and per-chat pacing of sends.

    :param clock: time source; a :class:`~mediabot.testing.FakeClock` in tests.
    :param global_rate: messages per second across all chats.
    :param private_chat_rate: messages per second to one private chat (``chat_id > 0``).
    :param group_per_minute: messages per minute to one group or channel (``chat_id < 0``).
    :param bulk_share: the fraction of ``global_rate`` bulk sends may use at most.
    :param budget: global slots shared with other processes (:class:`~.budget.SharedBudget`);
        default: this process's own :class:`LocalBudget`.
    """

    def __init__(self, clock: Clock, *, global_rate: float = 25.0,
                 private_chat_rate: float = 1.0, group_per_minute: float = 20,
                 bulk_share: float = 0.8, budget: GlobalBudget | None = None) -> None:
        for name, value in (("global_rate", global_rate), ("private_chat_rate", private_chat_rate),
                            ("group_per_minute", group_per_minute)):
            if not value > 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        self.clock = clock
        self.local_budget = LocalBudget(clock, global_rate, bulk_share)
        self.budget: GlobalBudget = budget if budget is not None else self.local_budget
        self.private_interval = 1.0 / private_chat_rate
        self.group_interval = 60.0 / group_per_minute
        # Insertion order is the sweep order; see _sweep.
        self._chats: OrderedDict[int, _ChatState] = OrderedDict()

    def interval_for(self, chat_id: int | None) -> float:
        """Seconds between two sends to ``chat_id``; 0 when no per-chat limit applies."""
        if not chat_id:
            return 0.0
        return self.private_interval if chat_id > 0 else self.group_interval

    @asynccontextmanager
    async def turn(self, chat_id: int | None) -> AsyncIterator[ChatTurn]:
        """Queue behind earlier sends to ``chat_id`` and hold its turn until the block ends.

        With ``chat_id=None`` (or 0) only the global pace applies and nothing queues.
        """
        if not chat_id:
            yield ChatTurn(self, None)
            return
        state = self._checkout(chat_id)
        try:
            async with state.lock:
                yield ChatTurn(self, state)
        finally:
            state.users -= 1

    async def acquire(self, chat_id: int | None = None, priority: Priority = "reply") -> None:
        """Wait until one message to ``chat_id`` may be sent now, and count it.

        For callers that send outside :class:`~mediabot.core.telegram.flood.FloodControl`.
        """
        async with self.turn(chat_id) as turn:
            await turn.ready()
            await turn.take_slot(priority)

    @property
    def tracked_chats(self) -> int:
        """Chats whose pacing state is currently held in memory."""
        return len(self._chats)

    def _checkout(self, chat_id: int) -> _ChatState:
        state = self._chats.get(chat_id)
        if state is None:
            state = _ChatState(interval=self.interval_for(chat_id))
            self._chats[chat_id] = state
        state.users += 1
        self._sweep()
        return state

    def _sweep(self) -> None:
        # A chat whose next slot is in the past and that nobody waits for
        # carries no information: a fresh state would behave identically. So
        # eviction is exact, and memory is bounded by the chats used within
        # the last group interval plus those with queued sends.
        now = self.clock.now()
        for _ in range(min(_SWEEP_PER_TURN, len(self._chats))):
            chat_id, state = next(iter(self._chats.items()))
            if state.users == 0 and state.next_at <= now:
                del self._chats[chat_id]
            else:
                self._chats.move_to_end(chat_id)
