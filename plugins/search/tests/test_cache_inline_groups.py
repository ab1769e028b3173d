"""The shared result cache, inline mode and groups."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlparse

from helpers import FAST, release
from mediabot_search import SearchPlugin

from mediabot import GateRefusal, PluginMeta, Reservation, hookimpl
from mediabot.testing import eventually

GROUP = -1009876543210


class OnePerDay:
    meta = PluginMeta(name="oneperday", description="A quota.")

    def __init__(self, ctx):
        pass

    @hookimpl
    def mediabot_delivery_reserve(self, count):
        return Reservation(granted=min(1, count))


async def searchable(bot, files):
    await bot.app.files.insert_batch(files)
    await bot.plugin("search").sync()


def delivered(bot, user):
    return [m for m in bot.replies_to(user) if m.media is not None]


def payload(url: str) -> str:
    return parse_qs(urlparse(url).query)["start"][0]


async def test_an_identical_search_is_served_from_the_cache_and_a_new_file_shows_after_the_bump(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST)
    search = bot.plugin("search")
    await searchable(bot, [release(1, "Midnight.Express.1978.mkv")])
    assert (await search.search("midnight express")).total == 1
    before = search.engine_queries
    assert (await search.search("MIDNIGHT   Express")).total == 1  # the same query, normalised
    assert search.engine_queries == before
    assert bot.app.metrics.value("mediabot_search_cache_total", {"result": "hit"}) >= 1
    await bot.app.files.insert_batch([release(2, "Midnight.Express.1978.2160p.mkv")])

    async def both():
        return (await search.search("midnight express")).total == 2

    await eventually(both, what="the new file showing once the version moved")


async def test_concurrent_identical_misses_ask_the_engine_once(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST)
    search = bot.plugin("search")
    await searchable(bot, [release(n, f"Hidden.Figures.{n}.mkv") for n in range(1, 4)])
    before = search.engine_queries
    pages = await asyncio.gather(*(search.search("hidden figures") for _ in range(50)))
    assert {p.total for p in pages} == {3}
    assert search.engine_queries - before == 1


async def test_inline_answers_cached_documents_without_a_quota_and_pages(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST + "inline_page_size = 2\n")
    await searchable(bot, [release(n, f"Lost.City.S01E0{n}.mkv") for n in range(1, 6)])
    answer = await bot.inline("lost city", user=5)
    assert [r.file_id is not None for r in answer.results] == [True, True] and answer.next_offset == "2"
    more = await bot.inline("lost city", user=5, offset=answer.next_offset)
    assert {r.id for r in more.results}.isdisjoint({r.id for r in answer.results})
    assert (await bot.inline("l", user=5)).results == []


async def test_inline_answers_articles_that_deliver_in_private_when_a_quota_is_in_force(make_bot):
    bot = await make_bot(plugins=[SearchPlugin, OnePerDay], config=FAST)
    await searchable(bot, [release(1, "Red.Planet.2000.mkv")])
    answer = await bot.inline("red planet", user=5)
    [article] = answer.results
    assert article.file_id is None and article.text.startswith("Red Planet 2000.mkv · 1.4 GB")
    link = article.keyboard[0][0].url
    await bot.send(f"/start {payload(link)}", user=5)
    assert [m.media.file_id for m in delivered(bot, 5)] == [release(1, "Red.Planet.2000.mkv").file_id]


async def test_a_group_gets_deep_links_that_deliver_in_private_and_a_forged_one_is_refused(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST + 'groups = "mention"\n')
    bot.fake.add_chat(GROUP, "supergroup", title="Film club")
    await searchable(bot, [release(1, "Desert.Rose.1990.mkv")])
    assert (await bot.send("desert rose", user=5, chat=GROUP)).texts == []  # no mention: not for us
    replies = await bot.send("@mediabot_test_bot desert rose", user=5, chat=GROUP)
    [listing] = replies
    button = listing.keyboard[0][0]
    assert button.callback is None and button.url.startswith("https://t.me/mediabot_test_bot?start=")
    await bot.send(f"/start {payload(button.url)}", user=7)  # another member opens it
    assert [m.media.file_id for m in delivered(bot, 7)] == [release(1, "Desert.Rose.1990.mkv").file_id]
    assert all(m.media is None for m in bot.fake.sent_to(GROUP))
    forged = payload(button.url)[:-4] + "0000"
    # A forged payload is not a link of ours: it gets the welcome, and no file.
    [welcome] = (await bot.send(f"/start {forged}", user=8)).texts
    assert welcome.startswith("Hi User8! I am mediabot.") and "title of a film" in welcome
    assert delivered(bot, 8) == []


class ClosedGate:
    meta = PluginMeta(name="closedgate", description="Members only.")

    def __init__(self, ctx):
        pass

    @hookimpl
    def mediabot_gate(self, action):
        return GateRefusal(text="Join @films first.") if action == "search" else None


async def test_a_gate_refuses_the_search_before_it_runs(make_bot):
    bot = await make_bot(plugins=[SearchPlugin, ClosedGate], config=FAST)
    before = bot.plugin("search").engine_queries
    assert (await bot.send("anything at all", user=5)).texts == ["Join @films first."]
    assert bot.plugin("search").engine_queries == before
