"""Re-reading the ids recorded as gaps: posts the full buffer dropped, holes in a channel's id sequence.

Each round takes, per channel with gaps, the lowest recorded ids (up to one
Telegram read), reads them, hands the media posts it finds to the buffer
like live posts, and resolves the ids it dealt with -- found and taken,
found and not a file, or absent (a deleted post keeps its id). A post the
buffer refuses again stays recorded for the next round. One process at a
time backfills a channel (``<prefix>backfill:<channel>``, ``SET NX PX``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.exceptions import RedisError

from mediabot import FloodWaitTooLong, PermanentTelegramError, TelegramError
from mediabot_indexer.config import READ_BATCH_MAX
from mediabot_indexer.live import LiveIngest
from mediabot_indexer.metrics import IndexerMetrics

__all__ = ["Backfill"]

log = logging.getLogger("mediabot.plugin.indexer")

_REDIS_ERRORS = (RedisError, OSError, TimeoutError)


class Backfill:
    """The backfill of one process.

    :param interval: seconds between rounds.
    :param key: makes the plugin's Redis keys.
    """

    def __init__(self, app: Any, live: LiveIngest, metrics: IndexerMetrics, key: Any, interval: float) -> None:
        self._app = app
        self._live = live
        self._metrics = metrics
        self._key = key
        self._interval = interval
        self._resume_at = 0.0
        self.rounds = 0

    async def run(self) -> None:
        """The loop (``ctx.spawn_loop``)."""
        while True:
            await self._live.save_marks()
            await self.round()
            await self._app.clock.sleep(self._interval)

    async def round(self) -> int:
        """Backfill every channel with gaps once; returns how many ids were dealt with."""
        self.rounds += 1
        if self._app.clock.now() < self._resume_at:
            return 0
        try:
            channels = await self._live.gaps.channels()
        except _REDIS_ERRORS:
            return 0
        done = 0
        for channel in channels:
            done += await self._channel(channel)
        return done

    async def _channel(self, channel: int) -> int:
        gaps = self._live.gaps
        lock = self._key("backfill", channel)
        try:
            async with asyncio.timeout(2.0):
                if not await self._app.redis.set(lock, b"1", nx=True, px=int(max(self._interval, 60) * 1000)):
                    return 0
        except _REDIS_ERRORS:
            return 0
        try:
            ids = await gaps.take(channel, READ_BATCH_MAX)
            if not ids:
                return 0
            if channel not in self._live.sources:
                await gaps.resolve(channel, ids)  # no longer a source: nothing to index there
                return len(ids)
            try:
                messages = await self._app.telegram.read_channel(channel, ids)
            except FloodWaitTooLong as exc:
                self._resume_at = self._app.clock.now() + exc.seconds
                log.info("indexer: backfill paused %.0fs by Telegram", exc.seconds)
                return 0
            except PermanentTelegramError as exc:
                log.warning("indexer: cannot re-read gaps of %s (%s); they stay recorded", channel, exc)
                return 0
            except TelegramError as exc:
                log.warning("indexer: re-reading gaps of %s failed (%s); retrying next round", channel, exc)
                self._metrics.errors.labels(what="backfill_read").inc()
                return 0
            refused: set[int] = set()
            found = 0
            for message in messages:
                post = self._live.filter.post(message)
                if post is None:
                    continue
                found += 1
                if not self._live.buffer.accept(post, observe=False):
                    refused.add(message.id)
            settled = [i for i in ids if i not in refused]
            await gaps.resolve(channel, settled)
            self._metrics.gaps_resolved.labels(outcome="found").inc(found - len(refused))
            self._metrics.gaps_resolved.labels(outcome="absent").inc(len(settled) - (found - len(refused)))
            return len(settled)
        except _REDIS_ERRORS as exc:
            log.warning("indexer: backfill of %s interrupted by Redis (%s)", channel, exc)
            return 0
        finally:
            try:
                async with asyncio.timeout(2.0):
                    await self._app.redis.delete(lock)
            except _REDIS_ERRORS:
                pass
