"""Replies rendered exactly: buttons in the family's syntax, files, formatting, placeholders, hostile markup."""

from __future__ import annotations

import pytest
from fhelpers import ADMIN, GROUP, MEMBER, filters_bot
from mediabot_filters.buttons import ButtonError, html_after, parse_buttons
from mediabot_filters.model import ButtonSpec

from mediabot.testing.tl import FakeFile


def url(text, link):
    return ButtonSpec(text=text, url=link)


@pytest.mark.parametrize(("written", "text", "rows"), [
    ("Hi [Site](buttonurl://https://example.org)", "Hi", [[url("Site", "https://example.org")]]),
    ("Hi [Site](buttonurl:https://example.org)", "Hi", [[url("Site", "https://example.org")]]),
    ("[A](buttonurl://https://a.org)\n[B](buttonurl://https://b.org:same)", "",
     [[url("A", "https://a.org"), url("B", "https://b.org")]]),
    ("[A](buttonurl://https://a.org)\n[B](buttonurl://https://b.org)", "",
     [[url("A", "https://a.org")], [url("B", "https://b.org")]]),
    ("x [A](buttonurl://https://a.org) [B](buttonurl://https://b.org:same) [C](buttonurl://https://c.org)", "x",
     [[url("A", "https://a.org"), url("B", "https://b.org")], [url("C", "https://c.org")]]),
    ("[Join](buttonurl://t.me/films)", "", [[url("Join", "https://t.me/films")]]),
    ("[Rules](buttonalert:Be kind, no spoilers)", "", [[ButtonSpec(text="Rules", alert="Be kind, no spoilers")]]),
    ("[A](buttonurl://https://a.org?x=1&amp;y=2)", "", [[url("A", "https://a.org?x=1&y=2")]]),
    ("[Not a button](https://example.org)", "[Not a button](https://example.org)", []),
    ("[A](buttonurl://javascript:alert(1))", "[A](buttonurl://javascript:alert(1))", []),  # not the syntax
    ("[](buttonurl://https://a.org)", "[](buttonurl://https://a.org)", []),
])
def test_the_button_syntax(written, text, rows):
    assert parse_buttons(written) == (text, rows)


@pytest.mark.parametrize("written", ["[A](buttonurl://javascript:void)", "[A](buttonurl://file:///etc/passwd)",
                                     "[ ](buttonurl://https://a.org)", "[A](buttonalert:)"])
def test_a_button_that_cannot_be_made_is_refused(written):
    with pytest.raises(ButtonError):
        parse_buttons(written)


def test_the_reply_part_of_a_command_keeps_its_formatting():
    markup = "/filter rules <b>Be <i>kind</i></b> &amp; calm"
    assert html_after(markup, len("/filter rules ")) == "<b>Be <i>kind</i></b> &amp; calm"
    assert html_after("/filter <b>rules Be</b> kind", len("/filter rules ")) == "<b>Be</b> kind"


async def test_a_reply_with_buttons_is_sent_with_its_keyboard_and_alerts_show(make_bot):
    bot = await filters_bot(make_bot)
    await bot.send("/filter links Our links:\n[Site](buttonurl://https://example.org)\n"
                   "[Chat](buttonurl://https://t.me/chat:same)\n[Rules](buttonalert:No spoilers!)",
                   user=ADMIN, chat=GROUP)
    [reply] = await bot.send("links", user=MEMBER, chat=GROUP)
    assert reply.text == "Our links:"
    assert [[(b.text, b.url) for b in row] for row in reply.keyboard] == [
        [("Site", "https://example.org"), ("Chat", "https://t.me/chat")], [("Rules", None)]]
    pressed = await bot.press(reply, "Rules", user=13)  # anyone in the group
    assert (pressed.answer.text, pressed.answer.alert) == ("No spoilers!", True)


async def test_hostile_markup_in_a_reply_is_text_not_markup(make_bot):
    bot = await filters_bot(make_bot)
    await bot.send('/filter x <b>bold?</b> <a href="tg://x">link</a> & [A](buttonurl://https://a.org?q=1&x=2)',
                   user=ADMIN, chat=GROUP)
    [reply] = await bot.send("x", user=MEMBER, chat=GROUP)
    assert reply.text == '<b>bold?</b> <a href="tg://x">link</a> &'
    assert reply.html == '&lt;b&gt;bold?&lt;/b&gt; &lt;a href="tg://x"&gt;link&lt;/a&gt; &amp;'
    assert reply.keyboard[0][0].url == "https://a.org?q=1&x=2"


async def test_placeholders_are_filled_and_a_hostile_name_escaped(make_bot):
    bot = await filters_bot(make_bot)
    bot.fake.add_user(MEMBER, first_name="<b>Eve</b>", username="eve")
    await bot.send("/filter hi Hello {first} ({username}), you are {mention} in {chat}", user=ADMIN, chat=GROUP)
    [reply] = await bot.send("hi", user=MEMBER, chat=GROUP)
    assert reply.text == "Hello <b>Eve</b> (@eve), you are <b>Eve</b> in Film club"
    sent = bot.fake.calls_of("send_message")[-1].params["text"]
    assert sent == (f'Hello &lt;b&gt;Eve&lt;/b&gt; (@eve), you are <a href="tg://user?id={MEMBER}">'
                    "&lt;b&gt;Eve&lt;/b&gt;</a> in Film club")


async def test_a_replied_formatted_message_is_the_reply_with_its_formatting(make_bot):
    bot = await filters_bot(make_bot)
    source = await bot.app.telegram.send_text(GROUP, "<b>Rules</b>: be <i>kind</i>", html=True)
    await bot.send("/filter rules", user=ADMIN, chat=GROUP, reply_to=source.id)
    [reply] = await bot.send("rules?", user=MEMBER, chat=GROUP)
    assert reply.html == "<b>Rules</b>: be <i>kind</i>"


@pytest.mark.parametrize("kind", ["photo", "video", "document", "sticker", "animation", "audio", "voice"])
async def test_a_replied_file_is_the_reply(make_bot, kind):
    bot = await filters_bot(make_bot)
    file = FakeFile(kind=kind, file_name=None if kind in ("photo", "sticker") else f"f.{kind}", media_id=77)
    caption = None if kind == "sticker" else "Here [Get](buttonurl://https://example.org)"
    [posted] = [m for m in [await bot.fake.user_message(ADMIN, chat_id=GROUP, file=file, caption=caption)]]
    await bot.send("/filter get", user=ADMIN, chat=GROUP, reply_to=posted.id)
    [reply] = await bot.send("get it", user=MEMBER, chat=GROUP)
    assert reply.media is not None and reply.media.kind == kind and reply.media.file_id == file.file_id
    if kind != "sticker":
        assert reply.caption == "Here"
        assert reply.keyboard[0][0].url == "https://example.org"


async def test_a_video_note_cannot_be_a_reply(make_bot):
    bot = await filters_bot(make_bot)
    posted = await bot.fake.user_message(ADMIN, chat_id=GROUP, file=FakeFile(kind="video_note", media_id=5))
    [told] = (await bot.send("/filter get", user=ADMIN, chat=GROUP, reply_to=posted.id)).texts
    assert told.startswith("A video note cannot be a filter's reply")
