"""The fake Telegram refuses what Telegram refuses and fails when a test says so."""

from __future__ import annotations

import pytest
from pyrogram.errors import (
    ChannelInvalid,
    FloodWait,
    InputUserDeactivated,
    LimitInvalid,
    MessageAuthorRequired,
    MessageIdInvalid,
    MessageNotModified,
    MessageTooLong,
    PeerIdInvalid,
    QueryIdInvalid,
    ServiceUnavailable,
    UsernameNotOccupied,
)

from mediabot.testing import FakeFile, FakeTelegram


async def test_injected_errors_fire_after_n_calls_for_n_times(fake):
    fake.inject("send_message", ServiceUnavailable(), after=2, times=2)
    results = []
    for i in range(5):
        try:
            await fake.send_message(chat_id=100 + i, text="x")
            results.append("ok")
        except ServiceUnavailable:
            results.append("503")
    assert results == ["ok", "ok", "503", "503", "ok"]


async def test_an_injected_flood_wait_holds_every_send_until_it_ends(fake, clock):
    fake.inject("*", FloodWait(value=3), chat_id=5)
    with pytest.raises(FloodWait):
        await fake.send_message(chat_id=5, text="x")
    with pytest.raises(FloodWait) as again:
        await fake.send_cached_media(chat_id=6, file_id=FakeFile(file_name="a.mkv").file_id)
    assert again.value.value == 3
    clock.advance(3)
    await fake.send_message(chat_id=6, text="after the wait")


async def test_only_the_bots_own_messages_can_be_edited(fake):
    asked = await fake.user_message(5, "hello")
    with pytest.raises(MessageAuthorRequired):
        await fake.edit_message_text(chat_id=5, message_id=asked.id, text="hacked")
    with pytest.raises(MessageIdInvalid):
        await fake.edit_message_text(chat_id=5, message_id=999, text="x")
    sent = await fake.send_message(chat_id=5, text="same")
    with pytest.raises(MessageNotModified):
        await fake.edit_message_text(chat_id=5, message_id=sent.id, text="same")


async def test_telegrams_refusals(fake):
    fake.deactivate(8)
    with pytest.raises(InputUserDeactivated):
        await fake.send_message(chat_id=8, text="x")
    with pytest.raises(MessageTooLong):
        await fake.send_message(chat_id=9, text="x" * 4097)
    with pytest.raises(PeerIdInvalid):
        await fake.send_message(chat_id=-4242, text="a group the bot is not in")
    with pytest.raises(ChannelInvalid):
        await fake.get_messages(chat_id=-1009999999999, message_ids=[1])
    with pytest.raises(UsernameNotOccupied):
        await fake.get_chat(chat_id="@nobody_here")
    with pytest.raises(LimitInvalid):
        await fake.get_messages(chat_id=9, message_ids=list(range(201)))
    with pytest.raises(QueryIdInvalid):
        await fake.answer_callback_query(callback_query_id="123")


async def test_every_call_is_recorded_with_its_outcome(fake, clock):
    fake.block(3)
    await fake.send_message(chat_id=2, text="a")
    clock.advance(1.5)
    with pytest.raises(Exception):
        await fake.send_message(chat_id=3, text="b")
    assert [(c.method, c.chat_id, c.at, c.ok) for c in fake.calls] == [
        ("send_message", 2, 0.0, True), ("send_message", 3, 1.5, False)]


async def test_calls_before_start_fail_like_an_unconnected_client():
    fake = FakeTelegram()
    with pytest.raises(ConnectionError):
        await fake.send_message(chat_id=1, text="x")


def test_file_ids_are_stable_and_typed():
    film = FakeFile(file_name="Heat.1995.mkv")
    assert film.resolved_kind == "video" and film.file_id == FakeFile(file_name="Heat.1995.mkv").file_id
    assert FakeFile(file_name="a.flac").resolved_kind == "audio"
    assert FakeFile(file_name="notes.pdf").resolved_kind == "document"
    assert FakeFile(file_name="x.mkv", media_id=1).file_unique_id != FakeFile(file_name="x.mkv",
                                                                               media_id=2).file_unique_id


async def test_observers_see_each_call_as_it_ends(fake):
    seen = []
    fake.observe(lambda call: seen.append((call.method, call.ok, call.result.text if call.ok else None)))
    await fake.send_message(chat_id=1, text="live")
    fake.block(2)
    with pytest.raises(Exception):
        await fake.send_message(chat_id=2, text="blocked")
    assert seen == [("send_message", True, "live"), ("send_message", False, None)]
