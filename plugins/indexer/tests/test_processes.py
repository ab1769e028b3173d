"""Several app instances on one Redis and one database: the stream's work shared, a dead instance's batch taken over."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from mediabot_indexer import IndexerPlugin

from mediabot import Chat, Media, MediaFile, Message
from mediabot.core.clock import MonotonicClock
from mediabot.testing import eventually

SOURCE = -1001000000001


def channel_post(n: int) -> Message:
    media = Media(kind="video", file_id=f"f{n}", file_unique_id=f"u{n}", file_name=f"Show.S01E{n % 24 + 1:02d}.{n}.mkv",
                  mime_type="video/x-matroska", file_size=700_000_000 + n)
    return Message(id=n, chat=Chat(id=SOURCE, type="channel"), date=1_700_000_000 + n, caption=f"Show {n}",
                   media=media)


async def submit(bot, first: int, last: int) -> None:
    """Channel posts ``first``..``last`` as the gateway hands them to the app."""
    for n in range(first, last + 1):
        task = bot.app.submit(channel_post(n))
        assert task is not None
        await task


async def stored(bot) -> Counter[int]:
    """How many catalogue documents each message of SOURCE has."""
    files = bot.app.database.write_database()["files"]
    return Counter([doc["message_id"] async for doc in files.find({"chat_id": SOURCE}, {"message_id": 1})])


async def instance(make_bot, extra: str = ""):
    # Real time: two apps on one virtual clock would race it ahead while both wait on Redis.
    return await make_bot(plugins=[IndexerPlugin], clock=MonotonicClock(),
                          config=f"[plugins.indexer]\nchannels = [{SOURCE}]\nmin_batch = 20\nmax_batch = 100\n{extra}")


async def test_two_app_instances_on_one_stream_index_each_post_once_and_both_work(make_bot) -> None:
    a, b = await instance(make_bot), await instance(make_bot)
    ca, cb = a.plugin("indexer").live.consumer, b.plugin("indexer").live.consumer
    assert ca.name != cb.name
    write_a = ca._sink

    async def a_waits_for_b(files: list[MediaFile]) -> Any:
        # Instance A's first batch waits until B has written one, so both take part whatever the scheduling.
        await eventually(lambda: asyncio.sleep(0, cb.stats.batches), lambda n: n > 0, what="B writes a batch",
                         deadline=30.0)
        return await write_a(files)

    ca._sink = a_waits_for_b
    # Posts reach both instances' buffers (each process gets its own share of updates).
    await submit(a, 1, 1000)
    await submit(b, 1001, 2000)
    await eventually(lambda: stored(a), lambda s: len(s) == 2000, what="every post in the catalogue", deadline=60.0)
    # Each entry delivered to one of them, once, and acknowledged. (At least 2,000 entries: on a
    # loaded machine an XADD whose reply outlasts the socket timeout is sent again by the client's
    # one retry, so a post can be queued twice; the catalogue stores it once, checked below.)
    await eventually(lambda: asyncio.sleep(0, (ca.stats.acked + cb.stats.acked, ca.stats.consumed + cb.stats.consumed)),
                     lambda n: n[0] >= 2000 and n[0] == n[1], what="every entry acknowledged", deadline=30.0)
    assert await stored(b) == {n: 1 for n in range(1, 2001)}
    assert ca.stats.acked > 0 and cb.stats.acked > 0


async def test_an_instance_killed_mid_batch_leaves_its_batch_to_a_new_one_and_each_post_is_stored_once(
        make_bot) -> None:
    first = await instance(make_bot)
    consumer = first.plugin("indexer").live.consumer
    writing = asyncio.Event()

    async def hangs(files: list[MediaFile]) -> Any:
        writing.set()
        await asyncio.Event().wait()  # the process is killed during the write

    consumer._sink = hangs
    await submit(first, 1, 500)
    await asyncio.wait_for(writing.wait(), 30)
    # Killed: its consumer ends without finishing or acknowledging the batch (no shutdown).
    consumer._task.cancel()
    await eventually(lambda: asyncio.sleep(0, consumer._task.done()), bool, what="the consumer is dead", deadline=10.0)
    queue = first.plugin("indexer").live.queue
    held = await queue.pending_of(consumer.name)
    assert held and consumer.stats.acked == 0
    await first.app.stop("killed")

    second = await instance(make_bot, "claim_idle = 1\n")
    heir = second.plugin("indexer").live.consumer
    await eventually(lambda: stored(second), lambda s: len(s) == 500, what="every post in the catalogue",
                     deadline=60.0)
    assert await stored(second) == {n: 1 for n in range(1, 501)}
    await eventually(lambda: asyncio.sleep(0, heir.stats.acked), lambda n: n == 500, what="all acknowledged",
                     deadline=30.0)
    assert heir.stats.claimed >= len(held)
    assert (await second.plugin("indexer").live.queue.backlog()).pending == 0
