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
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from mediabot.core.telegram.clock import Clock

__all__ = ["ChatTurn", "IntervalScheduler", "SendPacer"]

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

    async def take_slot(self) -> None:
        """Wait for a global send slot and count it against this chat."""
        slot = await self._pacer.global_schedule.wait()
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

    :param clock: time source; a :class:`~mediabot.core.telegram.clock.FakeClock` in tests.
    :param global_rate: messages per second across all chats.
    :param private_chat_rate: messages per second to one private chat (``chat_id > 0``).
    :param group_per_minute: messages per minute to one group or channel (``chat_id < 0``).
    """

    def __init__(self, clock: Clock, *, global_rate: float = 25.0,
                 private_chat_rate: float = 1.0, group_per_minute: float = 20) -> None:
        for name, value in (("global_rate", global_rate), ("private_chat_rate", private_chat_rate),
                            ("group_per_minute", group_per_minute)):
            if not value > 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        self.clock = clock
        self.global_schedule = IntervalScheduler(clock, 1.0 / global_rate)
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

    async def acquire(self, chat_id: int | None = None) -> None:
        """Wait until one message to ``chat_id`` may be sent now, and count it.

        For callers that send outside :class:`~mediabot.core.telegram.flood.FloodControl`.
        """
        async with self.turn(chat_id) as turn:
            await turn.ready()
            await turn.take_slot()

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
