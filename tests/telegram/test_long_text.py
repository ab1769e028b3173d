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


def test_a_pre_block_over_the_limit_is_cut_inside_and_reopened():
    block = '<pre><code class="language-text">' + "\n".join(f"{i:03d}" + "x" * 46 for i in range(100)) \
        + "</code></pre>"
    parts = split_text(block, limit=1000, html=True)
    assert len(parts) == 5  # 20 lines of 49 characters and their 19 line breaks each
    for p in parts:
        assert p.startswith('<pre><code class="language-text">') and p.endswith("</code></pre>")
        assert utf16_len(p) - len('<pre><code class="language-text"></code></pre>') <= 1000
    lines = [line for p in parts for line in p.removeprefix('<pre><code class="language-text">')
             .removesuffix("</code></pre>").split("\n")]
    assert lines == [f"{i:03d}" + "x" * 46 for i in range(100)]  # cut at line breaks, nothing lost


def test_a_single_html_line_over_the_limit_is_cut_inside_its_elements():
    line = "<b>bold " + "word " * 500 + '</b><a href="https://example.org/x">' + "link " * 300 + "</a>"
    parts = split_text(line, limit=1000, html=True)
    assert all(p.count("<b>") == p.count("</b>") and p.count("<a ") == p.count("</a>") for p in parts)
    assert any(p.startswith('<a href="https://example.org/x">') for p in parts[1:])


def test_only_telegrams_entities_count_as_one_character():
    # &nbsp; is not an entity for Telegram: six characters each, so 1,000 of them need two parts.
    parts = split_text("&nbsp;" * 1000, limit=4096, html=True)
    assert len(parts) == 2 and all(len(p) <= 4096 for p in parts) and "".join(parts) == "&nbsp;" * 1000
    assert split_text("&lt;" * 4096, html=True) == ["&lt;" * 4096]  # these are one character each
    assert len(split_text("&#128512;" * 2049, html=True)) == 2  # an emoji by number counts two


def test_a_lone_surrogate_does_not_raise():
    assert utf16_len("a\ud800b") == 3
    assert split_text("\ud800" * 5000) == ["\ud800" * 4096, "\ud800" * 904]
    assert "".join(split_text("<i>" + "\udfff" * 5000 + "</i>", html=True)).count("\udfff") == 5000


def test_a_blank_text_over_the_limit_is_a_clear_error():
    with pytest.raises(ValueError, match="blank"):
        split_text("\n" * 5000)
    with pytest.raises(ValueError, match="blank"):
        split_text("<b>" + " " * 5000 + "</b>", html=True)


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
