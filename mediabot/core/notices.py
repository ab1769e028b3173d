"""Notices: one way for the kernel and plugins to tell the operators something.

``app.notices.notify(key, text)`` (or ``await app.notices.tell(...)``) logs
the text, then posts it to ``[bot] log_channel`` when one is configured, else
to the owner's and the admins' private chats. Notices of one ``key`` go out
at most once per ``interval`` seconds *for the whole deployment*: the first
process to claim ``<prefix>:{notices}:<key>`` in Redis (``SET NX EX``) posts
it, the others hold it back; while Redis is down each process limits itself.
What a process held back is counted in its next notice of that key ("3
similar notices held back").

Every notice is logged and counted in ``mediabot_notices_total{source}``
whether or not it is posted; a post that fails is logged, never raised: a
notice never breaks what it reports on.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from mediabot.core.redis.keys import hash_tagged

if TYPE_CHECKING:
    from mediabot.core.app import App

__all__ = ["Notices"]

log = logging.getLogger("mediabot.notices")

#: What a notice may hold: Telegram's 4,096 characters, less room for the "held back" note.
MAX_NOTICE = 4000


class Notices:
    """Rate-limited messages to the operators (see the module docstring). Owned by the app as ``app.notices``."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}
        #: the last texts posted (or that would have been, without a gateway), newest last
        self.sent: deque[str] = deque(maxlen=200)
        self._count = app.metrics.counter("mediabot_notices_total", "Notices to the operators, by source",
                                          ["source"])

    def recipients(self, *, private: bool = True) -> list[int]:
        """Where notices go: the log channel, else (with ``private``) the owner and the admins, each once."""
        bot = self.app.section("bot")
        if bot.log_channel is not None:
            return [bot.log_channel]
        if not private:
            return []
        return list(dict.fromkeys([*([bot.owner] if bot.owner is not None else []), *bot.admins]))

    def logs(self, event: str) -> bool:
        """Whether ``[bot] log_events`` asks for ``event`` and there is a log channel to post it in."""
        bot = self.app.section("bot")
        return bot.log_channel is not None and event in bot.log_events

    def notify(self, key: str, text: str, *, interval: float = 300.0, level: int = logging.WARNING,
               source: str = "kernel", private: bool = True) -> None:
        """:meth:`tell` from code that cannot wait (a write path, a sync callback): posted in the background."""
        try:
            supervisor = self.app.supervisor
        except RuntimeError:  # not started (a CLI command, a unit test): the log is all there is
            self._log(key, text, level, source)
            return
        coro: Coroutine[Any, Any, bool] = self.tell(key, text, interval=interval, level=level, source=source,
                                                    private=private)
        supervisor.spawn(coro, name=f"notice:{key}", owner=source)

    async def tell(self, key: str, text: str, *, interval: float = 300.0, level: int = logging.WARNING,
                   source: str = "kernel", private: bool = True) -> bool:
        """Log ``text`` and post it, unless a notice of ``key`` went out less than ``interval`` s ago.

        :param key: what the notice is about (``dbrouter:breaker:a``, ``indexer:backlog``): the rate-limit key.
        :param interval: seconds between two posts of one key across the deployment; ``0``: never held back.
        :param level: the log level of the line written for it.
        :param source: who tells (a plugin's name), for the log and the metric.
        :param private: without a log channel, post to the owner's and admins' private chats;
            ``False``: only to the log channel (events such as new users).
        :return: ``True`` when it was posted (or would have been, without a gateway), ``False`` when held back.
        """
        self._log(key, text, level, source)
        if interval > 0 and not await self._claim(key, interval):
            self._held[key] = self._held.get(key, 0) + 1
            return False
        held = self._held.pop(key, 0)
        message = text[:MAX_NOTICE] + (f"\n({held} similar notice{'s' if held != 1 else ''} held back)"
                                       if held else "")
        self.sent.append(message)
        if self.app.gateway is None:
            return True
        for chat_id in self.recipients(private=private):
            try:
                await self.app.telegram.send_text(chat_id, message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - one unreachable recipient must not stop the others
                log.warning("could not post a notice to %d: %s: %s", chat_id, type(exc).__name__, exc)
        return True

    def _log(self, key: str, text: str, level: int, source: str) -> None:
        log.log(level, "%s: %s", source, text, extra={"event": key, "plugin": source})
        self._count.labels(source=source).inc()

    async def _claim(self, key: str, interval: float) -> bool:
        """Whether this process may post a ``key`` notice now; claims the turn for the deployment."""
        now = self.app.clock.now()
        last = self._last.get(key)
        if last is not None and now - last < interval:
            return False
        redis = self.app.redis
        claimed = True
        if redis is not None:
            name = hash_tagged(self.app.section("redis").key_prefix, "notices", key)
            try:
                async with asyncio.timeout(2.0):
                    claimed = bool(await redis.set(name, b"1", nx=True, px=max(1, int(interval * 1000))))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis down: the local limit above is all there is
                claimed = True
        if claimed:
            self._last[key] = now
        return claimed
