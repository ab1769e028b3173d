"""Replies longer than one Telegram message: cut where a reader expects, never refused."""

from __future__ import annotations

import pytest
from pyrogram.errors import MessageTooLong

from mediabot import Command, PermanentTelegramError, PluginMeta, hookimpl
from mediabot.core.telegram.text import split_text, utf16_len


def test_a_text_that_fits_is_one_part():
    assert split_text("hello") == ["hello"]
    assert split_text("x" * 4096) == ["x" * 4096]


def test_cuts_prefer_blank_lines_then_line_breaks_then_spaces():
    paragraphs = "\n\n".join(f"paragraph {i} " + "word " * 150 for i in range(12))
    parts = split_text(paragraphs, limit=2000)
    assert all(utf16_len(p) <= 2000 for p in parts)
    assert all(p.startswith("paragraph ") for p in parts)  # every part starts a paragraph
    assert "".join(parts).replace("\n", "") == paragraphs.replace("\n", "")  # nothing lost
    lines = "\n".join(f"line {i}" for i in range(2000))
    parts = split_text(lines, limit=1000)
    assert all(p.startswith("line ") and not p.endswith("\n") for p in parts)
    assert "\n".join(parts) == lines
    words = " ".join(["word"] * 3000)
    assert all(p.endswith("word ") or p.endswith("word") for p in split_text(words, limit=1000))
    assert split_text("y" * 2500, limit=1000) == ["y" * 1000, "y" * 1000, "y" * 500]


def test_emoji_count_twice_and_are_never_cut_in_half():
    text = "😀" * 3000  # 6,000 UTF-16 units
    parts = split_text(text)
    assert [utf16_len(p) for p in parts] == [4096, 1904]
    assert "".join(parts) == text


def test_html_is_cut_only_between_complete_elements():
    rows = "\n".join(f"<b>{i}</b> <a href='https://example.org/{i}'>file {i} &amp; more</a>" for i in range(600))
    parts = split_text(rows, limit=1000, html=True)
    assert len(parts) > 1 and "\n".join(parts) == rows
    for p in parts:
        assert p.count("<b>") == p.count("</b>") and p.count("<a ") == p.count("</a>")
    block = "<pre>" + "\n".join("x" * 50 for _ in range(100)) + "</pre>"
    with pytest.raises(ValueError, match="no safe place to cut"):
        split_text(block, limit=1000, html=True)


class Longwinded:
    meta = PluginMeta(name="longwinded", description="Says a lot.")

    def __init__(self, ctx):
        pass

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="all", description="Everything", handler=self.all)]

    async def all(self, ctx):
        await ctx.reply("\n".join(f"{i}. Some.Show.S01E{i:02d}.1080p.mkv — 1.4 GB" for i in range(400)),
                        keyboard=[[ctx.button("More", "longwinded.more")]])


async def test_a_long_reply_arrives_as_several_messages_with_the_keyboard_on_the_last(make_bot):
    bot = await make_bot(plugins=[Longwinded])
    reply = await bot.send("/all")
    assert len(reply.texts) >= 4 and all(utf16_len(t) <= 4096 for t in reply.texts)
    assert "\n".join(reply.texts).splitlines() == [f"{i}. Some.Show.S01E{i:02d}.1080p.mkv — 1.4 GB"
                                                   for i in range(400)]
    assert [bool(m.keyboard) for m in reply] == [False] * (len(reply) - 1) + [True]
    with pytest.raises(PermanentTelegramError) as refused:  # the one-message primitive refuses, as Telegram
        await bot.app.telegram.send_text(1, "z" * 4097)
    assert isinstance(refused.value.__cause__, MessageTooLong)
