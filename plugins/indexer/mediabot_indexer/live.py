"""Live ingestion: channel updates from sources in, catalogue writes out.

A new post goes to the :class:`~mediabot_indexer.buffer.IngestBuffer`
(synchronous, never blocks the update loop), from there to the Redis Stream,
and a :class:`~mediabot_indexer.consumer.StreamConsumer` writes it to the
catalogue. Edits and deletions are rare and go straight to the catalogue.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from mediabot import InsertReport, MediaFile, Message, MessageEdited, MessagesDeleted
from mediabot_indexer.buffer import IngestBuffer
from mediabot_indexer.config import IndexerConfig
from mediabot_indexer.consumer import StreamConsumer
from mediabot_indexer.gaps import GapLog
from mediabot_indexer.metrics import IndexerMetrics
from mediabot_indexer.posts import Post
from mediabot_indexer.queue import StreamQueue
from mediabot_indexer.sources import Sources

__all__ = ["LiveIngest", "MediaFilter"]

# HSET only when higher: two processes saving at once keep the larger mark.
_SAVE_MARK = """
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
"""

log = logging.getLogger("mediabot.plugin.indexer")


class MediaFilter:
    """Which messages become catalogue files: the configured kinds, at least ``min_size`` bytes."""

    def __init__(self, kinds: Iterable[str], min_size: int) -> None:
        self.kinds = frozenset(kinds)
        self.min_size = min_size

    def post(self, message: Message) -> Post | None:
        """The post to index for ``message``, or ``None`` when it is skipped."""
        media = message.media
        if media is None or media.kind not in self.kinds:
            return None
        if self.min_size and (media.file_size or 0) < self.min_size:
            return None
        return Post.from_message(message)


class LiveIngest:
    """The live pipeline of one process: buffer, stream, consumer, and the update handlers.

    :param app: the application (``app.files`` is the sink).
    :param config: the plugin's settings.
    :param sources: the source set (asked for every update).
    :param prefix: the plugin's Redis key prefix.
    :param metrics: where batches and files are counted.
    """

    def __init__(self, app: Any, config: IndexerConfig, sources: Sources, prefix: str,
                 metrics: IndexerMetrics) -> None:
        self._app = app
        self.sources = sources
        self._metrics = metrics
        self.filter = MediaFilter(config.kinds, config.min_size)
        self.queue = StreamQueue(app.redis, prefix)
        self.gaps = GapLog(app.redis, prefix)
        self._redis = app.redis
        # The highest message id seen per channel, kept across restarts (see save_marks).
        self._marks_key = f"{prefix}marks"
        self._save_mark = app.redis.register_script(_SAVE_MARK)
        self.buffer = IngestBuffer(self.queue, self.gaps, app.clock, capacity=config.buffer_capacity,
                                   max_stream=config.max_stream_length)
        self.consumer = StreamConsumer(self.queue, self._write, app.clock, min_batch=config.min_batch,
                                       max_batch=config.max_batch, claim_idle_ms=int(config.claim_idle * 1000))
        metrics.watch_live(self)

    async def _write(self, files: list[MediaFile]) -> InsertReport:
        report: InsertReport = await self._app.files.insert_batch(files)
        self._metrics.batch(len(files), report, source="live")
        return report

    async def start(self) -> None:
        """Create the consumer group, load the id marks, start the flusher and the consumer (owned here)."""
        try:
            await self.queue.ensure_group()
        except Exception as exc:  # noqa: BLE001 - the consumer creates it again once Redis answers
            log.warning("indexer: could not create the stream's consumer group yet (%s)", exc)
        try:
            marks = await self._redis.hgetall(self._marks_key)
            self.buffer.detector.seed({int(c): int(m) for c, m in marks.items()})
        except Exception as exc:  # noqa: BLE001 - without marks a hole across the restart goes unseen
            log.warning("indexer: could not load the channels' last ids (%s): posts sent while the bot "
                        "was down are found only by /index", exc)
        self.buffer.start()
        self.consumer.start()

    async def save_marks(self) -> None:
        """Save the highest id seen per channel (a maximum: several processes may save at once)."""
        moved = self.buffer.detector.moved()
        if not moved:
            return
        try:
            for channel, mark in moved.items():
                await self._save_mark(keys=[self._marks_key], args=[channel, mark])
        except Exception as exc:  # noqa: BLE001 - kept for the next save
            self.buffer.detector.unsaved(moved)
            log.warning("indexer: could not save the channels' last ids yet (%s)", exc)

    async def stop(self, timeout: float) -> None:
        """Write what the buffer holds to the stream, then let the consumer finish its batch.

        What is in the stream and not written yet stays there for the next
        start or another process; what Redis could not take is recorded as gaps.
        """
        await self.buffer.close(timeout)
        await self.consumer.stop(timeout)
        await self.save_marks()

    # -- updates ---------------------------------------------------------------------
    def on_post(self, message: Message) -> bool:
        """A channel post arrived; ``True`` when it was taken for the catalogue. Synchronous."""
        chat_id = message.chat.id
        if chat_id not in self.sources:
            return False
        post = self.filter.post(message)
        if post is None:
            # Not a file to index, but an id of the channel's sequence: without
            # it the next post would look like a jump, and the text posts in
            # between would be re-read as a suspected gap.
            self.buffer.detector.observe(chat_id, message.id)
            self._metrics.skipped.labels(source="live").inc()
            return False
        return self.buffer.accept(post)

    async def on_edit(self, update: MessageEdited) -> None:
        message = update.message
        if not message.is_channel_post or message.chat.id not in self.sources:
            return
        caption = message.caption if message.media is not None else message.text
        updated = await self._app.files.update_caption(message.chat.id, message.id, caption)
        if not updated and self.filter.post(message) is not None:
            # The post may still be on its way through the stream; give it
            # again with the new caption (the catalogue keeps one copy).
            self.on_post(message)

    async def on_delete(self, update: MessagesDeleted) -> None:
        if update.chat_id is None or update.chat_id not in self.sources or not update.message_ids:
            return
        removed = await self._app.files.remove_messages(update.chat_id, update.message_ids)
        self._metrics.removed.inc(len(removed))

    def newest(self, chat_id: int) -> int | None:
        """The highest message id of ``chat_id`` this process has seen live."""
        return self.buffer.detector.highest(chat_id)
