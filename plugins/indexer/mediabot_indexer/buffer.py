"""The in-memory front of the live queue: accept a post now, write it to Redis soon.

:meth:`IngestBuffer.accept` runs on the update loop for every channel post,
so it only appends to a bounded deque and wakes the flusher -- no I/O, no
await, a few microseconds. The flusher task writes what has piled up to the
stream in pipelined ``XADD`` batches; it removes posts from the deque only
once Redis took them, so while Redis is down the deque is the only buffer.
Telegram cannot be asked to pause: when the deque is full the post is
dropped and its id recorded in the :class:`~mediabot_indexer.gaps.GapLog`
for the backfill.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from typing import Any

import msgspec
from redis.exceptions import RedisError

from mediabot_indexer.gaps import GapDetector, GapLog
from mediabot_indexer.posts import Post, encode_post
from mediabot_indexer.queue import StreamQueue

__all__ = ["BufferStats", "IngestBuffer"]

log = logging.getLogger("mediabot.plugin.indexer")


class BufferStats(msgspec.Struct, kw_only=True):
    """Counters of the buffer since it was made.

    :param accepted: posts taken into the buffer.
    :param dropped: posts refused because the buffer was full or closed (each recorded as a gap).
    :param written: posts written to the stream.
    :param xadd_batches: pipelined ``XADD`` round trips that succeeded.
    :param xadd_failures: round trips that failed (Redis down or slow); their posts stay buffered.
    :param peak_depth: the most posts the buffer ever held.
    :param over_cap: posts the full stream could not take (``max_stream``), each recorded as a gap.
    """

    accepted: int = 0
    dropped: int = 0
    over_cap: int = 0
    written: int = 0
    xadd_batches: int = 0
    xadd_failures: int = 0
    peak_depth: int = 0


class IngestBuffer:
    """A bounded buffer of posts in front of the stream, and the task that flushes it.

    :param queue: the stream to write to.
    :param gaps: where dropped posts and id jumps are recorded.
    :param clock: ``now()`` and ``async sleep()`` (the app's clock).
    :param capacity: most posts held in memory (also while Redis is down).
    :param flush_batch: most posts per ``XADD`` round trip.
    :param retry_initial: first pause after a failed write, doubled up to ``retry_max``.
    """

    def __init__(self, queue: StreamQueue, gaps: GapLog, clock: Any, *, capacity: int = 10_000,
                 flush_batch: int = 500, retry_initial: float = 0.05, retry_max: float = 2.0,
                 max_stream: int = 0) -> None:
        if capacity < 1 or flush_batch < 1:
            raise ValueError("capacity and flush_batch must be at least 1")
        self._queue = queue
        self._gaps = gaps
        self._clock = clock
        self.capacity = capacity
        self._flush_batch = flush_batch
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        # Entries the stream may hold (0: no bound). Beyond, posts become gaps instead of
        # Redis memory: with the consumers down for long, the stream must not grow forever.
        self.max_stream = max_stream
        self._posts: deque[Post] = deque()
        self._wake = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self.detector = GapDetector(gaps)
        self.stats = BufferStats()
        #: True from a failed write until the next successful one (alert: "Redis down, buffer only").
        self.redis_down = False

    @property
    def depth(self) -> int:
        """Posts waiting in memory."""
        return len(self._posts)

    def accept(self, post: Post, *, observe: bool = True) -> bool:
        """Take ``post`` for the catalogue; ``False`` when it was dropped (and recorded as a gap).

        Synchronous and O(1) (amortised): call it straight from the update handler.

        :param observe: feed the id to the gap detector (live posts). A post
            re-read by the backfill is not news of the channel's newest id.
        """
        late = self.detector.observe(post.channel, post.message_id) if observe else True
        if self._closed or len(self._posts) >= self.capacity:
            self._gaps.record(post.channel, post.message_id)
            self.stats.dropped += 1
            return False
        self._posts.append(post)
        if late:
            # An id the detector took for missing may just have arrived out of order.
            self._gaps.forget(post.channel, post.message_id)
        self.stats.accepted += 1
        if len(self._posts) > self.stats.peak_depth:
            self.stats.peak_depth = len(self._posts)
        if not self._wake.is_set():
            self._wake.set()
        return True

    def start(self) -> None:
        """Start the flusher task (owned by this buffer; :meth:`close` ends it)."""
        if self._task is None:
            self._task = asyncio.create_task(self._flush_loop(), name="indexer-buffer-flush")

    async def close(self, timeout: float) -> int:
        """Refuse new posts, write what is buffered, and stop; waits at most ``timeout`` seconds.

        Posts still buffered at the deadline (Redis down) are recorded as gaps
        and the gap log is written if Redis answers. Returns how many posts
        were left over.
        """
        self._closed = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            # Real time, not the app clock: the deadline bounds network waits,
            # which a virtual test clock would skip over at once.
            try:
                await asyncio.wait({task}, timeout=timeout)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        leftover = len(self._posts)
        while self._posts:
            post = self._posts.popleft()
            self._gaps.record(post.channel, post.message_id)
        if leftover:
            log.warning("indexer: %d buffered posts not written to Redis at shutdown; recorded as gaps", leftover)
        if not await self._gaps.persist():
            log.error("indexer: %d gap ranges could not be saved (Redis down at shutdown); "
                      "they are lost unless the backfill finds them as id jumps", self._gaps.unpersisted)
        return leftover

    async def _within_cap(self, batch: list[Post]) -> list[Post]:
        """The part of ``batch`` the stream has room for; the rest leaves the buffer as recorded gaps."""
        room = max(0, self.max_stream - await self._queue.length())
        if room >= len(batch):
            return batch
        kept, refused = batch[:room], batch[room:]
        for post in refused:
            self._gaps.record(post.channel, post.message_id)
        # The batch is the buffer's head: take it out, put back what still goes to the stream.
        for _ in batch:
            self._posts.popleft()
        self._posts.extendleft(reversed(kept))
        self.stats.over_cap += len(refused)
        if refused:
            log.warning("indexer: the stream holds %d entries (max_stream_length); %d posts recorded as gaps "
                        "to be read again once the consumers catch up", self.max_stream, len(refused))
        return kept

    async def _flush_loop(self) -> None:
        delay = self._retry_initial
        while True:
            if not self._posts:
                if self._gaps.unpersisted and not await self._gaps.persist():
                    await self._clock.sleep(delay)
                    delay = min(delay * 2, self._retry_max)
                    continue
                if self._closed:
                    return
                self._wake.clear()
                if self._posts:
                    continue  # accepted while the gaps were being saved: that wake-up was just cleared
                await self._wake.wait()
                continue
            # Only this task removes posts, only from the left, and only after
            # Redis took them: a failed write leaves the deque as it was.
            batch = list(itertools.islice(self._posts, self._flush_batch))
            try:
                if self.max_stream:
                    batch = await self._within_cap(batch)
                    if not batch:
                        continue
                await self._queue.add([encode_post(p) for p in batch])
            except (RedisError, OSError, TimeoutError) as exc:
                self.stats.xadd_failures += 1
                if not self.redis_down:
                    self.redis_down = True
                    log.warning("indexer: Redis unreachable, holding up to %d posts in memory (%s)",
                                self.capacity, exc)
                await self._clock.sleep(delay)
                delay = min(delay * 2, self._retry_max)
                continue
            except Exception:
                # A bug must not stop the flushing for good (every later post would be dropped).
                self.stats.xadd_failures += 1
                log.exception("indexer: writing %d posts to the stream failed; retrying", len(batch))
                await self._clock.sleep(delay)
                delay = min(delay * 2, self._retry_max)
                continue
            for _ in batch:
                self._posts.popleft()
            self.stats.written += len(batch)
            self.stats.xadd_batches += 1
            delay = self._retry_initial
            if self._gaps.unpersisted:
                await self._gaps.persist()  # Redis answers again: a sustained burst must not keep gaps in memory
            if self.redis_down:
                self.redis_down = False
                log.info("indexer: Redis reachable again, writing buffered posts to the stream")
