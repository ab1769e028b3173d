"""How a result list reads: labels a person can read (and that cannot lie), the page, the words in order first."""

from __future__ import annotations

import re

from helpers import FAST, release
from mediabot_search import SearchPlugin

SMALL_PAGES = FAST + "page_size = 3\n"


async def searchable(bot, files):
    await bot.app.files.insert_batch(files)
    await bot.plugin("search").sync()


def labels(message):
    return [b.text for row in message.keyboard or [] for b in row]


async def test_the_title_typed_in_order_ranks_above_the_same_words_in_another_order(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST)
    await searchable(bot, [release(1, "Express_Midnight_1974.mkv"), release(2, "Midnight.Express.Orbit.2024.mkv")])
    for typed in ("midnight express", "Midnight Express "):
        assert labels((await bot.send(typed, user=5)).last)[:2] == [
            "Midnight Express Orbit 2024.mkv · 1.4 GB", "Express Midnight 1974.mkv · 1.4 GB"]
    # The other order typed: the other file first.
    assert labels((await bot.send("express midnight", user=5)).last)[0] == "Express Midnight 1974.mkv · 1.4 GB"


async def test_a_long_release_name_reads_as_words_and_keeps_its_year_resolution_and_size(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST)
    name = "The.Lord.of.the.Rings.The.Fellowship.of.the.Ring.2001.EXTENDED.1080p.BluRay.x264.mkv"
    await searchable(bot, [release(1, name, size=15_000_000_000), release(2, "Arrival_2016_720p_DDP5.1.mkv")])

    [label] = labels((await bot.send("fellowship of the ring", user=5)).last)
    assert label == "The Lord of the Rings The… 2001 1080p x264.mkv · 14.0 GB"
    shown = label.removesuffix(" · 14.0 GB").replace("…", " ").removesuffix(".mkv").split()
    assert set(shown) <= set(name.removesuffix(".mkv").split(".")), "every word shown is whole"
    assert "_" not in label and ".R" not in label
    [short] = labels((await bot.send("arrival", user=5)).last)
    assert short == "Arrival 2016 720p DDP5.1.mkv · 1.4 GB"  # 5.1 is a number, not two words


async def test_the_result_text_says_which_page_of_how_many(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=SMALL_PAGES)
    await searchable(bot, [release(n, f"Night.Shift.S01E{n:02d}.720p.mkv") for n in range(1, 8)])
    first = (await bot.send("night shift", user=5)).last
    assert first.text.startswith("Results for “night shift”: 1–3 of 7 · page 1/3")
    second = (await bot.press(first, "▶", user=5)).last
    assert second.text.startswith("Results for “night shift”: 4–6 of 7 · page 2/3")
    third = (await bot.press(second, "▶", user=5)).last
    assert "7–7 of 7 · page 3/3" in third.text
    await searchable(bot, [release(9, "Lone.Film.2001.mkv")])
    assert "page" not in (await bot.send("lone film", user=5)).last.text  # one page: nothing to say


async def test_bidi_overrides_and_line_breaks_in_a_file_name_never_reach_a_button_or_inline_title(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST)
    # Where the override is obeyed this shows as "Holiday Photosexe.mkv": a program posing as a video.
    spoofed = "Holiday.Photos\u202evkm.exe\n\x00Free\u2028Gift\u2066"
    await searchable(bot, [release(1, spoofed)])
    [label] = labels((await bot.send("holiday photos", user=5)).last)
    assert label == "Holiday Photosvkm exe Free Gift · 1.4 GB"
    [result] = (await bot.inline("holiday photos", user=5)).results
    for text in (label, result.title):
        assert not re.search(r"[\x00-\x1f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]", text), text


def test_the_engine_scores_the_words_in_the_order_typed_above_a_shorter_title_in_another_order(tmp_path):
    from mediabot_search.engine import TantivyEngine

    with TantivyEngine(tmp_path / "search") as engine:
        files = [release(1, "Express_Midnight_1974.mkv"), release(2, "Midnight.Express.Orbit.2024.mkv"),
                 release(3, "The.Midnight.Sky.2020.mkv")]
        engine.index(files)
        engine.commit()
        assert engine.search("midnight express").ids == [files[1].id, files[0].id]
        assert engine.search("express midnight").ids == [files[0].id, files[1].id]
