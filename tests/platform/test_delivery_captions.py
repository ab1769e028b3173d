"""What a delivered file's caption says: the post's caption by default, cleaned, within Telegram's limit."""

from __future__ import annotations

import pytest
from pyrogram.errors import MediaCaptionTooLong

from mediabot import Command, MediaFile, PluginMeta, hookimpl, safe_text
from mediabot.core.telegram.text import cut_text, utf16_len
from mediabot.testing.tl import FakeFile

CHANNEL = -1001234567890


class Sender:
    """Delivers the file posted last: ``/get``."""

    meta = PluginMeta(name="sender", description="Sends files.")

    def __init__(self, ctx):
        self.files: list[MediaFile] = []
        self.reports = []

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="get", description="Get the file", handler=self.get)]

    async def get(self, ctx):
        self.reports.append(await ctx.app.delivery.send(ctx.user, self.files[-1:]))


async def offer(bot, name: str, caption: str | None) -> MediaFile:
    """A channel post with file ``name`` and ``caption``, in the catalogue, offered by ``/get``."""
    post = await bot.post(CHANNEL, media=name, caption=caption)
    file = MediaFile.from_message(post)
    await bot.app.files.insert_batch([file])
    bot.plugin("sender").files.append(file)
    return file


def delivered_captions(bot, user: int) -> list[str | None]:
    return [m.caption for m in bot.replies_to(user) if m.media is not None]


async def test_by_default_a_file_keeps_its_posts_caption_and_a_file_without_one_gets_its_name(make_bot):
    bot = await make_bot(plugins=[Sender])
    await offer(bot, "Dune.Part.Two.2024.1080p.mkv", "Dune: Part Two (2024)\nDirected by Denis Villeneuve")
    await bot.send("/get", user=9)
    await offer(bot, "Arrival.2016.720p.mkv", None)
    await bot.send("/get", user=9)
    assert delivered_captions(bot, 9) == ["Dune: Part Two (2024)\nDirected by Denis Villeneuve",
                                          "Arrival.2016.720p.mkv"]


async def test_fake_telegram_raises_media_caption_too_long_for_1025_units(make_bot):
    bot = await make_bot(plugins=[Sender])
    file = await offer(bot, "Film.mkv", None)
    with pytest.raises(MediaCaptionTooLong):
        await bot.fake.send_cached_media(9, file.file_id, caption="🎬" * 512 + "x")
    sent = await bot.fake.send_cached_media(9, file.file_id, caption="🎬" * 512)
    assert utf16_len(sent.caption) == 1024


async def test_a_caption_template_over_1024_utf16_units_is_cut_at_a_word_and_the_file_still_arrives(make_bot):
    bot = await make_bot(plugins=[Sender], config='[delivery]\ncaption = "{name}\\n{caption}"')
    # 510 emoji are 1,020 UTF-16 units (and only 510 characters): with the name, over the limit.
    await offer(bot, "Film.2024.mkv", "🎬" * 510)
    await bot.send("/get", user=9)
    await offer(bot, "Other.2024.mkv", " ".join(["🎬🎬"] * 300))
    await bot.send("/get", user=9)

    first, second = delivered_captions(bot, 9)
    assert first.startswith("Film.2024.mkv\n🎬") and first.endswith("…") and utf16_len(first) <= 1024
    # Cut between words: the last word before the ellipsis is whole.
    assert second.startswith("Other.2024.mkv\n") and second.endswith("🎬🎬…") and utf16_len(second) <= 1024
    assert all(word == "🎬🎬" for word in second.removeprefix("Other.2024.mkv\n").removesuffix("…").split(" "))
    assert [len(r.delivered) for r in bot.plugin("sender").reports] == [1, 1]


async def test_bidi_overrides_newlines_and_nuls_in_a_file_name_never_reach_the_caption(make_bot):
    bot = await make_bot(plugins=[Sender], config='[delivery]\ncaption = "{name}"')
    spoofed = "Holiday\u202evkm.exe"  # shows as "Holidayexe.mkv" where the override is obeyed
    await offer(bot, FakeFile(file_name=spoofed + "\n\x00Free\u2028Gift\u2066", size=10, media_id=1), None)
    await bot.send("/get", user=9)
    assert delivered_captions(bot, 9) == ["Holidayvkm.exe Free Gift"]


@pytest.mark.parametrize(("raw", "clean"), [
    ("Film\u202e4pm.exe", "Film4pm.exe"),
    ("a\u202ab\u202bc\u202cd\u202de\u2066f\u2067g\u2068h\u2069i\u200ej\u200fk", "abcdefghijk"),
    ("two\nlines\r\nand\ttab\x00nul\x1b[31m", "two lines and tabnul[31m"),
    ("zero\u200bwidth\ufeffbom\u00adsoft", "zerowidthbomsoft"),
    ("  spaced\u2029out  ", "spaced out"),
    ("عربي \u200ffilm", "عربي film"),
])
def test_safe_text_drops_control_format_and_separator_characters(raw, clean):
    assert safe_text(raw) == clean


def test_safe_text_with_lines_keeps_line_breaks_of_a_caption_only():
    assert safe_text("Title\u202e\r\n\n\n\nLine two\x00\u2028three", lines=True) == "Title\n\nLine two\nthree"


def test_cut_text_counts_utf16_units_and_prefers_a_word_boundary():
    assert cut_text("short", 10) == "short"
    assert cut_text("🎬" * 6, 10) == "🎬" * 4 + "…"  # 8 units and the ellipsis: 9
    assert cut_text("one two three four", 12) == "one two…"
    assert cut_text("averyveryverylongword", 8) == "averyve…"
