"""What plugins get from ``app.telegram``: kernel types in, kernel types out, Telegram's quirks absorbed."""

from __future__ import annotations

import pytest
from pyrogram.errors import InternalServerError

from mediabot import Button, InlineResult
from mediabot.core.telegram import PermanentTelegramError
from mediabot.testing import FakeFile

CHANNEL = -1001700000001
KEYBOARD = [[Button(text="◀", callback="p|1"), Button(text="▶", callback="p|3")],
            [Button(text="Open", url="https://example.org")]]


async def test_send_text_returns_the_message_with_its_keyboard(gateway):
    sent = await gateway.send_text(5, "Results for *dune*", keyboard=KEYBOARD)
    assert sent.text == "Results for *dune*"  # plain text: no Markdown surprises
    assert sent.keyboard == KEYBOARD and sent.chat.id == 5 and sent.from_user.is_bot


async def test_html_is_rendered_only_when_asked(gateway):
    sent = await gateway.send_text(5, "<b>bold</b> &amp; co", html=True)
    assert sent.text == "bold & co"


async def test_reply_to_quotes_the_message(gateway, fake):
    asked = await fake.user_message(5, "/search dune")
    sent = await gateway.send_text(5, "3 results", reply_to=asked.id)
    assert sent.reply_to_message_id == asked.id


async def test_editing_to_the_same_content_is_not_an_error(gateway, fake):
    sent = await gateway.send_text(5, "page 1", keyboard=KEYBOARD)
    await gateway.edit_text(5, sent.id, "page 1", keyboard=KEYBOARD)  # a double press
    await gateway.edit_text(5, sent.id, "page 2", keyboard=KEYBOARD)
    assert fake.message(5, sent.id).text == "page 2"
    await gateway.edit_keyboard(5, sent.id, None)
    await gateway.edit_keyboard(5, sent.id, None)
    assert fake.message(5, sent.id).keyboard is None


async def test_an_edit_without_keyboard_removes_it(gateway, fake):
    sent = await gateway.send_text(5, "choose", keyboard=KEYBOARD)
    await gateway.edit_text(5, sent.id, "done")
    assert fake.message(5, sent.id).keyboard is None


async def test_send_media_by_file_id(gateway, fake):
    film = FakeFile(file_name="Arrival.2016.1080p.mkv", duration=6960)
    post = await fake.channel_post(CHANNEL, file=film, caption="Arrival")
    sent = await gateway.send_media(9, film.file_id, caption="Arrival (2016)")
    assert sent.media is not None and sent.media.file_unique_id == film.file_unique_id
    assert sent.caption == "Arrival (2016)" and post.id == 1


async def test_a_malformed_file_id_is_a_permanent_error(gateway):
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.send_media(9, "not-a-file-id")
    assert raised.value.reason == "file_gone"


async def test_a_file_telegram_no_longer_has_is_gone(gateway, fake):
    film = FakeFile(file_name="Arrival.2016.1080p.mkv")
    await fake.channel_post(CHANNEL, file=film)
    fake.forget_file(film.file_id)
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.send_media(9, film.file_id)
    assert raised.value.reason == "file_gone"


async def test_protected_content_reaches_telegram(gateway, fake):
    film = FakeFile(file_name="Arrival.2016.1080p.mkv")
    await fake.channel_post(CHANNEL, file=film)
    await gateway.send_media(9, film.file_id, protect_content=True)
    assert fake.calls_of("send_cached_media")[-1].params["protect_content"] is True


async def test_membership_lookup(gateway, fake):
    fake.add_chat(-1001234567890, "channel", username="films")
    fake.set_member(-1001234567890, 5)
    assert await gateway.is_member(-1001234567890, 5) is True
    assert await gateway.is_member(-1001234567890, 6) is False


async def test_copy_message_copies_a_post_without_its_buttons(gateway, fake):
    await fake.channel_post(CHANNEL, file=FakeFile(file_name="a.mkv"), caption="A")
    copied = await gateway.copy_message(9, CHANNEL, 1, keyboard=[[Button(text="More", callback="m")]])
    assert copied.caption == "A" and copied.media.kind == "video" and copied.chat.id == 9
    assert copied.keyboard == [[Button(text="More", callback="m")]]


async def test_copying_a_deleted_post_says_so(gateway, fake):
    await fake.channel_post(CHANNEL, "gone soon")
    await gateway.delete(CHANNEL, [1])
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.copy_message(9, CHANNEL, 1)
    assert raised.value.reason == "message_empty"


async def test_read_channel_reads_in_batches_and_skips_deleted(gateway, fake):
    for i in range(450):
        await fake.channel_post(CHANNEL, file=FakeFile(file_name=f"Show.S01E{i:03}.mkv"))
    await fake.delete_messages(CHANNEL, [10, 300])
    got = await gateway.read_channel(CHANNEL, range(1, 451))
    assert [m.id for m in got] == [i for i in range(1, 451) if i not in (10, 300)]
    assert [len(c.params["message_ids"]) for c in fake.calls_of("get_messages")] == [200, 200, 50]
    assert got[0].media.file_name == "Show.S01E000.mkv"


async def test_resolve_chat_by_id_and_username(gateway, fake):
    fake.add_chat(CHANNEL, "channel", title="Movies", username="movies_hd")
    by_name = await gateway.resolve_chat("@movies_hd")
    assert (by_name.id, by_name.type, by_name.title) == (CHANNEL, "channel", "Movies")
    assert await gateway.resolve_chat(CHANNEL) == by_name
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.resolve_chat(-1009999999999)
    assert raised.value.reason == "peer_invalid"


async def test_callback_answers_and_late_answers(gateway, fake):
    sent = await gateway.send_text(5, "x", keyboard=KEYBOARD)
    query_id = await fake.user_press(5, 5, sent.id, "p|3")
    await gateway.answer_callback(query_id, "page 3", alert=True)
    assert fake.callback_answers[query_id].text == "page 3" and fake.callback_answers[query_id].alert
    await gateway.answer_callback(query_id, "again")  # expired/answered: ignored, not raised


async def test_inline_answers_files_and_articles(gateway, fake):
    film = FakeFile(file_name="Dune.mkv")
    song = FakeFile(file_name="Time.flac", title="Time", performer="Hans Zimmer")
    query_id = await fake.user_inline_query(5, "dune")
    await gateway.answer_inline(query_id, [
        InlineResult(id="f1", title="Dune", file_id=film.file_id, caption="Dune (2021)"),
        InlineResult(id="a1", title="Time", file_id=song.file_id),
        InlineResult(id="t1", title="No more results", text="Try another title"),
    ], next_offset="20")
    answer = fake.inline_answers[query_id]
    assert [(r.id, r.file_id, r.text) for r in answer.results] == [
        ("f1", film.file_id, None), ("a1", song.file_id, None), ("t1", None, "Try another title")]
    assert answer.next_offset == "20" and answer.personal and answer.cache_time == 0
    kinds = [type(r).__name__ for r in fake.calls_of("answer_inline_query")[0].params["results"]]
    assert kinds == ["InlineQueryResultCachedVideo", "InlineQueryResultCachedAudio", "InlineQueryResultArticle"]


async def test_command_menus_per_scope(gateway, fake):
    await gateway.set_commands([("start", "Start"), ("search", "Search the catalogue")])
    await gateway.set_commands([("start", "Start"), ("broadcast", "Message everyone")], scope="admins",
                               chat_id=1)
    assert fake.commands_for("all_private_chats") == [("start", "Start"), ("search", "Search the catalogue")]
    assert fake.commands_for("default") == fake.commands_for("all_private_chats")
    assert fake.commands_for(1) == [("start", "Start"), ("broadcast", "Message everyone")]
    with pytest.raises(ValueError):
        await gateway.set_commands([("x", "y")], scope="admins")


async def test_transient_failures_are_retried(gateway, fake):
    fake.inject("send_message", InternalServerError(), times=2)
    sent = await gateway.send_text(5, "eventually")
    assert sent.text == "eventually"
    assert [c.ok for c in fake.calls_of("send_message")] == [False, False, True]


async def test_a_button_without_action_is_refused_before_sending(gateway, fake):
    with pytest.raises(ValueError, match="Nothing"):
        await gateway.send_text(5, "x", keyboard=[[Button(text="Nothing")]])
    with pytest.raises(ValueError, match="64"):
        await gateway.send_text(5, "x", keyboard=[[Button(text="Big", callback="x" * 65)]])
    assert fake.calls_of("send_message") == []


async def test_empty_text_is_a_permanent_error(gateway):
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.send_text(5, "   ")
    assert raised.value.reason == "message_empty"


async def test_send_document_uploads_the_bytes_under_their_name_and_retries_from_the_start(gateway, fake):
    fake.inject("send_document", InternalServerError(), times=1)
    data = b"line one\nline two\n" * 100
    sent = await gateway.send_document(5, data, filename="logs.txt", caption="the last 200 lines")
    assert sent.media is not None and sent.media.file_name == "logs.txt" and sent.caption == "the last 200 lines"
    assert fake.uploaded(5, sent.id) == ("logs.txt", data)  # the retry sent every byte again
    assert [c.ok for c in fake.calls_of("send_document")] == [False, True]


async def test_an_empty_document_is_refused_before_sending(gateway, fake):
    with pytest.raises(ValueError, match="empty"):
        await gateway.send_document(5, b"", filename="empty.txt")
    assert fake.calls_of("send_document") == []
