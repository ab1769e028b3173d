"""What a broadcast needs from the gateway: copies keeping buttons, silent sends, pins, albums."""

from __future__ import annotations

import pytest

from mediabot.core.telegram import PermanentTelegramError
from mediabot.core.types import Button
from mediabot.testing.tl import FakeFile

ADMIN = 9


async def test_a_copy_keeps_the_originals_buttons_when_asked(gateway, fake):
    source = await gateway.send_text(ADMIN, "Sale", keyboard=[[Button(text="Shop", url="https://example.com")]])

    kept = await gateway.copy_message(1, ADMIN, source.id, keep_keyboard=True)
    plain = await gateway.copy_message(2, ADMIN, source.id)

    assert fake.message(1, kept.id).keyboard == [[Button(text="Shop", url="https://example.com")]]
    assert fake.message(2, plain.id).keyboard is None


async def test_silent_sends_arrive_without_notification(gateway, fake):
    quiet = await gateway.send_text(1, "shh", silent=True)
    loud = await gateway.send_text(1, "hey")
    source = await gateway.send_text(ADMIN, "News")
    copied = await gateway.copy_message(2, ADMIN, source.id, silent=True, priority="bulk")

    assert (1, quiet.id) in fake.silent and (1, loud.id) not in fake.silent
    assert (2, copied.id) in fake.silent


async def test_a_sent_message_can_be_pinned_for_the_user(gateway, fake):
    sent = await gateway.send_text(1, "Read me")

    await gateway.pin(1, sent.id)

    assert fake.pinned[1] == [sent.id]
    [call] = fake.calls_of("pin_chat_message")
    assert call.params["both_sides"] is True and call.params["disable_notification"] is True


async def test_an_album_is_read_and_copied_whole(gateway, fake):
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        await fake.user_message(ADMIN, file=FakeFile(file_name=name), caption=name, grouped_id=77)

    album = await gateway.album(ADMIN, 2)
    copies = await gateway.copy_album(1, ADMIN, 2, size=len(album), silent=True, priority="bulk")

    assert [m.caption for m in album] == ["a.jpg", "b.jpg", "c.jpg"]
    assert [m.caption for m in copies] == ["a.jpg", "b.jpg", "c.jpg"]
    assert len({m.media_group_id for m in copies}) == 1
    assert all((1, m.id) in fake.silent for m in copies)


async def test_a_single_message_is_an_album_of_one(gateway, fake):
    message = await fake.user_message(ADMIN, "just text")

    assert [m.id for m in await gateway.album(ADMIN, message.id)] == [message.id]
    with pytest.raises(PermanentTelegramError) as err:
        await gateway.copy_album(1, ADMIN, message.id)
    assert err.value.reason == "message_empty"


async def test_albums_between_steady_sends_stay_under_telegrams_limit(gateway, fake):
    # Telegram counts every message of an album; paced as its size, nothing is refused.
    for name in [f"{i}.jpg" for i in range(10)]:
        await fake.user_message(ADMIN, file=FakeFile(file_name=name), grouped_id=5)
    import asyncio

    async def albums() -> None:
        for user in range(100, 110):
            await gateway.copy_album(user, ADMIN, 1, size=10, priority="bulk")

    async def texts() -> None:
        await asyncio.gather(*(gateway.send_text(user, "hi") for user in range(200, 260)))

    await asyncio.gather(albums(), texts())

    assert all(c.ok for c in fake.calls_of("copy_media_group", "send_message"))

