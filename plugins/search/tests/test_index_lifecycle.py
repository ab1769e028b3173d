"""Every process keeps its own index current; a missing, damaged or stale index is rebuilt, never fatal."""

from __future__ import annotations

import asyncio
import shutil

from helpers import FAST, QUIET_KERNEL, release
from mediabot_search import SearchPlugin

from mediabot.testing import FakeClock, eventually


def config(index_dir) -> str:
    return FAST + f'index_dir = "{index_dir}"\n'


async def names(bot, text):
    return [f.file_name for f in (await bot.plugin("search").search(text)).files]


async def test_a_file_inserted_by_one_process_is_found_by_another(make_bot):
    clock = FakeClock()
    writer = await make_bot(plugins=[SearchPlugin], config=FAST, clock=clock)
    reader = await make_bot(plugins=[SearchPlugin], config=FAST, clock=clock)
    await writer.app.files.insert_batch([release(1, "Station.Eleven.S01E03.1080p.mkv")])

    async def found():
        return await names(reader, "station eleven") == ["Station.Eleven.S01E03.1080p.mkv"]

    await eventually(found, what="the other process finding the new file")
    replies = await reader.send("station elevn", user=5)
    assert "1–1 of 1" in replies.last.text


async def test_a_restarted_process_catches_up_on_what_was_added_while_it_was_down(make_bot, tmp_path):
    clock = FakeClock()
    first = await make_bot(plugins=[SearchPlugin], config=config(tmp_path / "index"), clock=clock)
    await first.app.files.insert_batch([release(1, "Paper.Moon.1973.mkv")])
    await first.plugin("search").sync()
    await first.stop()
    writer = await make_bot(config=QUIET_KERNEL, clock=clock)  # no search plugin: only writes
    await writer.app.files.insert_batch([release(n, f"Paper.Moon.Part.{n}.mkv") for n in range(2, 40)])
    again = await make_bot(plugins=[SearchPlugin], config=config(tmp_path / "index"), clock=clock)
    await again.plugin("search").sync()
    assert (await again.plugin("search").search("paper moon")).total == 39
    assert again.plugin("search").keeper.rebuilds == 0  # followed the stream from its checkpoint


async def test_a_process_whose_checkpoint_was_trimmed_away_rebuilds_with_the_same_results(make_bot, tmp_path):
    clock = FakeClock()
    first = await make_bot(plugins=[SearchPlugin], config=config(tmp_path / "index"), clock=clock)
    await first.app.files.insert_batch([release(1, "Iron.Valley.2001.mkv")])
    await first.plugin("search").sync()
    await first.stop()
    writer = await make_bot(config=QUIET_KERNEL, clock=clock)
    for n in range(2, 12):
        await writer.app.files.insert_batch([release(n, f"Iron.Valley.{n}.mkv")])
    await writer.app.files.remove([(await writer.app.files.get(release(1, "Iron.Valley.2001.mkv").file_unique_id)).id])
    await writer.app.redis.xtrim(writer.app.changes.key, maxlen=2, approximate=False)  # the stream forgot what the index needs
    again = await make_bot(plugins=[SearchPlugin], config=config(tmp_path / "index"), clock=clock)
    await again.plugin("search").sync()
    assert again.plugin("search").keeper.rebuilds == 1
    found = await names(again, "iron valley")
    assert sorted(found) == sorted(f"Iron.Valley.{n}.mkv" for n in range(2, 12))


async def test_a_deleted_or_corrupted_index_is_rebuilt_and_search_keeps_answering(make_bot, tmp_path):
    clock = FakeClock()
    index = tmp_path / "index"
    bot = await make_bot(plugins=[SearchPlugin], config=config(index), clock=clock)
    await bot.app.files.insert_batch([release(n, f"Velvet.Storm.{2000 + n}.mkv") for n in range(1, 6)])
    await bot.plugin("search").sync()
    await bot.stop()
    shutil.rmtree(index)
    deleted = await make_bot(plugins=[SearchPlugin], config=config(index), clock=clock)
    await deleted.plugin("search").sync()
    assert (await deleted.plugin("search").search("velvet storm")).total == 5
    await deleted.stop()
    for segment in (index / "index").iterdir():
        if segment.is_file() and segment.suffix in (".idx", ".term", ".store", ".json"):
            segment.write_bytes(b"\x00garbage" * 64)
    corrupted = await make_bot(plugins=[SearchPlugin], config=config(index), clock=clock)
    reply = (await corrupted.send("velvet storm", user=5)).last  # answers even before the rebuild is done
    assert reply.text
    await corrupted.plugin("search").sync()
    assert (await corrupted.plugin("search").search("velvet storm")).total == 5
    assert corrupted.plugin("search").keeper.rebuilds == 1


async def test_without_redis_the_catalogue_hooks_keep_the_index_current(make_bot, mongo_uri, mongo_db_name):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST, services=False,
                         env={"MEDIABOT_MONGO_URI": mongo_uri, "MEDIABOT__MONGO__DATABASE": mongo_db_name})
    assert bot.app.changes is None
    await bot.plugin("search").sync()
    await bot.app.files.insert_batch([release(1, "Wild.Heart.1999.mkv")])
    assert await names(bot, "wild heart") == ["Wild.Heart.1999.mkv"]
    await bot.app.files.remove([(await bot.plugin("search").search("wild heart")).files[0].id])
    assert await names(bot, "wild heart") == []


async def test_while_an_empty_index_fills_up_users_are_told_results_may_be_missing(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST)
    await bot.app.files.insert_batch([release(n, f"Quiet.River.{2000 + n}.mkv") for n in range(1, 7)])
    await bot.plugin("search").sync()
    keeper = bot.plugin("search").keeper
    keeper.filling = (2, 6)  # what a rebuild of an empty index says after its first batch
    reply = (await bot.send("unknown words here", user=5)).last
    assert reply.text == ("Nothing found for “unknown words here” yet. The search index is being rebuilt "
                          "(2 of about 6 files so far): results may be missing. Try again in a minute.")
    partial = (await bot.send("quiet river", user=5)).last
    assert partial.text.splitlines()[1].startswith("The search index is being rebuilt")
    keeper.filling = (0, 0)  # an empty catalogue's index, or files that came in during the rebuild
    assert (await bot.send("nothing here", user=5)).last.text == (
        "Nothing found for “nothing here” yet. The search index is being rebuilt: results may be missing. "
        "Try again in a minute.")
    keeper.filling = None
    reply = (await bot.send("quiet river 2003", user=5)).last
    assert "rebuilt" not in reply.text


async def test_a_process_stopped_while_10000_files_were_added_catches_up_on_start(make_bot, tmp_path):
    clock = FakeClock()
    first = await make_bot(plugins=[SearchPlugin], config=config(tmp_path / "index"), clock=clock)
    await first.app.files.insert_batch([release(1, "Amber.Coast.S01E0001.mkv")])
    await first.plugin("search").sync()
    await first.stop()
    writer = await make_bot(config=QUIET_KERNEL, clock=clock)  # another process writes meanwhile
    for start in range(2, 10_002, 1000):
        await writer.app.files.insert_batch([release(n, f"Amber.Coast.S01E{n:04d}.mkv")
                                             for n in range(start, min(start + 1000, 10_002))])
    again = await make_bot(plugins=[SearchPlugin], config=config(tmp_path / "index"), clock=clock, timeout=120)
    await again.plugin("search").sync()
    assert again.plugin("search").keeper.rebuilds == 0  # caught up from its checkpoint, no rebuild
    assert again.plugin("search").keeper.engine.stats().documents == 10_001


async def test_paging_forwards_and_back_over_1000_results_visits_each_once(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST)
    files = [release(n, f"Lantern.Road.S01E{n:04d}.mkv") for n in range(1, 1001)]
    await bot.app.files.insert_batch(files)
    search = bot.plugin("search")
    await search.sync()
    pages, after = [], None
    while True:
        page = await search.search("lantern road", limit=50, after=after)
        pages.append([f.id for f in page.files])
        if page.next is None:
            break
        after = page.next
    forward = [i for p in pages for i in p]
    assert len(forward) == 1000 and set(forward) == {f.id for f in files}
    back, before = [], page.previous
    while before is not None:
        page = await search.search("lantern road", limit=50, after=before)
        back.append([f.id for f in page.files])
        before = page.previous
    assert back == pages[-2::-1]  # the same pages, in reverse


async def test_mediabot_search_reindex_rebuilds_the_index_from_the_catalogue(make_bot, tmp_path):
    import os
    import subprocess
    import sys

    bot = await make_bot(config=QUIET_KERNEL)  # a deployment's catalogue, written by some other process
    await bot.app.files.insert_batch([release(n, f"Glass.Harbor.{2000 + n}.mkv") for n in range(1, 26)])
    index = tmp_path / "reindexed"
    path = tmp_path / "plugins.toml"
    path.write_text(f'[plugins.search]\nenabled = true\nindex_dir = "{index}"\n')
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MEDIABOT")}, **bot.app.env}
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "mediabot", "--config", str(path), "search", "reindex"],
        capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("search index rebuilt: 25 files in ")
    assert "indexed 25 of about 25 files (100%)" in result.stdout  # plain progress lines off a terminal
    again = await make_bot(plugins=[SearchPlugin], config=config(index))
    await again.plugin("search").sync()
    assert again.plugin("search").keeper.rebuilds == 0  # the rebuilt index is used as it is
    assert (await again.plugin("search").search("glass harbor")).total == 25
