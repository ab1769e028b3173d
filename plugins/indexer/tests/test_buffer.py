"""The in-memory buffer in front of the stream, and the gap log in Redis."""

from __future__ import annotations

from mediabot_indexer.buffer import IngestBuffer
from mediabot_indexer.consumer import StreamConsumer
from mediabot_indexer.gaps import GapLog

from mediabot.testing import FakeClock

BURST = 50_000


async def test_a_burst_of_50000_posts_with_a_slow_catalogue_stays_bounded_and_is_written_once(
        client, queue, gaps, sink, kit) -> None:
    clock = FakeClock()
    buffer = IngestBuffer(queue, gaps, clock, capacity=5000, flush_batch=1000)
    consumer = StreamConsumer(queue, sink, clock, min_batch=10, max_batch=1000, block_ms=50)
    sink.hold()  # the catalogue is slow: nothing is written until released
    buffer.start()
    consumer.start()
    try:
        for start in range(1, BURST + 1, 100):
            # Updates come in bundles; Telegram's pace is whatever the buffer
            # absorbs through Redis, which the sink's slowness must not change.
            if buffer.depth > buffer.capacity // 2:
                await kit.until(lambda: buffer.depth <= buffer.capacity // 2, what="the flusher drains")
            for message_id in range(start, start + 100):
                assert buffer.accept(kit.post(message_id))
        await kit.until(lambda: buffer.depth == 0, what="everything in Redis")
        assert buffer.stats.peak_depth <= buffer.capacity
        # The stream holds the backlog, not memory: the sink has not taken one post yet.
        assert sink.calls == [] and await client.xlen(queue.stream_key) == BURST
        sink.release()
        await kit.until(lambda: consumer.stats.acked == BURST, timeout=60, what="every post written")
    finally:
        await consumer.stop(5)
        assert await buffer.close(5) == 0
    assert len(sink.ids) == BURST and max(sink.ids.values()) == 1
    assert (buffer.stats.accepted, buffer.stats.dropped, gaps.recorded) == (BURST, 0, 0)
    assert buffer.stats.xadd_batches < BURST / 50  # pipelined, not one round trip per post
    assert max(consumer.batch_sizes) == 1000
    assert await client.xlen(queue.stream_key) == 0  # acknowledged history trimmed


async def test_closing_the_buffer_writes_what_it_holds(client, queue, gaps, kit) -> None:
    buffer = IngestBuffer(queue, gaps, FakeClock(), capacity=2000, flush_batch=300)
    buffer.start()
    for message_id in range(1, 1001):
        buffer.accept(kit.post(message_id))
    assert await buffer.close(5) == 0
    assert await client.xlen(queue.stream_key) == 1000
    assert buffer.accept(kit.post(1001)) is False  # closed: recorded, not buffered
    assert await gaps.take(kit.CHANNEL, 10) == [1001]


async def test_a_post_arriving_late_is_not_left_as_a_gap(queue, gaps, kit) -> None:
    buffer = IngestBuffer(queue, gaps, FakeClock())
    for message_id in (1, 2, 5, 4):
        assert buffer.accept(kit.post(message_id))
    assert await gaps.take(kit.CHANNEL, 10) == [3]


async def test_the_gap_log_round_trips_through_redis(client, prefix, kit) -> None:
    channel, other = kit.CHANNEL, -100777
    log = GapLog(client, prefix)
    log.record(channel, 11, 13)
    log.record(channel, 20)
    log.record(other, 5, 6)
    assert await log.persist() and log.unpersisted == 0

    elsewhere = GapLog(client, prefix)  # another process, or this one after a restart
    assert await elsewhere.channels() == sorted([channel, other])
    assert await elsewhere.take(channel, 100) == [11, 12, 13, 20]
    assert await elsewhere.take(channel, 2) == [11, 12]
    await elsewhere.resolve(channel, [12, 20])
    assert await log.take(channel, 100) == [11, 13]
    await log.resolve(channel, [11, 13])
    assert await log.channels() == [other]
    assert await client.exists(log.channel_key(channel)) == 0


async def test_resolving_splits_overlapping_ranges_from_two_processes(client, prefix, kit) -> None:
    a, b = GapLog(client, prefix), GapLog(client, prefix)
    a.record(kit.CHANNEL, 1, 10)
    b.record(kit.CHANNEL, 5, 15)
    assert await a.persist() and await b.persist()
    assert await a.take(kit.CHANNEL, 100) == list(range(1, 16))
    await a.resolve(kit.CHANNEL, range(4, 12))
    assert await b.take(kit.CHANNEL, 100) == [1, 2, 3, 12, 13, 14, 15]


async def test_a_full_stream_turns_posts_into_gaps_instead_of_growing(client, queue, gaps, kit) -> None:
    buffer = IngestBuffer(queue, gaps, FakeClock(), capacity=1000, flush_batch=60, max_stream=100)
    buffer.start()
    for message_id in range(1, 151):  # no consumer runs: the stream only grows
        buffer.accept(kit.post(message_id))
    assert await buffer.close(5) == 0
    assert await client.xlen(queue.stream_key) == 100  # the bound holds
    assert buffer.stats.over_cap == 50
    assert await gaps.take(kit.CHANNEL, 100) == list(range(101, 151))  # to be read again later
