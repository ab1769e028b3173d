"""History jobs through the whole app: progress, resume after a crash or a stop, leases, FloodWait, failures."""

from __future__ import annotations

import asyncio
import random
import re

import pytest
from mediabot_indexer import IndexerPlugin
from pyrogram.errors import ChannelPrivate, FloodWait

from mediabot.core.clock import MonotonicClock
from mediabot.testing import FakeClock, eventually, harness
from mediabot.testing.fake import FakeTelegram
from mediabot.testing.tl import FakeFile

ARCHIVE = -1001555000111
ADMIN = 1
CONFIG = "[plugins.indexer]\nchannels = []\n"


async def fill_archive(bot, count: int) -> set[int]:
    """Give channel ARCHIVE ``count`` messages (before the bot watches it); returns the ids carrying a file.

    Every 10th message is text, every 17th was deleted, every 50th (25, 75...) repeats an earlier file.
    """
    bot.fake.add_chat(ARCHIVE, "channel", title="Archive", username="the_archive")
    media: set[int] = set()
    for i in range(1, count + 1):
        if i % 10 == 0:
            await bot.fake.chats.add(ARCHIVE, from_id=None, out=False, text=f"news {i}")
            continue
        name = f"Archive.Show.S01E{(i - 24) if i % 50 == 25 else i}.mkv"
        await bot.fake.chats.add(ARCHIVE, from_id=None, out=False, text=f"episode {i}",
                                 media=bot.fake.world.media(FakeFile(file_name=name)))
        media.add(i)
    deleted = list(range(17, count + 1, 17))
    bot.fake.chats.delete(ARCHIVE, deleted)
    return media - set(deleted)


def job_id(text: str) -> str:
    m = re.match(r"Job ([0-9a-f]{6}) ", text)
    assert m, text
    return m[1]


async def finished(bot, jid: str, timeout: float = 30.0):
    plugin = bot.plugin("indexer")
    return await eventually(lambda: plugin.job(jid), lambda j: j is not None and j.state not in
                            ("queued", "running", "paused"), deadline=timeout, what=f"job {jid} ends")


async def final_progress(bot, reply, marker: str) -> str:
    """The progress message once its last edit (saying ``marker``) arrived: it follows the job's saved state."""
    return await eventually(lambda: asyncio.sleep(0, bot.fake.message(reply.chat.id, reply.id).text),
                            lambda text: marker in text, what=f"the progress message saying {marker!r}",
                            deadline=30.0)


async def indexed_ids(bot, upto: int) -> list[int]:
    """Message ids of ARCHIVE up to ``upto`` with a file in the catalogue, once per file stored."""
    # One streamed scan: a single $in of 20,000 ids outlasts the client's timeout on a busy test server.
    files = bot.app.database.write_database()["files"]
    cursor = files.find({"chat_id": ARCHIVE, "message_id": {"$lte": upto}}, {"message_id": 1, "_id": 0})
    return sorted([doc["message_id"] async for doc in cursor])


def expected_files(media: set[int]) -> list[int]:
    """The first message of each distinct file (a repeated file is stored once, from its first post)."""
    return sorted(i for i in media if not (i % 50 == 25 and (i - 24) in media))


async def test_a_history_job_indexes_the_whole_channel_and_reports_progress(make_bot) -> None:
    bot = await make_bot(plugins=[IndexerPlugin], config=CONFIG, admins=[ADMIN])
    media = await fill_archive(bot, 2000)
    reply = (await bot.send("/index @the_archive", user=ADMIN)).last
    jid = job_id(reply.text)
    job = await finished(bot, jid)
    assert job.state == "done" and job.to_id == 2000  # found by probing (the newest post is a text)
    assert await indexed_ids(bot, 2000) == expected_files(media)
    assert job.seen == 2000 - len(range(17, 2001, 17)) and job.indexed == len(expected_files(media))
    assert job.duplicates == len(media) - len(expected_files(media)) > 0  # the re-posted files
    # The job's state is saved first, its progress message edited after: wait for the edit.
    progress = await final_progress(bot, reply, f"Job {jid} — Archive: done")
    assert f"indexed {job.indexed:,}" in progress
    await eventually(lambda: asyncio.sleep(0, bot.replies_to(ADMIN)),
                     lambda sent: any(f"job {jid} (Archive) finished" in m.text for m in sent),
                     what="the admins are told", deadline=30.0)


async def interrupt_and_resume(make_bot, monkeypatch, seed: int, count: int, read_batch: int) -> None:
    """A job over ``count`` messages, stopped or killed after a random number of reads, resumed by a new process."""
    rnd = random.Random(seed)
    crash = seed % 2 == 1  # odd seeds: the process dies; even ones: it is stopped
    clock = FakeClock()
    config = CONFIG + f"read_batch = {read_batch}\n"
    first = await make_bot(plugins=[IndexerPlugin], config=config, admins=[ADMIN], clock=clock)
    media = await fill_archive(first, count)
    stop_after = rnd.randint(2, count // read_batch - 2)
    interrupted = asyncio.Event()
    plugin = first.plugin("indexer")

    def on_call(call) -> None:
        reads = len(first.fake.calls_of("get_messages"))
        if call.method == "get_messages" and reads == stop_after and not interrupted.is_set():
            interrupted.set()
            # Telegram stops answering this process: without it the job (or, after a crash, the
            # scheduler resuming it here) could finish before app.stop() on a fast or a slow machine.
            first.fake.inject("get_messages", FloodWait(value=3600), times=None)
            if crash:
                for task, _ in list(plugin.jobs.running.values()):
                    task.cancel()  # dies at its next await: no release, no last checkpoint

    first.fake.observe(on_call)
    jid = job_id((await first.send(f"/index https://t.me/c/1555000111/{count}", user=ADMIN)).last.text)
    await asyncio.wait_for(interrupted.wait(), 60)
    left = await plugin.job(jid)  # the checkpoint only moves forward: the resume point is at least this
    done_before = await indexed_ids(first, count)
    await first.app.stop("interrupted")
    assert left.state == "running" and 1 < left.next_id <= count
    assert 0 < len(done_before) < len(expected_files(media))  # interrupted part-way, as planned

    # One Telegram for both processes: the second sees the channel the first one read (filling
    # it again would take the fake longer than the job), from its very start.
    def same_telegram(clock, **options):
        fake = FakeTelegram(clock, **options)
        fake.world, fake.chats = first.fake.world, first.fake.chats
        return fake

    monkeypatch.setattr(harness, "FakeTelegram", same_telegram)
    second = await make_bot(plugins=[IndexerPlugin], config=config, admins=[ADMIN], clock=clock)
    job = await finished(second, jid, timeout=120.0)
    assert job.state == "done" and job.fence == 2
    assert await indexed_ids(second, count) == expected_files(media)
    reads = [i for c in second.fake.calls_of("get_messages") for i in c.params["message_ids"]]
    assert min(reads) >= left.next_id  # resumed from the checkpoint, not from the start
    assert max(reads) == count


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_an_interrupted_job_resumes_in_a_new_process_with_no_gap_and_no_copy(
        make_bot, monkeypatch, seed) -> None:
    await interrupt_and_resume(make_bot, monkeypatch, seed, count=600, read_batch=50)


# Measured at 47-74 s each on two cores under load (most of it the fake building 20,000
# messages): one seed, a crash, runs by default; the others with -m slow.
_SLOW = pytest.mark.slow(reason="20,000-message history: about a minute on a busy machine")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=_SLOW), pytest.param(3, marks=_SLOW)])
async def test_an_interrupted_job_of_20000_messages_resumes_in_a_new_process_with_no_gap_and_no_copy(
        make_bot, monkeypatch, seed) -> None:
    await interrupt_and_resume(make_bot, monkeypatch, seed, count=20_000, read_batch=200)


async def test_two_processes_never_run_the_same_job_at_once(make_bot) -> None:
    # Real time: a virtual clock shared by two apps runs ahead while they wait on the
    # database, which would expire leases that real time never would.
    clock = MonotonicClock()
    bots = [await make_bot(plugins=[IndexerPlugin], config=CONFIG + "job_poll = 0.05\nread_batch = 50\n",
                           admins=[ADMIN], clock=clock) for _ in range(2)]
    for bot in bots:
        media = await fill_archive(bot, 600)
    jid = job_id((await bots[0].send("/index @the_archive 1 600", user=ADMIN)).last.text)
    job = await finished(bots[0], jid)
    assert job.state == "done" and job.fence == 1  # claimed once, by one of them
    readers = [b for b in bots if b.fake.calls_of("get_messages")]
    assert len(readers) == 1
    assert await indexed_ids(bots[0], 600) == expected_files(media)


async def test_a_long_flood_wait_pauses_the_job_and_it_resumes_by_itself(make_bot) -> None:
    bot = await make_bot(plugins=[IndexerPlugin], config=CONFIG, admins=[ADMIN])
    media = await fill_archive(bot, 800)
    bot.fake.inject("get_messages", FloodWait(value=600), after=2)
    reply = (await bot.send("/index https://t.me/the_archive/800", user=ADMIN)).last
    started = bot.clock.now()
    job = await finished(bot, job_id(reply.text))
    assert job.state == "done" and bot.clock.now() - started >= 600
    assert await indexed_ids(bot, 800) == expected_files(media)
    edits = [c.params["text"] for c in bot.fake.calls_of("edit_message_text") if c.params["message_id"] == reply.id]
    assert any("paused" in t and "Telegram asked to wait 10 min 0 s" in t for t in edits)


async def test_a_private_channel_ends_the_job_with_a_message_to_the_admin(make_bot) -> None:
    bot = await make_bot(plugins=[IndexerPlugin], config=CONFIG, admins=[ADMIN, 2])
    await fill_archive(bot, 300)
    bot.fake.inject("get_messages", ChannelPrivate(), after=1)
    reply = (await bot.send("/index @the_archive 1 300", user=ADMIN)).last
    job = await finished(bot, job_id(reply.text))
    assert job.state == "failed" and job.next_id == 201  # the first batch is kept
    text = await final_progress(bot, reply, "FAILED")
    assert "the channel is private to it or the bot is not a member" in text
    await eventually(lambda: asyncio.sleep(0, bot.replies_to(2)),
                     lambda sent: any(f"job {job.id} (Archive) failed" in m.text for m in sent),
                     what="every admin is told", deadline=30.0)


async def test_an_admin_cancels_a_job(make_bot) -> None:
    # Real time: a virtual clock jumps while the bot waits on the database, and the hour-long
    # pause below would end (and the job finish) before the test sees it paused.
    bot = await make_bot(plugins=[IndexerPlugin], config=CONFIG, admins=[ADMIN], clock=MonotonicClock())
    await fill_archive(bot, 400)
    bot.fake.inject("get_messages", FloodWait(value=3600), after=1)
    reply = (await bot.send("/index @the_archive 1 400", user=ADMIN)).last
    jid = job_id(reply.text)
    plugin = bot.plugin("indexer")
    await eventually(lambda: plugin.job(jid), lambda j: j.state == "paused", what="paused", deadline=30.0)
    status = (await bot.send("/index_status", user=ADMIN)).last.text
    assert status.startswith(f"Running and waiting:\n\nJob {jid} — Archive: paused"), status
    assert "Recently ended" not in status
    assert (await bot.send(f"/index_cancel {jid}", user=ADMIN)).last.text.startswith(f"Job {jid} cancelled")
    job = await finished(bot, jid)
    assert job.state == "cancelled"
    status = (await bot.send("/index_status", user=ADMIN)).last.text
    assert status.startswith(f"Recently ended:\n\nJob {jid} — Archive: cancelled"), status
    assert "Running and waiting" not in status
    await eventually(lambda: asyncio.sleep(0, bot.fake.message(reply.chat.id, reply.id).text),
                     lambda t: "Cancelled by an admin." in t, what="progress says cancelled", deadline=30.0)
    assert (await bot.send(f"/index_cancel {jid}", user=ADMIN)).last.text == f"Job {jid} is already cancelled."


async def test_a_job_that_ends_while_index_status_reads_is_listed_once_as_ended(make_bot, monkeypatch) -> None:
    bot = await make_bot(plugins=[IndexerPlugin], config=CONFIG, admins=[ADMIN], clock=MonotonicClock())
    await fill_archive(bot, 400)
    bot.fake.inject("get_messages", FloodWait(value=3600), after=1)
    jid = job_id((await bot.send("/index @the_archive 1 400", user=ADMIN)).last.text)
    plugin = bot.plugin("indexer")
    await eventually(lambda: plugin.job(jid), lambda j: j.state == "paused", what="paused", deadline=30.0)
    read_active = plugin.store.active

    async def active_then_the_job_ends():
        jobs = await read_active()
        await plugin.jobs.cancel(jid)  # between the reads of running and of ended jobs
        return jobs

    monkeypatch.setattr(plugin.store, "active", active_then_the_job_ends)
    status = (await bot.send("/index_status", user=ADMIN)).last.text
    assert status.count(f"Job {jid} ") == 1, status
    assert status.startswith(f"Recently ended:\n\nJob {jid} — Archive: cancelled"), status


@pytest.mark.parametrize("args, line", [
    ("t.me/+abcdef", "'t.me/+abcdef' is not a channel."),
    ("@the_archive 10 5", "FROM_ID (10) is after TO_ID (5)."),
    ("https://t.me/c/1555000111/5 9", "FROM_ID (9) is after TO_ID (5)."),
    ("@the_archive x", "FROM_ID must be a message id from 1 to 2147483647, not 'x'."),
    ("@the_archive ²", "FROM_ID must be a message id from 1 to 2147483647, not '²'."),
    ("@the_archive ①", "FROM_ID must be a message id from 1 to 2147483647, not '①'."),
    ("@the_archive 1 99999999999", "TO_ID must be a message id from 1 to 2147483647, not '99999999999'."),
    ("-100１５５５000111", "'-100１５５５000111' is not a channel."),
    ("@nobody_knows_it", "Unknown channel: @nobody_knows_it. Is the bot an admin there?"),
    ("@the_archive 1 2 3", "Too many arguments."),
])
async def test_malformed_index_arguments_get_a_usage_line_and_start_nothing(make_bot, args, line) -> None:
    bot = await make_bot(plugins=[IndexerPlugin], config=CONFIG, admins=[ADMIN])
    bot.fake.add_chat(ARCHIVE, "channel", title="Archive", username="the_archive")
    replies = (await bot.send(f"/index {args}", user=ADMIN)).texts
    assert replies[0].startswith(line), replies
    assert replies[0].endswith("Usage: /index REF [FROM_ID] [TO_ID]")
    assert await bot.plugin("indexer").store.active() == []
