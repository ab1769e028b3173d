"""Alerts to admins, rate-limited across the deployment, and the monitor that raises them.

An alert of one kind goes out at most once per ``alert_interval``: the first
process to set ``<prefix>alert:<kind>`` (``SET NX EX``) sends it, the others
stay quiet. While Redis is down each process limits itself in memory (the
"Redis down" alert is one of those). A recovery ("back to normal") is only
announced when the matching alert was announced by this process.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.exceptions import RedisError

from mediabot import TelegramError
from mediabot_indexer.config import IndexerConfig

__all__ = ["Alerts", "Monitor"]

log = logging.getLogger("mediabot.plugin.indexer")


class Alerts:
    """Sends alert texts to the configured recipients.

    :param app: the application (recipients from ``[bot]``, sends through ``app.telegram``).
    :param config: the plugin's settings (``alert_to``, ``alert_interval``).
    :param key: makes the plugin's Redis keys (``ctx.storage.key``).
    """

    def __init__(self, app: Any, config: IndexerConfig, key: Any) -> None:
        self._app = app
        self._to = config.alert_to
        self._interval = config.alert_interval
        self._key = key
        self._sent_at: dict[str, float] = {}
        #: every alert this process sent, oldest first (kind, text): for operators' logs and tests
        self.sent: list[tuple[str, str]] = []

    def recipients(self) -> list[int]:
        bot = self._app.section("bot")
        if self._to == "none":
            return []
        ids = [bot.owner] if bot.owner is not None else []
        if self._to == "admins":
            ids += list(bot.admins)
        return list(dict.fromkeys(ids))

    async def _first(self, kind: str) -> bool:
        """Whether this process may send a ``kind`` alert now (and claims the turn)."""
        now = self._app.clock.now()
        last = self._sent_at.get(kind)
        if last is not None and now - last < self._interval:
            return False
        try:
            async with asyncio.timeout(2.0):
                ok = await self._app.redis.set(self._key("alert", kind), b"1", nx=True,
                                               ex=max(1, int(self._interval)))
        except (RedisError, OSError, TimeoutError):
            ok = True  # Redis down: the local limit above is all there is
        if ok:
            self._sent_at[kind] = now
        return bool(ok)

    async def send(self, kind: str, text: str, *, limited: bool = True) -> bool:
        """Send ``text`` to every recipient; ``False`` when the rate limit held it back.

        :param kind: what the alert is about (``backlog``, ``redis``, ``job:<id>``...): the rate-limit key.
        :param limited: ``False`` for one-off alerts (a job's end), which are never held back.
        """
        if limited and not await self._first(kind):
            return False
        self.sent.append((kind, text))
        log.warning("indexer alert: %s", text)
        for user in self.recipients():
            try:
                await self._app.telegram.send_text(user, text)
            except TelegramError as exc:
                log.warning("indexer: alert to %s not delivered (%s)", user, exc)
        return True


class Monitor:
    """Watches the backlog and Redis; alerts on the way into trouble and on the way out.

    :param live: the live pipeline (:class:`~mediabot_indexer.live.LiveIngest`).
    """

    def __init__(self, app: Any, config: IndexerConfig, live: Any, alerts: Alerts) -> None:
        self._app = app
        self._config = config
        self._live = live
        self._alerts = alerts
        self.backlog_high = False
        self.redis_down = False

    async def run(self) -> None:
        """The loop (``ctx.spawn_loop``)."""
        while True:
            await self.check()
            await self._app.clock.sleep(self._config.monitor_interval)

    async def check(self) -> None:
        live, config = self._live, self._config
        down = live.buffer.redis_down
        if down and not self.redis_down:
            self.redis_down = await self._alerts.send(
                "redis", f"Indexer: Redis is unreachable. New channel posts are held in memory "
                         f"(up to {live.buffer.capacity:,}); beyond that they are recorded as gaps "
                         f"and re-read when Redis is back.")
        elif not down and self.redis_down:
            self.redis_down = False
            await self._alerts.send("redis-ok", "Indexer: Redis is reachable again; buffered posts are being "
                                                "written to the queue.", limited=False)
        if not config.backlog_alert or down:
            return
        try:
            backlog = (await live.queue.backlog()).total
        except Exception:  # noqa: BLE001 - Redis trouble is the buffer's alert, not this one
            return
        if backlog >= config.backlog_alert and not self.backlog_high:
            self.backlog_high = await self._alerts.send(
                "backlog", f"Indexer: {backlog:,} channel posts are waiting to be written to the catalogue "
                           f"(alert at {config.backlog_alert:,}). The database may be slow or down.")
        elif backlog < config.backlog_clear and self.backlog_high:
            self.backlog_high = False
            await self._alerts.send("backlog-ok", f"Indexer: the backlog is back to normal ({backlog:,} waiting).",
                                    limited=False)
