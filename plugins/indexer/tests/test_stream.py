"""The stream and its consumers on a real Redis 6.2: claims, acks, trims, batch sizes, retries."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from mediabot_indexer.consumer import StreamConsumer
from mediabot_indexer.queue import StreamQueue

from mediabot import DatabaseUnavailable, InsertReport, MediaFile
from mediabot.core.clock import MonotonicClock
from mediabot.core.redis import connect
from mediabot.testing import FakeClock


async def crash(task: asyncio.Task[Any]) -> None:
    """End a consumer the way a killed process does: no stop, no acknowledgement."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def uniques(first: int, last: int) -> set[str]:
    return {f"u{i}" for i in range(first, last + 1)}


async def test_a_dead_consumers_batch_is_claimed_by_a_new_consumer_and_acked_once(queue, sink, kit) -> None:
    await kit.fill(queue, [kit.post(i) for i in range(1, 301)])
    sink.hold()
    dead = StreamConsumer(queue, sink, MonotonicClock(), name="dead", min_batch=100, max_batch=100)
    task = asyncio.create_task(dead.run())
    await kit.until(lambda: sink.waiting == 1, what="the first consumer holds a batch in the sink")
    await crash(task)
    assert len(await queue.pending_of("dead")) == 100
    sink.release()

    heir = StreamConsumer(queue, sink, MonotonicClock(), name="heir", min_batch=100, max_batch=100,
                          claim_idle_ms=50, claim_interval=0.02)
    heir.start()
    try:
        await kit.until(lambda: set(sink.ids) == uniques(1, 300), what="every post written")
        await kit.until(lambda: heir.stats.acked == 300, what="every entry acknowledged")
    finally:
        await heir.stop(5)
    assert max(sink.ids.values()) == 1
    assert heir.stats.claimed == 100 and dead.stats.acked == 0
    backlog = await queue.backlog()
    assert backlog.pending == 0
    assert backlog.length == 0  # acknowledged history trimmed


async def test_a_consumer_killed_after_its_write_and_before_its_ack_leaves_each_file_stored_once(
        queue, catalogue, kit) -> None:
    await kit.fill(queue, [kit.post(i) for i in range(1, 301)])
    written = asyncio.Event()

    async def write_then_die(files: list[MediaFile]) -> Any:
        report = await catalogue.insert_batch(files)
        written.set()
        await asyncio.Event().wait()  # the process dies here: written, never acknowledged
        return report

    dead = StreamConsumer(queue, write_then_die, MonotonicClock(), name="dead", min_batch=100, max_batch=100)
    task = asyncio.create_task(dead.run())
    await asyncio.wait_for(written.wait(), 20)
    await crash(task)
    assert len(await queue.pending_of("dead")) == 100 and dead.stats.acked == 0

    heir = StreamConsumer(queue, catalogue.insert_batch, MonotonicClock(), name="heir", min_batch=100,
                          max_batch=100, claim_idle_ms=50, claim_interval=0.02)
    heir.start()
    try:
        await kit.until(lambda: heir.stats.acked == 300, what="every entry acknowledged")
    finally:
        await heir.stop(5)
    assert heir.stats.claimed == 100
    assert heir.stats.already_known == 100  # the dead consumer's batch, written again: duplicates
    assert await catalogue.stored() == {u: 1 for u in uniques(1, 300)}
    assert (await queue.backlog()).pending == 0


async def test_history_is_trimmed_only_below_the_oldest_pending_entry(queue, sink, kit) -> None:
    await kit.fill(queue, [kit.post(i) for i in range(1, 301)])
    sink.hold()
    dead = StreamConsumer(queue, sink, FakeClock(), name="dead", min_batch=100, max_batch=100)
    task = asyncio.create_task(dead.run())
    await kit.until(lambda: sink.waiting == 1)
    await crash(task)
    sink.release()

    live = StreamConsumer(queue, sink, FakeClock(), name="live", min_batch=100, max_batch=100)
    live.start()
    await kit.until(lambda: live.stats.acked == 200)
    await live.stop(5)
    backlog = await queue.backlog()
    # Entries 101-300 are acknowledged but sit above the dead consumer's: nothing may go.
    assert (backlog.length, backlog.pending) == (300, 100)

    heir = StreamConsumer(queue, sink, FakeClock(), name="heir", min_batch=100, max_batch=100, claim_idle_ms=1)
    heir.start()
    await kit.until(lambda: heir.stats.acked == 100)
    await heir.stop(5)
    backlog = await queue.backlog()
    assert (backlog.length, backlog.pending) == (0, 0)
    assert set(sink.ids) == uniques(1, 300)


async def test_two_consumers_on_one_stream_share_the_work_and_ack_each_entry_once(
        redis_url, prefix, queue, sink, kit) -> None:
    other_client = connect(redis_url)  # a second process has its own connections
    other_queue = StreamQueue(other_client, prefix)
    await kit.fill(queue, [kit.post(i) for i in range(1, 2001)])
    b: StreamConsumer

    async def slow_start(files: list[MediaFile]) -> Any:
        # The first consumer's first batch waits until the second has done work,
        # so both take part whatever the scheduling.
        await kit.until(lambda: b.stats.batches > 0)
        return await sink(files)

    a = StreamConsumer(queue, slow_start, FakeClock(), name="a", min_batch=50, max_batch=50)
    b = StreamConsumer(other_queue, sink, FakeClock(), name="b", min_batch=50, max_batch=50)
    a.start()
    b.start()
    try:
        await kit.until(lambda: a.stats.acked + b.stats.acked == 2000, what="all entries acknowledged")
    finally:
        await a.stop(5)
        await b.stop(5)
        await other_client.aclose()
    assert sink.ids == {u: 1 for u in uniques(1, 2000)}
    assert a.stats.acked > 0 and b.stats.acked > 0
    assert a.stats.consumed + b.stats.consumed == 2000
    assert (await queue.backlog()).pending == 0


async def test_an_entry_trimmed_while_pending_is_acked_and_skipped(client, queue, sink, kit) -> None:
    # Redis 6.2: XAUTOCLAIM returns a deleted pending entry as nil and leaves it pending.
    await kit.fill(queue, [kit.post(i) for i in range(1, 11)])
    sink.hold()
    dead = StreamConsumer(queue, sink, FakeClock(), name="dead", min_batch=10, max_batch=10)
    task = asyncio.create_task(dead.run())
    await kit.until(lambda: sink.waiting == 1)
    await crash(task)
    sink.release()
    ids = [entry_id for entry_id, _ in await client.xrange(queue.stream_key)]
    await client.xdel(queue.stream_key, ids[1], ids[4], ids[6])  # posts 2, 5 and 7

    heir = StreamConsumer(queue, sink, FakeClock(), name="heir", min_batch=10, max_batch=10, claim_idle_ms=1)
    heir.start()
    try:
        await kit.until(lambda: heir.stats.acked == 10, what="all ten acknowledged")
    finally:
        await heir.stop(5)
    assert heir.stats.trimmed_pending == 3
    assert heir.stats.claimed == 10  # claimed once each: no loop over the nil entries
    assert set(sink.ids) == uniques(1, 10) - {"u2", "u5", "u7"}
    assert (await queue.backlog()).pending == 0


async def test_batch_size_grows_with_the_backlog_and_shrinks_when_quiet(queue, sink, kit) -> None:
    await kit.fill(queue, [kit.post(i) for i in range(1, 3001)])
    consumer = StreamConsumer(queue, sink, FakeClock(), min_batch=10, max_batch=1000, block_ms=20)
    consumer.start()
    try:
        await kit.until(lambda: consumer.stats.acked == 3000)
        # Doubling while the backlog is deep, then exactly what is left.
        assert list(consumer.batch_sizes) == [10, 20, 40, 80, 160, 320, 640, 1000, 730]
        await kit.until(lambda: consumer.sizer.size == 10, what="back to the small batch when quiet")
        await kit.fill(queue, [kit.post(i) for i in range(3001, 3004)])
        await kit.until(lambda: consumer.stats.acked == 3003)
    finally:
        await consumer.stop(5)
    assert consumer.batch_sizes[-1] == 10
    assert sink.ids == {u: 1 for u in uniques(1, 3003)}


async def test_duplicates_inside_a_batch_are_counted_and_written_once(queue, sink, kit) -> None:
    posts = [kit.post(1), kit.post(2, unique="u1"), kit.post(3), kit.post(4, unique="u3"), kit.post(5)]
    await kit.fill(queue, posts)
    consumer = StreamConsumer(queue, sink, FakeClock(), min_batch=5, max_batch=5)
    consumer.start()
    try:
        await kit.until(lambda: consumer.stats.acked == 5)
    finally:
        await consumer.stop(5)
    assert sink.calls == [["u1", "u3", "u5"]]
    assert consumer.stats.duplicates == 2
    assert consumer.stats.written == 3


async def test_a_failed_write_is_retried_with_the_same_batch_in_order_and_acked_after(
        queue, sink, kit) -> None:
    await kit.fill(queue, [kit.post(i) for i in range(1, 21)])
    clock = FakeClock()
    sink.hold()
    sink.fail = [DatabaseUnavailable("no database"), RuntimeError("a bug"), DatabaseUnavailable("still none")]
    consumer = StreamConsumer(queue, sink, clock, min_batch=20, max_batch=20)
    consumer.start()
    try:
        await kit.until(lambda: sink.waiting == 1)
        assert len(await queue.pending_of(consumer.name)) == 20  # delivered, not acknowledged
        sink.release()
        await kit.until(lambda: consumer.stats.acked == 20)
    finally:
        await consumer.stop(5)
    assert sink.calls == [[f"u{i}" for i in range(1, 21)]]
    assert consumer.stats.retries == 3
    assert clock.now() > 0  # the pauses between attempts went through the clock


async def test_files_the_catalogue_deferred_are_written_again(queue, kit) -> None:
    calls: list[list[str]] = []

    async def deferring(files: list[MediaFile]) -> InsertReport:
        calls.append([f.file_unique_id for f in files])
        return InsertReport(inserted=len(files) - 1, deferred=["u2"] if len(calls) == 1 else [])

    await kit.fill(queue, [kit.post(i) for i in range(1, 4)])
    consumer = StreamConsumer(queue, deferring, FakeClock(), min_batch=3, max_batch=3)
    consumer.start()
    try:
        await kit.until(lambda: consumer.stats.acked == 3)
    finally:
        await consumer.stop(5)
    assert calls == [["u1", "u2", "u3"], ["u2"]]
    assert consumer.stats.already_known == 0 and consumer.stats.retries == 1


async def test_an_entry_that_is_not_a_post_goes_to_the_dead_letter_stream(client, queue, sink, kit) -> None:
    await queue.add([b"\xc1 not msgpack"])
    await kit.fill(queue, [kit.post(1)])
    consumer = StreamConsumer(queue, sink, FakeClock(), min_batch=5, max_batch=5)
    consumer.start()
    try:
        await kit.until(lambda: consumer.stats.acked == 2)
    finally:
        await consumer.stop(5)
    assert consumer.stats.malformed == 1
    assert set(sink.ids) == {"u1"}
    assert await client.xlen(queue.dead_key) == 1


async def test_stop_finishes_the_current_batch_and_reads_no_more(queue, sink, kit) -> None:
    await kit.fill(queue, [kit.post(i) for i in range(1, 101)])
    sink.hold()
    consumer = StreamConsumer(queue, sink, FakeClock(), min_batch=10, max_batch=10)
    consumer.start()
    await kit.until(lambda: sink.waiting == 1)
    stopping = asyncio.create_task(consumer.stop(5))
    await asyncio.sleep(0)
    sink.release()
    await stopping
    assert consumer.stats.batches == 1 and consumer.stats.acked == 10
    backlog = await queue.backlog()
    assert (backlog.pending, backlog.undelivered) == (0, 90)



async def test_consumers_of_past_processes_are_pruned_once_idle_and_empty(client, queue, kit) -> None:
    await kit.fill(queue, [kit.post(1), kit.post(2)])
    await queue.read("busy", 1, 0)  # holds post 1, unacknowledged
    [done] = await queue.read("done", 1, 0)
    await queue.ack([done.id])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while await queue.prune_consumers(idle_ms=1) == 0:  # "idle" needs a millisecond to pass
        assert loop.time() < deadline
        await asyncio.sleep(0.005)
    consumers = await client.xinfo_consumers(queue.stream_key, queue.group)
    assert [c["name"] for c in consumers] == [b"busy"]
