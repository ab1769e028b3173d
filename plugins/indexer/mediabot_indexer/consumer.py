"""The consumer loop: stream entries in, catalogue batches out, acknowledged after the write.

One loop per process (a unique consumer name each), any number of processes
on one stream. Each turn it either takes over entries a dead consumer left
pending (``XAUTOCLAIM``, every ``claim_interval`` and at start) or reads new
ones, then:

1. decodes them (an entry trimmed while pending has nothing to decode and is
   only acknowledged; one that does not decode goes to the dead-letter stream);
2. drops repeats of a ``file_unique_id`` inside the batch (counted);
3. writes the batch through the sink -- retried, the same files in the same
   order, for as long as it fails (``DatabaseUnavailable`` or anything else):
   a post is never dropped, and never acknowledged before it is written;
4. acknowledges every entry of the batch, reads the backlog to size the next
   batch, and trims the acknowledged history.

A crash anywhere before step 4 leaves the entries pending: another consumer
claims them after ``claim_idle_ms`` and writes them again, which the
catalogue's dedup by ``file_unique_id`` turns into duplicates, not copies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec
from redis.exceptions import RedisError

from mediabot import DatabaseUnavailable, MediaFile
from mediabot_indexer.batching import BatchSizer, dedup
from mediabot_indexer.posts import Post, decode_post
from mediabot_indexer.queue import Entry, StreamQueue, consumer_name

__all__ = ["ConsumerStats", "Sink", "StreamConsumer"]

log = logging.getLogger("mediabot.plugin.indexer")

#: Writes files to the catalogue (``app.files.insert_batch``). A result with a
#: non-empty ``deferred`` list of ``file_unique_id`` s (an ``InsertReport``)
#: means those files were not stored yet: they are written again.
Sink = Callable[[list[MediaFile]], Awaitable[Any]]

_BUILD_CHUNK = 100  # files built between yields to the event loop
_REDIS_ERRORS = (RedisError, OSError, TimeoutError)


class ConsumerStats(msgspec.Struct, kw_only=True):
    """Counters of one consumer since it started.

    :param batches: batches written and acknowledged.
    :param consumed: entries this consumer received (read or claimed).
    :param claimed: of those, taken over from another consumer.
    :param trimmed_pending: entries claimed with no payload (trimmed while pending), acknowledged.
    :param malformed: entries that did not decode (moved to the dead-letter stream).
    :param duplicates: repeats of a ``file_unique_id`` inside a batch, not passed to the sink.
    :param written: files the sink accepted.
    :param already_known: of those, files the catalogue already had (``InsertReport.duplicates``):
        re-posts, replays after a crash, duplicates across batches.
    :param acked: entries acknowledged (``XACK`` counts: an entry already acknowledged counts no more).
    :param retries: sink calls that failed or deferred files, and were repeated.
    :param redis_errors: Redis calls that failed (and were repeated after a pause).
    :param trimmed: entries removed from the stream by this consumer's ``XTRIM``.
    :param batch_size: the size asked for on the latest read.
    :param backlog: entries not acknowledged, as of the latest batch.
    """

    batches: int = 0
    consumed: int = 0
    claimed: int = 0
    trimmed_pending: int = 0
    malformed: int = 0
    duplicates: int = 0
    written: int = 0
    already_known: int = 0
    acked: int = 0
    retries: int = 0
    redis_errors: int = 0
    trimmed: int = 0
    batch_size: int = 0
    backlog: int = 0


class StreamConsumer:
    """Reads the stream in batches sized by the backlog and writes them through ``sink``.

    :param queue: the stream.
    :param sink: writes a batch of files (``app.files.insert_batch``).
    :param clock: ``now()`` and ``async sleep()`` for claim scheduling and retry pauses.
    :param name: the consumer name; default: host, pid and a random part.
    :param min_batch: batch size when the stream is quiet.
    :param max_batch: batch size when the backlog is at least this deep.
    :param block_ms: the longest a read waits on an empty stream (keep it
        below the Redis client's socket timeout). An entry never waits for a
        batch to fill: a read returns what is there.
    :param claim_idle_ms: entries pending this long are taken over from their consumer.
    :param claim_interval: seconds between scans for such entries.
    :param retry_initial: first pause after a failure, doubled up to ``retry_max``.
    :param history: how many recent batch sizes :attr:`batch_sizes` keeps.
    """

    def __init__(self, queue: StreamQueue, sink: Sink, clock: Any, *, name: str | None = None,
                 min_batch: int = 10, max_batch: int = 500, block_ms: int = 200,
                 claim_idle_ms: int = 60_000, claim_interval: float = 5.0,
                 retry_initial: float = 0.05, retry_max: float = 5.0, history: int = 256) -> None:
        self.queue = queue
        self.name = name or consumer_name()
        self._sink = sink
        self._clock = clock
        self.sizer = BatchSizer(min_batch, max_batch)
        self._block_ms = block_ms
        self._claim_idle_ms = claim_idle_ms
        self._claim_interval = claim_interval
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._stopping = False
        self._trimmed_to: str | None = None
        self._task: asyncio.Task[None] | None = None
        self.stats = ConsumerStats(batch_size=min_batch)
        #: the sizes asked for by recent reads that found entries, oldest first.
        self.batch_sizes: deque[int] = deque(maxlen=history)

    def start(self) -> None:
        """Start the loop as a task owned by this consumer (:meth:`stop` ends it)."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"indexer-consumer-{self.name}")

    async def stop(self, timeout: float) -> None:
        """Finish the current batch (at most ``timeout`` seconds), then stop.

        A batch not written by then stays pending in the stream, for another
        consumer (or the next start) to claim: nothing is lost.
        """
        self._stopping = True
        task, self._task = self._task, None
        if task is None:
            return
        # Real time: the deadline bounds network waits, which a virtual test clock would skip.
        try:
            await asyncio.wait({task}, timeout=timeout)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """The loop; returns after :meth:`stop`. Redis failures are waited out, never raised."""
        delay = self._retry_initial
        next_claim = self._clock.now()  # a process that starts first looks for orphans
        cursor = "0-0"
        own_pending = False
        while not self._stopping:
            try:
                if own_pending:
                    entries = await self.queue.read(self.name, self.sizer.size, 0, own_pending=True)
                    own_pending = bool(entries)
                    if entries:
                        await self._process(entries)
                    continue
                if self._clock.now() >= next_claim:
                    cursor, entries = await self.queue.claim(
                        self.name, self._claim_idle_ms, self.sizer.size, cursor)
                    if cursor == "0-0":
                        next_claim = self._clock.now() + self._claim_interval
                    if entries:
                        self.stats.claimed += len(entries)
                        await self._process(entries)
                    delay = self._retry_initial
                    continue
                size = self.sizer.size
                self.stats.batch_size = size
                entries = await self.queue.read(self.name, size, self._block_ms)
                delay = self._retry_initial
                if not entries:
                    self.sizer.update(0)
                    continue
                self.batch_sizes.append(size)
                await self._process(entries)
            except _REDIS_ERRORS as exc:
                self.stats.redis_errors += 1
                log.warning("indexer: consumer %s: Redis call failed, retrying in %.2fs (%s)",
                            self.name, delay, exc)
            except Exception:
                # A bug must not end the loop for good: what was not acknowledged is still in the stream.
                log.exception("indexer: consumer %s failed; carrying on in %.2fs", self.name, delay)
            else:
                continue
            # A read may have been delivered with its reply lost, or an
            # acknowledgement abandoned: look at our own pending entries first.
            own_pending = True
            await self._clock.sleep(delay)
            delay = min(delay * 2, self._retry_max)

    async def _process(self, entries: Sequence[Entry]) -> None:
        self.stats.consumed += len(entries)
        decoded: list[tuple[Entry, Post]] = []
        dead: list[Entry] = []
        for entry in entries:
            if entry.payload is None:
                self.stats.trimmed_pending += 1
                continue
            try:
                decoded.append((entry, decode_post(entry.payload)))
            except msgspec.DecodeError as exc:
                log.error("indexer: stream entry %s is not a post (%s); moved to the dead-letter stream",
                          entry.id, exc)
                dead.append(entry)
        unique, repeats = dedup(decoded, key=lambda pair: pair[1].file_unique_id)
        self.stats.duplicates += repeats
        files = await self._build(unique, dead)
        self.stats.malformed += len(dead)
        if files and not await self._write(files):
            return  # stopping: the entries stay pending for a claim
        if not await self._ack([e.id for e in entries], dead):
            return
        self.stats.batches += 1
        await self._resize_and_trim()

    async def _build(self, decoded: Sequence[tuple[Entry, Post]], dead: list[Entry]) -> list[MediaFile]:
        """The catalogue entries; a post the catalogue cannot make one of joins ``dead``.

        Catalogue ids are assigned here, once: a retried batch keeps them.
        """
        files: list[MediaFile] = []
        for n, (entry, post) in enumerate(decoded, 1):
            try:
                files.append(post.to_media_file())
            except Exception:
                log.exception("indexer: post %s/%s (entry %s) gives no catalogue entry; "
                              "moved to the dead-letter stream", post.channel, post.message_id, entry.id)
                dead.append(entry)
            if n % _BUILD_CHUNK == 0:
                await asyncio.sleep(0)  # a large batch must not hold up the update loop
        return files

    async def _write(self, files: list[MediaFile]) -> bool:
        """Write until the sink took every file; ``False`` if asked to stop first."""
        delay = self._retry_initial
        total = len(files)
        while True:
            try:
                result = await self._sink(files)
            except DatabaseUnavailable as exc:
                log.warning("indexer: catalogue unavailable, retrying a batch of %d in %.2fs (%s)",
                            len(files), delay, exc)
            except Exception:
                log.exception("indexer: writing a batch of %d files failed; retrying in %.2fs",
                              len(files), delay)
            else:
                self.stats.already_known += int(getattr(result, "duplicates", 0) or 0)
                deferred = set(getattr(result, "deferred", None) or ())
                rest = [f for f in files if f.file_unique_id in deferred]
                if not rest:
                    self.stats.written += total
                    return True
                files = rest
            self.stats.retries += 1
            if self._stopping:
                return False
            await self._clock.sleep(delay)
            delay = min(delay * 2, self._retry_max)

    async def _ack(self, ids: list[str], dead: list[Entry]) -> bool:
        delay = self._retry_initial
        while True:
            try:
                self.stats.acked += await self.queue.ack(ids, dead=dead)
                return True
            except _REDIS_ERRORS as exc:
                self.stats.redis_errors += 1
                if self._stopping:
                    # Written but not acknowledged: a claim replays it, the dedup absorbs it.
                    return False
                log.warning("indexer: acknowledging %d entries failed, retrying (%s)", len(ids), exc)
                await self._clock.sleep(delay)
                delay = min(delay * 2, self._retry_max)

    async def _resize_and_trim(self) -> None:
        try:
            backlog = await self.queue.backlog()
            if backlog.safe_trim_id is not None and backlog.safe_trim_id != self._trimmed_to:
                trimmed = await self.queue.trim(backlog.safe_trim_id)
                self._trimmed_to = backlog.safe_trim_id
                self.stats.trimmed += trimmed
                backlog = backlog.after_trim(trimmed)
            self.stats.backlog = backlog.total
            self.sizer.update(backlog.undelivered)
        except _REDIS_ERRORS as exc:
            # Only sizing and housekeeping: the batch is written and acknowledged.
            self.stats.redis_errors += 1
            log.warning("indexer: reading the backlog failed (%s)", exc)
