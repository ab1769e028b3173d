"""Telegram's limits as the fake enforces them, and the faults a test injects.

Telegram publishes its bot limits only roughly: about 30 messages per second
overall, about one per second to one private chat (short bursts pass), 20
per minute to one group. Going over earns a ``FloodWait``, and while a wait
is running every further call of the same kind earns another one with the
remaining seconds. :class:`TelegramLimits` does exactly that, on an
injectable clock, so a test proves that the gateway's pacing keeps the bot
under the limits: with the pacer on, the fake never raises.

:class:`Injections` holds errors a test wants raised: by method, after a
number of calls, a number of times, optionally for one chat only.
"""

from __future__ import annotations

import copy
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from pyrogram.errors import FloodWait

from mediabot.core.clock import Clock

__all__ = ["Injection", "Injections", "TelegramLimits"]

# Windows are compared with this slack: paced sends land exactly on window
# edges, and float sums of intervals may miss an edge by a few ulps.
_EPS = 1e-6


@dataclass
class TelegramLimits:
    """Send limits and running FloodWaits, per method family and per chat.

    :param clock: the time source (a ``FakeClock`` in most tests).
    :param global_per_second: messages per second across all chats.
    :param private_per_second: sustained messages per second to one private chat.
    :param private_burst: messages a private chat may receive back to back.
    :param group_per_minute: messages per minute to one group or channel.
    """

    clock: Clock
    global_per_second: int = 30
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    _global: deque[float] = field(default_factory=deque)
    _groups: dict[int, deque[float]] = field(default_factory=dict)
    # Private chats: token buckets as (tokens, last refill time).
    _private: dict[int, tuple[float, float]] = field(default_factory=dict)
    _family_until: dict[str, float] = field(default_factory=dict)
    _chat_until: dict[int, float] = field(default_factory=dict)

    def check_running_wait(self, family: str, chat_id: int | None) -> None:
        """Raise ``FloodWait`` with the remaining seconds while a wait is running."""
        now = self.clock.now()
        until = self._family_until.get(family, -math.inf)
        if chat_id is not None:
            until = max(until, self._chat_until.get(chat_id, -math.inf))
        if now < until - _EPS:
            raise FloodWait(value=_whole(until - now))

    def impose(self, family: str, seconds: float, chat_id: int | None = None) -> None:
        """Start a wait, as Telegram does when it answers FloodWait."""
        until = self.clock.now() + seconds
        if chat_id is None:
            self._family_until[family] = max(self._family_until.get(family, -math.inf), until)
        else:
            self._chat_until[chat_id] = max(self._chat_until.get(chat_id, -math.inf), until)

    def take_send(self, chat_id: int, messages: int = 1) -> None:
        """Count one call to ``chat_id``; raise ``FloodWait`` (and start the wait) if over a limit.

        :param messages: messages the call sends at once (an album): each
            counts against the global limit, the chat's limits count the call once.
        """
        now = self.clock.now()
        self._expire(self._global, now - 1.0)
        if len(self._global) + messages > self.global_per_second:
            wait = self._global[0] + 1.0 - now
            self.impose("send", wait)
            raise FloodWait(value=_whole(wait))
        if chat_id > 0:
            tokens, last = self._private.get(chat_id, (float(self.private_burst), now))
            tokens = min(float(self.private_burst), tokens + (now - last) * self.private_per_second)
            if tokens < 1.0 - _EPS:
                wait = (1.0 - tokens) / self.private_per_second
                self.impose("send", wait, chat_id)
                raise FloodWait(value=_whole(wait))
            self._private[chat_id] = (max(0.0, tokens - 1.0), now)
        else:
            window = self._groups.setdefault(chat_id, deque())
            self._expire(window, now - 60.0)
            if len(window) >= self.group_per_minute:
                wait = window[0] + 60.0 - now
                self.impose("send", wait, chat_id)
                raise FloodWait(value=_whole(wait))
            window.append(now)
        self._global.extend([now] * messages)

    @staticmethod
    def _expire(window: deque[float], horizon: float) -> None:
        while window and window[0] <= horizon + _EPS:
            window.popleft()


def _whole(seconds: float) -> int:
    # Telegram answers whole seconds, rounded up, never zero.
    return max(1, math.ceil(seconds - _EPS))


@dataclass
class Injection:
    """One scripted failure.

    :param methods: the client methods it applies to; ``None`` for all.
    :param error: the exception (an instance is copied for each raise, a class
        is instantiated without arguments).
    :param times: how many calls fail; ``None`` for every matching call.
    :param after: matching calls that pass before the first failure.
    :param chat_id: only calls addressed to this chat.
    """

    methods: frozenset[str] | None
    error: BaseException | type[BaseException]
    times: int | None = 1
    after: int = 0
    chat_id: int | None = None

    def make(self) -> BaseException:
        if isinstance(self.error, BaseException):
            return copy.copy(self.error)
        return self.error()


@dataclass
class Injections:
    """The scripted failures of one fake, consumed in the order they were added."""

    pending: list[Injection] = field(default_factory=list)

    def add(self, methods: str | Iterable[str], error: BaseException | type[BaseException], *,
            times: int | None = 1, after: int = 0, chat_id: int | None = None) -> Injection:
        if isinstance(methods, str):
            names = None if methods == "*" else frozenset({methods})
        else:
            names = frozenset(methods)
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 (or None for always)")
        inj = Injection(names, error, times, after, chat_id)
        self.pending.append(inj)
        return inj

    def take(self, method: str, chat_id: int | None) -> BaseException | None:
        """The error this call must raise, if any (and count the call against the script)."""
        for inj in self.pending:
            if inj.methods is not None and method not in inj.methods:
                continue
            if inj.chat_id is not None and inj.chat_id != chat_id:
                continue
            if inj.after > 0:
                inj.after -= 1
                continue
            if inj.times is not None:
                inj.times -= 1
                if inj.times == 0:
                    self.pending.remove(inj)
            return inj.make()
        return None

    def clear(self) -> None:
        self.pending.clear()
