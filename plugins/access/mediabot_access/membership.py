"""Who has joined which chat: Telegram's answer, cached in Redis for every process of the bot.

Per (chat, user), one Redis key holds the last answer: ``1`` (in the chat,
kept ``cache_ttl`` seconds) or ``0`` (not in it, kept ``negative_ttl`` <= 10 s
so that inline typing does not ask Telegram per keystroke). A second key
records a join request the bot saw, for ``request`` chats (``request_ttl``).
A warm check of every configured chat is one ``MGET``: one round trip.

``ChatMemberUpdated`` updates overwrite the answer at once (joined: ``1``;
left or banned: deleted), in Redis, so every process sees it at its next
check. With Redis down, every check asks Telegram and join requests are
remembered by the process that saw them (until Redis is back).

When Telegram cannot answer for a chat (the bot is not its admin, the chat
is gone...), the chat's verdict is ``error``; the caller applies
``on_error``, and the operators get one notice per chat per
``notice_interval``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from mediabot import (
    App,
    FloodWaitTooLong,
    PermanentTelegramError,
    TelegramError,
)
from mediabot_access.config import AccessConfig, ChannelConfig

__all__ = ["Membership", "Verdict"]

log = logging.getLogger("mediabot.plugin.access")

Verdict = Literal["in", "out", "error"]
#: What a chat's check came from: the Redis cache, Telegram, or neither (an error).
Source = Literal["cache", "telegram", "error"]
#: Most join requests one process remembers while Redis is down.
MAX_LOCAL_REQUESTS = 10_000

_FIX: dict[str, str] = {
    "forbidden": "make the bot an administrator of that chat (it must see its members and invite users)",
    "peer_invalid": "the chat is gone or the id/username is wrong: correct [plugins.access] channels",
    "unauthorized": "the bot's own session is no longer valid: log in again",
}


@dataclass(slots=True)
class Check:
    """One chat's verdict for one user."""

    channel: ChannelConfig
    verdict: Verdict
    source: Source


class Membership:
    """Checks and caches who is in the configured chats (see the module docstring)."""

    def __init__(self, app: App, config: AccessConfig, key: Callable[..., str]) -> None:
        self.app = app
        self.config = config
        self._key = key
        self._local_requests: dict[tuple[str, int], float] = {}
        #: chat key -> the last error Telegram gave for it (``/access`` and health show it)
        self.errors: dict[str, str] = {}
        m = app.metrics
        self._checks = m.counter("mediabot_access_checks_total", "Membership checks of one chat, by source",
                                 ["source"])

    # -- keys ------------------------------------------------------------------------
    def member_key(self, channel: ChannelConfig, user_id: int) -> str:
        return self._key("m", channel.key, user_id)

    def request_key(self, channel: ChannelConfig, user_id: int) -> str:
        return self._key("r", channel.key, user_id)

    # -- checks ----------------------------------------------------------------------
    async def check(self, user_id: int, *, fresh: bool = False) -> list[Check]:
        """Every configured chat's verdict for ``user_id``.

        :param fresh: ignore cached "not a member" answers (a Try again press: the user says they joined).
        """
        channels = self.config.channels
        keys: list[str] = []
        for ch in channels:
            keys.append(self.member_key(ch, user_id))
            if ch.mode == "request":
                keys.append(self.request_key(ch, user_id))
        cached = await self._mget(keys)
        checks: list[Check | None] = []
        ask: list[int] = []
        i = 0
        for n, ch in enumerate(channels):
            member = cached[i]
            i += 1
            requested = False
            if ch.mode == "request":
                requested = cached[i] is not None or self._requested_locally(ch, user_id)
                i += 1
            if member == b"1" or requested:
                checks.append(Check(ch, "in", "cache"))
            elif member == b"0" and not fresh:
                checks.append(Check(ch, "out", "cache"))
            else:
                checks.append(None)
                ask.append(n)
        if ask:
            asked = await asyncio.gather(*(self._ask(channels[n], user_id) for n in ask))
            for n, check in zip(ask, asked, strict=True):
                checks[n] = check
            await self._store([c for c in asked if c.verdict != "error"], user_id)
        out = [c for c in checks if c is not None]
        for c in out:
            self._checks.labels(source=c.source).inc()
        return out

    async def _ask(self, channel: ChannelConfig, user_id: int) -> Check:
        try:
            member = await self.app.telegram.get_member(channel.chat, user_id)
        except asyncio.CancelledError:
            raise
        except (PermanentTelegramError, FloodWaitTooLong, TelegramError) as exc:
            self._telegram_failed(channel, exc)
            return Check(channel, "error", "error")
        self.errors.pop(channel.key, None)
        return Check(channel, "in" if member.in_chat else "out", "telegram")

    def _telegram_failed(self, channel: ChannelConfig, exc: BaseException) -> None:
        reason = getattr(exc, "reason", None) or ("flood" if isinstance(exc, FloodWaitTooLong) else "transient")
        original = getattr(exc, "original", None)
        what = type(original).__name__ if original is not None else type(exc).__name__
        self.errors[channel.key] = f"{reason} ({what})"
        fix = _FIX.get(reason, "check that the chat exists, the bot is an administrator there and its invite "
                               "link is not revoked")
        policy = ("users are let through (on_error = open)" if self.config.on_error == "open"
                  else "users are refused (on_error = closed)")
        self.app.notices.notify(
            f"access:telegram:{channel.key}",
            f"Telegram cannot tell who is in {channel.shown} ({channel.chat}): {reason} ({what}). "
            f"Fix: {fix}. Until then {policy}.",
            interval=self.config.notice_interval, source="access")

    # -- what Telegram tells us ------------------------------------------------------
    async def joined(self, channel: ChannelConfig, user_id: int) -> None:
        """The user is in the chat now: ``1`` for ``cache_ttl`` (replaces a cached ``0``); any request is resolved."""
        self._local_requests.pop((channel.key, user_id), None)
        await self._redis(lambda r: r.pipeline(transaction=False)
                          .set(self.member_key(channel, user_id), b"1", ex=_seconds(self.config.cache_ttl))
                          .delete(self.request_key(channel, user_id)).execute())

    async def left(self, channel: ChannelConfig, user_id: int) -> None:
        """The user left or was banned: forget both answers (the next check asks Telegram)."""
        self._local_requests.pop((channel.key, user_id), None)
        await self._redis(lambda r: r.delete(self.member_key(channel, user_id), self.request_key(channel, user_id)))

    async def requested(self, channel: ChannelConfig, user_id: int) -> None:
        """The user asked to join a ``request`` chat: they pass for ``request_ttl``."""
        ok = await self._redis(lambda r: r.set(self.request_key(channel, user_id), b"1",
                                               ex=_seconds(self.config.request_ttl)))
        if not ok:
            if len(self._local_requests) >= MAX_LOCAL_REQUESTS:
                self._local_requests.pop(next(iter(self._local_requests)))
            self._local_requests[(channel.key, user_id)] = self.app.clock.now() + self.config.request_ttl

    def _requested_locally(self, channel: ChannelConfig, user_id: int) -> bool:
        until = self._local_requests.get((channel.key, user_id))
        if until is None:
            return False
        if until <= self.app.clock.now():
            del self._local_requests[(channel.key, user_id)]
            return False
        return True

    # -- Redis -------------------------------------------------------------------------
    async def _mget(self, keys: list[str]) -> list[bytes | None]:
        redis = self.app.redis
        if redis is None or not keys:
            return [None] * len(keys)
        try:
            values: list[Any] = await redis.mget(keys)
            return [v if isinstance(v, bytes) or v is None else str(v).encode() for v in values]
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - Redis down: every check asks Telegram
            log.debug("membership cache unreachable: %s: %s", type(exc).__name__, exc)
            return [None] * len(keys)

    async def _store(self, checks: list[Check], user_id: int) -> None:
        if not checks:
            return
        cfg = self.config

        def write(r: Any) -> Any:
            pipe = r.pipeline(transaction=False)
            for c in checks:
                if c.verdict == "in":
                    pipe.set(self.member_key(c.channel, user_id), b"1", ex=_seconds(cfg.cache_ttl))
                elif cfg.negative_ttl > 0:
                    # NX: a join update that landed while Telegram was answering is not overwritten.
                    pipe.set(self.member_key(c.channel, user_id), b"0", ex=_seconds(cfg.negative_ttl), nx=True)
            return pipe.execute()

        await self._redis(write)

    async def _redis(self, op: Callable[[Any], Any]) -> bool:
        """Run ``op(redis)``; ``False`` when there is no Redis or it failed (logged, never raised)."""
        redis = self.app.redis
        if redis is None:
            return False
        try:
            await op(redis)
            return True
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the cache is an optimisation; Telegram stays the truth
            log.debug("membership cache write failed: %s: %s", type(exc).__name__, exc)
            return False


def _seconds(value: float) -> int:
    return max(1, round(value))
