"""The real MongoDB-wire server SIGSTOPped (``pause()``): under a burst of channel posts, and under a history job."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest
from mediabot_indexer import IndexerPlugin
from pymongo import AsyncMongoClient

from mediabot import Chat, Media, Message
from mediabot.core.clock import MonotonicClock
from mediabot.testing import eventually
from mediabot.testing.tl import FakeFile

SOURCE = -1001000000001
PAUSED_AT = 2_000  # posts written normally before the database stops answering
WINDOW = 6  # updates in flight, as the gateway's workers would have them
# Redis holds the backlog, not this process: it may grow by the buffer (its capacity),
# one batch, the clients' pools and allocator slack -- about 3 MB measured. Holding the
# burst of 50,000 instead costs more than the bound: its messages about 37 MB, as posts
# plus their encoded stream entries about 20 MB (measured on CPython 3.11). The 5,000-post
# run checks the same bound, loosely; the 50,000-post one (-m slow) is the meaningful one.
RSS_GROWTH_BOUND_MB = 16


def rss_mb() -> float:
    """Resident set size of this process, from ``/proc/self/statm`` (pages)."""
    with open("/proc/self/statm", "rb") as f:
        resident = int(f.read().split()[1])
    return resident * os.sysconf("SC_PAGE_SIZE") / 2**20


def channel_post(n: int) -> Message:
    media = Media(kind="video", file_id=f"BAACAgUAAxkBAAI{n:020d}", file_unique_id=f"AgAD{n:010d}",
                  file_name=f"Some.Show.S01E{n % 24 + 1:02d}.{n}.1080p.mkv", mime_type="video/x-matroska",
                  file_size=700_000_000 + n, duration=2700, width=1920, height=1080)
    return Message(id=n, chat=Chat(id=SOURCE, type="channel"), date=1_700_000_000 + n,
                   caption=f"Some Show episode {n % 24 + 1} [{n}]", media=media)


def posts(first: int, last: int) -> Iterator[Message]:
    for n in range(first, last + 1):
        yield channel_post(n)


@pytest.mark.parametrize("burst, capacity", [
    (5_000, 500),
    # Writing 50,000 files to the Python test server takes 90 s and more on two busy cores.
    pytest.param(50_000, 5_000, marks=[pytest.mark.slow, pytest.mark.timeout(600)], id="50000"),
])
async def test_a_burst_while_the_database_is_stopped_stays_bounded_and_is_stored_once(
        make_bot, mongo_factory, mongo_db_name, kit, burst: int, capacity: int) -> None:
    mongo = mongo_factory()
    # Real time: the consumer's pauses between attempts must not race ahead of the
    # database calls they wait on (a virtual clock would spin through them).
    bot = await make_bot(
        plugins=[IndexerPlugin], clock=MonotonicClock(), env={"MEDIABOT_MONGO_URI": mongo.uri},
        config=f"[mongo]\ntimeout_ms = 2000\n[plugins.indexer]\nchannels = [{SOURCE}]\n"
               f"buffer_capacity = {capacity}\nmax_batch = 500\n")
    app = bot.app
    live = bot.plugin("indexer").live
    buffer, consumer = live.buffer, live.consumer
    peak_rss = baseline = rss_mb()
    acked_while_stopped: int | None = None
    inflight: set[asyncio.Task[None]] = set()

    async def sample_rss() -> None:
        nonlocal peak_rss
        while True:
            peak_rss = max(peak_rss, rss_mb())
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample_rss())
    try:
        for msg in posts(1, burst):
            if msg.id == PAUSED_AT:
                await kit.until(lambda: consumer.stats.acked > 0, 30, what="the catalogue takes the first posts")
                mongo.pause()
            if buffer.depth >= capacity - WINDOW:
                # Telegram would not wait: beyond the buffer a post becomes a gap for the backfill
                # (test_buffer / test_faults). Here every post must go through the live path.
                await kit.until(lambda: buffer.depth <= capacity // 2, 30, what="the flusher drains the buffer")
            if len(inflight) >= WINDOW:
                _, inflight = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
            task = app.submit(msg)
            assert task is not None, f"post {msg.id} was not taken"
            inflight.add(task)
        await asyncio.wait(inflight)
        await kit.until(lambda: buffer.depth == 0, 60, what="the burst is in the stream")
        # At least two writes timed out while the server was stopped; from the first on,
        # nothing can be written, so nothing more may be acknowledged.
        await kit.until(lambda: consumer.stats.retries >= 2, 60, what="writes fail while the database is stopped")
        acked_while_stopped = consumer.stats.acked
        pending = await live.queue.pending_of(consumer.name)
        await asyncio.sleep(1.0)  # another timed-out attempt's worth, still stopped
        assert consumer.stats.acked == acked_while_stopped
        assert await live.queue.pending_of(consumer.name) == pending  # the same batch, retried
        assert 0 < len(pending) <= 500
        assert (await live.queue.backlog()).total >= burst - acked_while_stopped
        mongo.resume()
        await kit.until(lambda: consumer.stats.acked == burst, 240, what="every post written after the resume")
    finally:
        sampler.cancel()
        if mongo.is_paused:
            mongo.resume()
    growth = peak_rss - baseline
    assert buffer.stats.peak_depth <= capacity  # never above its bound...
    assert buffer.stats.accepted == burst and buffer.stats.dropped == 0  # ...and nothing dropped to gaps
    assert growth < RSS_GROWTH_BOUND_MB, f"RSS grew by {growth:.0f} MB (from {baseline:.0f} MB)"
    assert (await live.queue.backlog()).pending == 0
    # Checked with a client of its own: reading 50,000 documents at once outlasts the app's 2 s timeout.
    checker = AsyncMongoClient(mongo.uri)
    try:
        files = checker[mongo_db_name]["files"]
        assert await files.count_documents({}) == burst
        copies = await (await files.aggregate([{"$group": {"_id": "$file_unique_id", "n": {"$sum": 1}}},
                                               {"$match": {"n": {"$gt": 1}}}])).to_list()
        assert copies == []
        stored = set(await files.distinct("file_unique_id"))
    finally:
        await checker.close()
    assert stored == {f"AgAD{n:010d}" for n in range(1, burst + 1)}


async def test_a_history_job_outlasts_a_stopped_database_and_matches_the_channel(
        make_bot, mongo_factory, mongo_db_name, kit) -> None:
    mongo = mongo_factory()
    archive, admin, count = -1001555000111, 1, 1200
    # Real time (the lease and the pauses between attempts run against real timeouts); a short
    # lease so that a checkpoint lost to the stopped server is taken up again within seconds.
    bot = await make_bot(
        plugins=[IndexerPlugin], clock=MonotonicClock(), admins=[admin], env={"MEDIABOT_MONGO_URI": mongo.uri},
        config="[mongo]\ntimeout_ms = 1000\n[plugins.indexer]\nchannels = []\nread_batch = 50\n"
               "job_lease = 3\njob_poll = 0.2\n")
    bot.fake.add_chat(archive, "channel", title="Archive", username="the_archive")
    for n in range(1, count + 1):
        await bot.fake.chats.add(archive, from_id=None, out=False, text=f"part {n}",
                                 media=bot.fake.world.media(FakeFile(file_name=f"Archive.Part.{n}.mkv")))
    plugin = bot.plugin("indexer")
    reads = bot.fake.calls_of

    def on_call(call) -> None:
        if call.method == "get_messages" and len(reads("get_messages")) == 5 and not mongo.is_paused:
            mongo.pause()  # the job is mid-way: its next write or checkpoint meets a hung server

    bot.fake.observe(on_call)
    reply = (await bot.send(f"/index @the_archive 1 {count}", user=admin)).last
    jid = reply.text.split()[1]
    await kit.until(lambda: mongo.is_paused, 30, what="the database stops mid-job")
    running = plugin.jobs.running

    def noticed() -> bool:
        # In memory (the stored job is out of reach): a write failed and is being retried, or
        # a checkpoint failed and ended the run, which the lease brings back.
        entry = running.get(jid)
        return entry is None or entry[1].job.errors > 0

    await kit.until(noticed, 30, what="the job meets the stopped database")
    mongo.resume()
    job = await eventually(lambda: plugin.job(jid), lambda j: j is not None and j.state == "done",
                           deadline=90.0, what="the job ends")
    assert job.next_id == count + 1
    checker = AsyncMongoClient(mongo.uri)
    try:
        ids = [d["message_id"] async for d in checker[mongo_db_name]["files"].find({}, {"message_id": 1})]
    finally:
        await checker.close()
    assert sorted(ids) == list(range(1, count + 1))  # every post once: no gap, no copy
