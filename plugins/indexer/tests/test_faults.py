"""A dedicated Redis killed and restarted under the live queue."""

from __future__ import annotations

from typing import Any

import pytest
from mediabot_indexer.buffer import IngestBuffer
from mediabot_indexer.consumer import StreamConsumer
from mediabot_indexer.gaps import GapLog
from mediabot_indexer.queue import StreamQueue

from mediabot.core.clock import MonotonicClock
from mediabot.core.redis import connect

PREFIX = "mb:{indexer}:"


class Pipeline:
    """Buffer, gap log and consumer of one process, on a Redis that dies; real time, short pauses."""

    def __init__(self, client: Any, sink: Any, capacity: int) -> None:
        clock = MonotonicClock()
        self.queue = StreamQueue(client, PREFIX, timeout=0.5)
        self.gaps = GapLog(client, PREFIX, timeout=0.5)
        self.buffer = IngestBuffer(self.queue, self.gaps, clock, capacity=capacity, flush_batch=200,
                                   retry_initial=0.01, retry_max=0.05)
        self.consumer = StreamConsumer(self.queue, sink, clock, min_batch=10, max_batch=200, block_ms=50,
                                       retry_initial=0.01, retry_max=0.05)

    def start(self) -> None:
        self.buffer.start()
        self.consumer.start()

    async def stop(self) -> None:
        await self.consumer.stop(5)
        await self.buffer.close(5)


@pytest.fixture
async def redis_srv(redis_factory, tmp_path) -> Any:
    # Durable, and every write on disk before Redis answers: a kill loses nothing acknowledged.
    server = redis_factory(data_dir=tmp_path / "redis")
    client = connect(server.url)
    await client.config_set("appendfsync", "always")
    server.client = client
    yield server
    await client.aclose()


async def test_redis_killed_during_a_burst_applies_backpressure_and_loses_nothing(
        redis_srv, sink, catalogue, kit) -> None:
    async def write(files):
        await sink(files)  # what was delivered, as often as it was
        return await catalogue.insert_batch(files)

    pipeline = Pipeline(redis_srv.client, write, capacity=500)
    pipeline.start()
    buffer = pipeline.buffer
    dropped: list[int] = []

    def burst(first: int, last: int) -> None:
        dropped.extend(i for i in range(first, last + 1) if not buffer.accept(kit.post(i)))

    try:
        for start in range(1, 2001, 100):
            await kit.until(lambda: buffer.depth <= 250)
            burst(start, start + 99)
        redis_srv.kill()
        for start in range(2001, 4001, 100):
            burst(start, start + 99)
            await kit.until(lambda: buffer.redis_down or buffer.depth == 0)
        await kit.until(lambda: buffer.redis_down, what="the flusher notices")
        # Bounded: the buffer is full and every post beyond it was refused and recorded.
        assert buffer.depth == buffer.capacity and buffer.stats.peak_depth == buffer.capacity
        assert dropped and buffer.stats.dropped == len(dropped)
        assert pipeline.gaps.recorded == len(dropped)

        redis_srv.restart()
        await kit.until(lambda: buffer.depth == 0 and not buffer.redis_down, what="buffer written after restart")
        burst(4001, 4500)  # ingestion resumes
        written = set(range(1, 4501)) - set(dropped)
        await kit.until(lambda: set(sink.ids) == {f"u{i}" for i in written}, what="every kept post written")
        await kit.until(lambda: pipeline.gaps.unpersisted == 0, what="gaps saved once Redis is back")
    finally:
        await pipeline.stop()
    assert dropped == list(range(dropped[0], dropped[-1] + 1))
    assert set(await pipeline.gaps.take(kit.CHANNEL, 10_000)) == set(dropped)
    backlog = await pipeline.queue.backlog()
    assert backlog.total == 0
    # An XADD cut by the kill may be sent again (delivered twice); the catalogue holds each post once.
    assert await catalogue.stored() == {f"u{i}": 1 for i in written}


async def test_with_a_tiny_buffer_and_redis_down_every_drop_is_a_recorded_gap(redis_srv, sink, kit) -> None:
    redis_srv.kill()
    pipeline = Pipeline(redis_srv.client, sink, capacity=10)
    pipeline.start()
    accepted = [i for i in range(1, 101) if pipeline.buffer.accept(kit.post(i))]
    assert accepted == list(range(1, 11))
    await kit.until(lambda: pipeline.buffer.redis_down)

    redis_srv.restart()
    try:
        await kit.until(lambda: set(sink.ids) == {f"u{i}" for i in accepted})
        await kit.until(lambda: pipeline.gaps.unpersisted == 0)
    finally:
        await pipeline.stop()
    assert await pipeline.gaps.take(kit.CHANNEL, 1000) == list(range(11, 101))


async def test_closing_while_redis_is_down_records_the_buffered_posts_as_gaps(redis_srv, sink, kit) -> None:
    redis_srv.kill()
    pipeline = Pipeline(redis_srv.client, sink, capacity=100)
    pipeline.start()
    for i in range(1, 51):
        pipeline.buffer.accept(kit.post(i))
    await kit.until(lambda: pipeline.buffer.redis_down)
    await pipeline.consumer.stop(1)
    assert await pipeline.buffer.close(0.2) == 50
    assert pipeline.gaps.unpersisted == 1  # in memory: Redis is still down
    redis_srv.restart()
    assert await GapLog(redis_srv.client, PREFIX).take(kit.CHANNEL, 100) == []
    assert await pipeline.gaps.persist()
    assert await GapLog(redis_srv.client, PREFIX).take(kit.CHANNEL, 100) == list(range(1, 51))
