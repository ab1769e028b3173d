"""Search in a private chat: results as buttons, paging, files delivered, nothing breaks it."""

from __future__ import annotations

from helpers import FAST, release
from mediabot_search import SearchPlugin

from mediabot import PluginMeta, Reservation, hookimpl
from mediabot.testing import FakeClock, eventually

SMALL_PAGES = FAST + "page_size = 3\n"


class ThreeADay:
    meta = PluginMeta(name="threeaday", description="A quota that grants 3 files.")

    def __init__(self, ctx):
        pass

    @hookimpl
    def mediabot_delivery_reserve(self, count):
        return Reservation(granted=min(3, count), message="3 files left today; the rest tomorrow.")


async def searchable(bot, files):
    await bot.app.files.insert_batch(files)
    await bot.plugin("search").sync()


def labels(message):
    return [b.text for row in message.keyboard or [] for b in row]


def delivered(bot, user):
    return [m.media.file_id for m in bot.replies_to(user) if m.media is not None]


async def test_a_typed_title_gets_result_buttons_and_a_pressed_file_arrives(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST)
    await searchable(bot, [release(1, "Arrival.2016.1080p.BluRay.x264.mkv"),
                           release(2, "Interstellar.2014.2160p.WEB-DL.mkv")])
    reply = (await bot.send("arival", user=5)).last
    assert reply.text.startswith("Results for “arival”: 1–1 of 1")
    assert labels(reply) == ["Arrival 2016 1080p BluRay x264.mkv · 1.4 GB"]
    await bot.press(reply, "Arrival 2016 1080p BluRay x264.mkv · 1.4 GB", user=5)
    assert delivered(bot, 5) == [release(1, "Arrival.2016.1080p.BluRay.x264.mkv").file_id]


async def test_pages_go_forward_and_back_and_visit_every_file_once(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=SMALL_PAGES)
    await searchable(bot, [release(n, f"Night.Shift.S01E{n:02d}.720p.mkv") for n in range(1, 8)])
    first = (await bot.send("night shift", user=5)).last
    assert "1–3 of 7" in first.text and "◀" not in labels(first)
    seen = labels(first)[:3]
    second = (await bot.press(first, "▶", user=5)).last
    assert "4–6 of 7" in second.text
    seen += labels(second)[:3]
    third = (await bot.press(second, "▶", user=5)).last
    assert "7–7 of 7" in third.text and "▶" not in labels(third)
    seen += labels(third)[:1]
    assert sorted(seen) == sorted(f"Night Shift S01E{n:02d} 720p.mkv · 1.4 GB" for n in range(1, 8))
    back = (await bot.press(third, "◀", user=5)).last
    assert "4–6 of 7" in back.text and labels(back)[:3] == labels(second)[:3]


async def test_forged_and_other_users_buttons_are_refused(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=SMALL_PAGES)
    await searchable(bot, [release(n, f"Blue.Harbor.S01E{n:02d}.mkv") for n in range(1, 6)])
    reply = (await bot.send("blue harbor", user=5)).last
    assert (await bot.press(reply, "▶", user=6)).answer.text == "This button has expired."
    forged = bot.button(reply, "▶").callback.replace(",3|", ",0|")
    assert (await bot.press(reply, data=forged, user=5)).answer.text == "This button has expired."
    assert (await bot.press(reply, data="v1|search.f|deadbeef|u1|xxxxxxxxxxxx", user=5)).answer.text == \
        "This button has expired."
    assert delivered(bot, 5) == [] and delivered(bot, 6) == []


async def test_send_all_delivers_the_page_or_what_the_quota_grants_and_says_why(make_bot):
    files = [release(n, f"Office.Hours.S02E{n:02d}.1080p.mkv") for n in range(1, 11)]
    clock = FakeClock()  # two bots in one test share one virtual clock
    unlimited = await make_bot(plugins=[SearchPlugin], config=FAST, clock=clock)
    await searchable(unlimited, files)
    reply = (await unlimited.send("office hours", user=5)).last
    await unlimited.press(reply, "Send all on this page", user=5)
    assert len(delivered(unlimited, 5)) == 10

    limited = await make_bot(plugins=[SearchPlugin, ThreeADay], config=FAST, clock=clock)
    await limited.plugin("search").sync()  # same catalogue: the second bot indexed it too
    reply = (await limited.send("office hours", user=5)).last
    assert (await limited.press(reply, "Send all on this page", user=5)).answer.text == "Sending 3 files…"
    assert len(delivered(limited, 5)) == 3
    assert limited.replies_to(5)[-1].text == "3 files left today; the rest tomorrow."


class NoneLeft:
    meta = PluginMeta(name="noneleft", description="A quota with nothing left today.")

    def __init__(self, ctx):
        pass

    @hookimpl
    def mediabot_delivery_reserve(self, count):
        return Reservation(granted=0, message="You have received your 3 files for today.")


async def test_send_all_with_nothing_left_shows_no_sending_toast_only_why(make_bot):
    bot = await make_bot(plugins=[SearchPlugin, NoneLeft], config=FAST)
    await searchable(bot, [release(n, f"Office.Hours.S02E{n:02d}.1080p.mkv") for n in range(1, 4)])
    reply = (await bot.send("office hours", user=5)).last
    pressed = await bot.press(reply, "Send all on this page", user=5)
    assert pressed.answer.text is None  # answered, without a "Sending 3 files…" that would not come
    assert pressed.texts == ["You have received your 3 files for today."]
    assert delivered(bot, 5) == []


async def test_short_queries_get_a_hint_and_no_results_say_so(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST)
    assert (await bot.send("a", user=5)).texts == [
        "Type at least 2 letters of a film or series title to search, e.g. “dune 2021” or “the office s02e05”."]
    assert (await bot.send("zzzzqqq", user=5)).last.text.startswith("Nothing found for “zzzzqqq”")


async def test_hostile_text_never_breaks_the_search(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST)
    await searchable(bot, [release(1, "The.Matrix.1999.1080p.mkv")])
    for text in ["[", "(.*)+$", "a{99999}", "title:matrix AND *", "\\", "\x00\x01 matrix", "🎬" * 300,
                 "matrix " * 800, '"unbalanced', "$where: 1", "…" * 5000]:
        reply = (await bot.send(text, user=5)).last
        assert reply.text and "something went wrong" not in reply.text.lower(), text
    assert bot.app.metrics.value("mediabot_plugin_errors_total", {"plugin": "search", "hook": "mediabot_update"}) == 0


async def test_a_removed_or_dead_file_leaves_the_results_and_its_old_button_says_gone(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST)
    await searchable(bot, [release(1, "Crimson.Tide.1995.mkv"), release(2, "Crimson.Tide.1995.2160p.mkv"),
                           release(3, "Crimson.Tide.1995.720p.mkv")])
    reply = (await bot.send("crimson tide", user=5)).last
    assert "of 3" in reply.text
    files = {f.file_name: f for f in (await bot.plugin("search").search("crimson tide")).files}
    await bot.app.files.remove([files["Crimson.Tide.1995.mkv"].id])
    await bot.app.files.mark_dead([files["Crimson.Tide.1995.2160p.mkv"].id])
    await bot.plugin("search").sync()
    # At once the gone files leave the page (a cached page may list them until the version moves)...
    assert labels((await bot.send("crimson tide", user=5)).last)[:1] == ["Crimson Tide 1995 720p.mkv · 1.4 GB"]

    async def counted_once():  # ...and within the invalidation interval the count follows
        return (await bot.plugin("search").search("crimson tide")).total == 1

    await eventually(counted_once, what="the cached total dropping the removed files")
    pressed = await bot.press(reply, "Crimson Tide 1995.mkv · 1.4 GB", user=5)
    assert pressed.answer.text == "This file is no longer available." and delivered(bot, 5) == []


async def test_a_file_telegram_lost_is_marked_dead_and_leaves_the_index(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST)
    await searchable(bot, [release(1, "Golden.Hour.2020.mkv")])
    reply = (await bot.send("golden hour", user=5)).last
    bot.fake.forget_file(release(1, "Golden.Hour.2020.mkv").file_id)
    await bot.press(reply, "Golden Hour 2020.mkv · 1.4 GB", user=5)
    assert bot.replies_to(5)[-1].text == "This file is no longer available."
    await bot.plugin("search").sync()
    assert (await bot.plugin("search").search("golden hour")).files == []

    async def gone_from_the_index():
        return (await bot.plugin("search").search("golden hour")).total == 0

    await eventually(gone_from_the_index, what="the dead file leaving every page")
