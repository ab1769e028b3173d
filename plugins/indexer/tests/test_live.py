"""Live ingestion through the whole app: sources, kinds, edits, deletions, admin commands."""

from __future__ import annotations

from mediabot_indexer import IndexerPlugin

from mediabot.testing import eventually
from mediabot.testing.tl import FakeFile

SOURCE = -1001000000001
OTHER = -1001000000002
ADMIN = 1


def config(*channels: int | str, extra: str = "") -> str:
    chans = ", ".join(str(c) if isinstance(c, int) else f'"{c}"' for c in channels)
    return f"[plugins.indexer]\nchannels = [{chans}]\nmin_size = 1000\n{extra}"


async def catalogue(bot, chat_id: int, upto: int = 500) -> dict[int, object]:
    files = await bot.app.files.by_message(chat_id, range(1, upto))
    return {f.message_id: f for f in files}


async def files_of(bot, chat_id: int, ids: set[int]) -> dict[int, object]:
    return await eventually(lambda: catalogue(bot, chat_id), lambda found: set(found) == ids,
                            what=f"files of messages {sorted(ids)}", deadline=20.0)


async def test_posts_from_a_source_reach_the_catalogue_once_and_others_are_ignored(make_bot) -> None:
    bot = await make_bot(plugins=[IndexerPlugin], config=config(SOURCE), admins=[ADMIN])
    a = await bot.post(SOURCE, media="Dune.Part.Two.2024.2160p.mkv", caption="Dune 2")
    await bot.post(SOURCE, "just text")
    b = await bot.post(SOURCE, media=FakeFile(file_name="Dune.Part.Two.2024.2160p.mkv"), caption="again")
    c = await bot.post(SOURCE, media=FakeFile(file_name="tiny.mkv", size=10))
    d = await bot.post(SOURCE, media=FakeFile(file_name="cover.jpg", kind="photo"))
    e = await bot.post(SOURCE, media="Song.mp3")
    await bot.post(OTHER, media="Elsewhere.mkv")
    found = await files_of(bot, SOURCE, {a.id, e.id})
    assert found[a.id].caption == "Dune 2"
    assert b.media.file_unique_id == a.media.file_unique_id  # the re-post is the same file: stored once
    assert await bot.app.files.count() == 2
    assert await catalogue(bot, OTHER) == {}
    assert c.id not in found and d.id not in found


async def test_an_edited_caption_updates_the_file_and_a_deleted_post_removes_it(make_bot) -> None:
    bot = await make_bot(plugins=[IndexerPlugin], config=config(SOURCE), admins=[ADMIN])
    a = await bot.post(SOURCE, media="Arrival.mkv", caption="Arrival")
    b = await bot.post(SOURCE, media="Sicario.mkv", caption="Sicario")
    await files_of(bot, SOURCE, {a.id, b.id})
    await bot.edit_post(SOURCE, a.id, "Arrival (2016) 1080p")
    edited = await eventually(lambda: catalogue(bot, SOURCE), lambda f: f[a.id].caption == "Arrival (2016) 1080p",
                              what="caption updated", deadline=20.0)
    assert edited[a.id].year == 2016 and edited[a.id].resolution == "1080p"
    await bot.delete_posts(SOURCE, [b.id])
    await files_of(bot, SOURCE, {a.id})


async def test_admins_add_and_remove_sources_at_runtime_and_users_may_not(make_bot) -> None:
    bot = await make_bot(plugins=[IndexerPlugin], config=config(), admins=[ADMIN])
    bot.fake.add_chat(OTHER, "channel", title="Films", username="films_channel")
    assert (await bot.send("/channel_add @films_channel", user=2)).texts == ["This command is for admins only."]
    before = await bot.post(OTHER, media="Before.mkv")
    reply = (await bot.send("/channel_add @films_channel", user=ADMIN)).last.text
    assert reply == f"Now indexing new posts of Films ({OTHER})."
    listed = (await bot.send("/channels", user=ADMIN)).last.text
    assert f"{OTHER} Films @films_channel" in listed
    after = await bot.post(OTHER, media="After.mkv")
    await files_of(bot, OTHER, {after.id})
    assert before.id not in await catalogue(bot, OTHER)

    assert (await bot.send("/channel_remove @films_channel", user=ADMIN)).last.text == \
        f"Stopped indexing new posts of Films ({OTHER}). Files already indexed stay."
    assert (await bot.send(f"/channel_remove {OTHER}", user=ADMIN)).last.text == f"{OTHER} was not indexed live."
    late = await bot.post(OTHER, media="Late.mkv")
    await bot.settle()
    assert (await bot.send("/channels", user=ADMIN)).last.text.startswith("No channels")
    assert late.id not in await catalogue(bot, OTHER)
    unknown = (await bot.send("/channel_add @nobody_here", user=ADMIN)).texts
    assert unknown == ["Unknown channel: @nobody_here. Is the bot an admin there?\nUsage: /channel_add REF"]


async def test_a_supergroup_is_refused_as_a_live_source_with_the_reason(make_bot) -> None:
    bot = await make_bot(plugins=[IndexerPlugin], config=config(), admins=[ADMIN])
    bot.fake.add_chat(OTHER, "supergroup", title="Film fans", username="film_fans")
    reply = (await bot.send("/channel_add @film_fans", user=ADMIN)).texts
    assert reply == [f"Film fans ({OTHER}) is a group, not a channel: members' uploads in a group are not indexed "
                     "live. Add the channel the files are posted in."]
    assert (await bot.send("/channels", user=ADMIN)).last.text.startswith("No channels")
    assert bot.plugin("indexer").sources.list() == []


async def test_a_dropped_post_is_read_again_by_the_backfill(make_bot) -> None:
    bot = await make_bot(plugins=[IndexerPlugin], config=config(SOURCE, extra="backfill_interval = 5"),
                         admins=[ADMIN])
    plugin = bot.plugin("indexer")
    first = await bot.post(SOURCE, media="One.mkv")
    await files_of(bot, SOURCE, {first.id})
    # The live update of the next two posts never arrives (a full buffer, a lost update):
    # Telegram has them, the bot only sees the id jump when the fourth comes.
    lost = [await bot.fake.chats.add(SOURCE, from_id=None, out=False, text="", media=bot.fake.world.media(
        FakeFile(file_name=f"Lost.{n}.mkv"))) for n in (2, 3)]
    fourth = await bot.post(SOURCE, media="Four.mkv")
    lost_ids = {m.raw.id for m in lost}
    await files_of(bot, SOURCE, {first.id, fourth.id} | lost_ids)
    assert plugin.backfill.rounds >= 1
    assert not await plugin.live.gaps.take(SOURCE, 10)


async def test_posts_sent_while_no_process_was_listening_are_found_after_a_restart(make_bot) -> None:
    cfg = config(SOURCE, extra="backfill_interval = 1.0\n")
    first = await make_bot(plugins=[IndexerPlugin], config=cfg, admins=[ADMIN])
    seen = [await first.post(SOURCE, media=f"Before.Part.{n}.mkv") for n in range(1, 4)]
    await files_of(first, SOURCE, {m.id for m in seen})
    await first.app.stop("restart")  # the bot is down...
    second = await make_bot(plugins=[IndexerPlugin], config=cfg, admins=[ADMIN])
    second.fake.add_chat(SOURCE, "channel")
    for n in range(1, 4):  # the channel as Telegram keeps it: what the first process saw...
        await second.fake.chats.add(SOURCE, from_id=None, out=False, text=f"part {n}",
                                    media=second.fake.world.media(FakeFile(file_name=f"Before.Part.{n}.mkv")))
    for n in range(4, 8):  # ...and four posts sent while no process was running
        await second.fake.chats.add(SOURCE, from_id=None, out=False, text=f"missed {n}",
                                    media=second.fake.world.media(FakeFile(file_name=f"Missed.Part.{n}.mkv")))
    after = await second.post(SOURCE, media="After.Restart.mkv")  # id 8: the jump from the saved mark (3)
    assert after.id == 8
    found = await files_of(second, SOURCE, set(range(1, 9)))  # 4-7 re-read by the backfill
    assert found[5].file_name == "Missed.Part.5.mkv"
