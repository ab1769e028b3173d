"""FloodWait-aware execution of Telegram calls.

Every call the gateway makes goes through :meth:`FloodControl.call` with a
*domain*: ``send``, ``edit``, ``read`` or ``download``. Per domain the kernel
applies a concurrency limit, a pause shared by every caller when Telegram
answers FloodWait, and retries; sends are also paced (:mod:`.pacing`).

Why pause the whole domain: a FloodWait is Telegram saying the *account* is
over its limit for that kind of request. If only the caller that received it
waited, the other 99 in-flight sends would each earn their own FloodWait,
and repeated violations make Telegram's waits longer.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar, get_args

from mediabot.core.clock import Clock, MonotonicClock

# Defined without pyrogram so the config loader can import it cheaply; re-exported here.
from mediabot.core.telegram.config import FloodConfig
from mediabot.core.telegram.errors import (
    FloodWaitTooLong,
    PermanentTelegramError,
    TelegramError,
    TransientTelegramError,
    classify,
    flood_wait_seconds,
    is_chat_flood,
    permanent_reason,
)
from mediabot.core.telegram.pacing import ChatTurn, Priority, SendPacer

__all__ = [
    "DOMAINS",
    "Domain",
    "DomainPause",
    "EventSink",
    "FloodConfig",
    "FloodControl",
    "FloodEvent",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

Domain = Literal["send", "edit", "read", "download"]
DOMAINS: tuple[Domain, ...] = get_args(Domain)

FloodEvent = Literal[
    "flood_wait",           # Telegram answered FloodWait / SlowmodeWait
    "domain_paused",        # a domain went from running to paused
    "pause_extended",       # a FloodWait pushed an existing pause further out
    "chat_deferred",        # slow mode held one chat back
    "flood_too_long",       # FloodWaitTooLong raised to a caller
    "transient_retry",      # a network/5xx failure will be retried
    "transient_exhausted",  # TransientTelegramError raised to a caller
    "permanent",            # PermanentTelegramError raised to a caller
]

# Upper bound of the random delay added to a FloodWait. The pause is already
# shared in-process; the jitter de-synchronises *processes* sharing one bot
# token, which would otherwise all resume on the same millisecond.
FLOOD_JITTER = 0.5


class EventSink(Protocol):
    """Receives one call per event, e.g. to increment a Prometheus counter."""

    def __call__(self, name: FloodEvent, domain: str) -> None: ...


class DomainPause:
    """The shared "do not call before" time of one domain.

    Concurrent FloodWaits extend the pause to the latest deadline; they never
    add up, since each one measures from the same moment on Telegram's side.
    """

    def __init__(self, clock: Clock, domain: str) -> None:
        self._clock = clock
        self.domain = domain
        self._until = -math.inf

    def remaining(self) -> float:
        """Seconds until the domain may be called again (0 when running)."""
        return max(0.0, self._until - self._clock.now())

    def is_open(self) -> bool:
        return self._clock.now() >= self._until

    def pause(self, seconds: float) -> Literal["paused", "extended", "unchanged"]:
        """Forbid calls for ``seconds`` from now; say what changed."""
        was_open = self.is_open()
        until = self._clock.now() + seconds
        if until <= self._until:
            return "unchanged"
        self._until = until
        return "paused" if was_open else "extended"

    async def wait_open(self, longest: float, *, method: str = "") -> None:
        """Sleep until the pause is over; raise rather than sleep beyond ``longest``.

        Loops because another FloodWait may extend the pause while we sleep.
        """
        while (left := self._until - self._clock.now()) > 0:
            if left > longest:
                raise FloodWaitTooLong(left, method, limit=longest, domain=self.domain)
            await self._clock.sleep(left)


@dataclass(slots=True)
class _Lane:
    semaphore: asyncio.Semaphore
    pause: DomainPause


class FloodControl:
    """Runs Telegram calls under per-domain limits, pacing and FloodWait handling.

    One instance per bot client, owned by the gateway and created at startup.

    :param config: limits; defaults suit a single bot token.
    :param clock: time source; pass a ``FakeClock`` in tests.
    :param on_event: called with ``(event, domain)`` for metrics; its errors
        are logged, never raised into the call.
    :param rng: source of jitter; seed one for reproducible tests.
    """

    def __init__(self, config: FloodConfig | None = None, *, clock: Clock | None = None,
                 on_event: EventSink | None = None, rng: random.Random | None = None) -> None:
        self.config = config if config is not None else FloodConfig()
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self._on_event = on_event
        self._rng = rng if rng is not None else random.Random()
        cfg = self.config
        sizes: dict[Domain, int] = {
            "send": cfg.send_concurrency,
            "edit": cfg.edit_concurrency,
            "read": cfg.read_concurrency,
            "download": cfg.download_concurrency,
        }
        self._lanes: dict[str, _Lane] = {
            domain: _Lane(asyncio.Semaphore(size), DomainPause(self.clock, domain))
            for domain, size in sizes.items()
        }
        self.pacer = SendPacer(self.clock, global_rate=cfg.global_rate,
                               private_chat_rate=cfg.private_chat_rate,
                               group_per_minute=cfg.group_per_minute, bulk_share=cfg.bulk_share)

    def paused_for(self, domain: str) -> float:
        """Seconds the domain stays paused by a FloodWait (0 when running), for health."""
        return self._lane(domain).pause.remaining()

    async def call(self, domain: str, fn: Callable[[], Awaitable[T]], *,
                   chat_id: int | None = None, method: str = "", priority: Priority = "reply",
                   weight: int = 1) -> T:
        """Run ``fn()`` in ``domain``; retry what is worth retrying; raise typed errors.

        ``fn`` is a zero-argument factory, called once per attempt, so each
        retry makes a fresh request. For ``send``, ``chat_id`` selects the
        per-chat pace and sends to one chat are made one at a time, in call
        order, retries included.

        Retries resend: a send whose answer was lost to a timeout may have
        been delivered, so a retried send can arrive twice.

        :param domain: one of :data:`DOMAINS`.
        :param chat_id: the target chat; ``None`` when there is none (inline answers).
        :param method: the Telegram method, for error messages and logs.
        :param priority: for ``send``: ``reply`` (a user waits) or ``bulk``
            (a broadcast: only the slots replies leave, see :mod:`.pacing`).
        :param weight: for ``send``: messages the call sends at once (an album).
        :raises FloodWaitTooLong: Telegram asked for a longer wait than
            ``max_flood_wait``, the domain is already paused that long, or
            FloodWaits outlasted ``max_retries``.
        :raises PermanentTelegramError: the call can never succeed (not retried).
        :raises TransientTelegramError: network/5xx failures outlasted ``transient_retries``.
        """
        lane = self._lane(domain)
        if domain == "send":
            async with self.pacer.turn(chat_id) as turn:
                return await self._run(domain, lane, fn, turn, method, priority, weight)
        return await self._run(domain, lane, fn, None, method)

    def _lane(self, domain: str) -> _Lane:
        try:
            return self._lanes[domain]
        except KeyError:
            raise ValueError(f"unknown Telegram domain {domain!r}; expected one of "
                             f"{', '.join(DOMAINS)}") from None

    async def _run(self, domain: str, lane: _Lane, fn: Callable[[], Awaitable[T]],
                   turn: ChatTurn | None, method: str, priority: Priority = "reply", weight: int = 1) -> T:
        cfg = self.config
        floods = transients = 0
        while True:
            try:
                return await self._attempt(lane, fn, turn, method, priority, weight)
            except TelegramError as exc:
                # Raised by our own waits (a pause already longer than the cap).
                if isinstance(exc, FloodWaitTooLong):
                    self._emit("flood_too_long", domain)
                raise
            except Exception as exc:
                kind = classify(exc)
                if kind == "flood":
                    floods += 1
                    await self._after_flood(exc, domain, lane, turn, method, floods)
                elif kind == "transient":
                    transients += 1
                    if transients > cfg.transient_retries:
                        self._emit("transient_exhausted", domain)
                        raise TransientTelegramError(transients, exc, method=method) from exc
                    self._emit("transient_retry", domain)
                    await self.clock.sleep(self._backoff(transients))
                elif kind == "permanent":
                    self._emit("permanent", domain)
                    reason = permanent_reason(exc)
                    assert reason is not None  # classify() said "permanent"
                    raise PermanentTelegramError(reason, exc, method=method) from exc
                else:
                    raise

    async def _attempt(self, lane: _Lane, fn: Callable[[], Awaitable[T]],
                       turn: ChatTurn | None, method: str, priority: Priority = "reply",
                       weight: int = 1) -> T:
        # The pause may be up to FLOOD_JITTER longer than the FloodWait that
        # set it; that must not turn an accepted wait into a refusal.
        longest = self.config.max_flood_wait + FLOOD_JITTER
        if turn is None:
            async with lane.semaphore:
                await lane.pause.wait_open(longest, method=method)
                return await fn()
        # Wait for the chat before taking a permit: a group's 3-second pace
        # must not hold permits that sends to other chats could use.
        await lane.pause.wait_open(longest, method=method)
        held_back = turn.delay()
        if held_back > max(longest, turn.interval):
            # Only slow mode defers a chat this far; same rule as a domain pause.
            raise FloodWaitTooLong(held_back, method, limit=self.config.max_flood_wait,
                                   domain="send")
        await turn.ready()
        if priority == "bulk":
            # Bulk sends wait for their slot *before* taking a permit: waiting
            # broadcasts must not hold the permits replies need. A slot that
            # went stale while waiting for a permit is not used: the send
            # would land on top of later ones. It asks for a fresh one.
            while True:
                await self._take_open_slot(lane, turn, longest, method, priority, weight)
                granted = self.clock.now()
                await lane.semaphore.acquire()
                if self.clock.now() - granted <= self.pacer.local_budget.interval and lane.pause.is_open():
                    break
                lane.semaphore.release()
            try:
                return await fn()
            finally:
                lane.semaphore.release()
        async with lane.semaphore:
            await self._take_open_slot(lane, turn, longest, method, priority, weight)
            return await fn()

    async def _take_open_slot(self, lane: _Lane, turn: ChatTurn, longest: float, method: str,
                              priority: Priority, weight: int) -> None:
        while True:
            await lane.pause.wait_open(longest, method=method)
            await turn.take_slot(priority, weight)
            # A FloodWait may have arrived while we waited for the slot;
            # nothing is attempted in a paused domain.
            if lane.pause.is_open():
                return

    async def _after_flood(self, exc: Exception, domain: str, lane: _Lane,
                           turn: ChatTurn | None, method: str, floods: int) -> None:
        cfg = self.config
        seconds = flood_wait_seconds(exc)
        assert seconds is not None  # classify() said "flood"
        self._emit("flood_wait", domain)
        log.warning("%s: FloodWait %.0fs in domain %r (attempt %d)",
                    method or domain, seconds, domain, floods)
        too_long = seconds > cfg.max_flood_wait
        wait = seconds if too_long else seconds + self._rng.uniform(0.0, FLOOD_JITTER)

        if is_chat_flood(exc):
            # Slow mode is one chat's rule: hold that chat back, not the domain.
            if turn is not None and turn.per_chat:
                turn.defer(wait)
                self._emit("chat_deferred", domain)
            elif not too_long and floods <= cfg.max_retries:
                await self.clock.sleep(wait)
        else:
            change = lane.pause.pause(wait)
            if domain == "send" and change != "unchanged":
                # Other processes of the bot share the account's limit: hold them too.
                await self.pacer.budget.hold(wait)
            if change == "paused":
                self._emit("domain_paused", domain)
            elif change == "extended":
                self._emit("pause_extended", domain)

        if too_long:
            self._emit("flood_too_long", domain)
            raise FloodWaitTooLong(seconds, method, limit=cfg.max_flood_wait,
                                   domain=domain) from exc
        if floods > cfg.max_retries:
            self._emit("flood_too_long", domain)
            raise FloodWaitTooLong(seconds, method, domain=domain) from exc

    def _backoff(self, retry: int) -> float:
        base = self.config.backoff_base * 2.0 ** (retry - 1)
        return min(self.config.max_flood_wait, base * (1.0 + 0.5 * self._rng.random()))

    def _emit(self, name: FloodEvent, domain: str) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(name, domain)
        except Exception:
            # Metrics must never break delivery.
            log.exception("flood event sink failed on %s/%s", name, domain)
