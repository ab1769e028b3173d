"""Photos by URL or file id, albums, caption and media edits, protected content, HTML and stickers through the gateway."""

from __future__ import annotations

import pytest

from mediabot import AlbumItem, Button, Message
from mediabot.core.telegram import PermanentTelegramError
from mediabot.testing import FakeFile

CHANNEL = -1001700000001
KEYBOARD = [[Button(text="Watch", callback="w|1")]]
POSTER = "https://example.org/posters/dune.jpg"


async def test_a_photo_by_url_with_a_caption_and_buttons(gateway, fake):
    sent = await gateway.send_photo(9, POSTER, caption="<b>Dune</b> (2021)", html=True, keyboard=KEYBOARD)
    assert sent.media is not None and sent.media.kind == "photo"
    assert sent.caption == "Dune (2021)" and sent.html == "<b>Dune</b> (2021)" and sent.keyboard == KEYBOARD
    again = await gateway.send_photo(10, sent.media.file_id)  # the file id Telegram gave it
    assert again.media is not None and again.media.file_unique_id == sent.media.file_unique_id


async def test_a_local_path_is_never_uploaded_as_a_photo(gateway, fake):
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.send_photo(9, "/etc/passwd")
    assert raised.value.reason == "file_gone" and fake.calls_of("send_photo") == []


async def test_a_video_file_id_is_no_photo(gateway):
    film = FakeFile(file_name="Dune.2021.mkv")
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.send_photo(9, film.file_id)
    assert raised.value.reason == "file_gone"


async def test_an_album_is_sent_as_one_media_group_with_its_captions(gateway, fake):
    films = [FakeFile(file_name=f"Part.{i}.mkv") for i in (1, 2)]
    sent = await gateway.send_album(9, [AlbumItem(media=films[0].file_id, caption="Part 1"),
                                        AlbumItem(media=films[1].file_id), AlbumItem(media=POSTER)],
                                    protect_content=True)
    assert [m.caption for m in sent] == ["Part 1", None, None]
    assert [m.media.kind for m in sent] == ["video", "video", "photo"]
    assert len({m.media_group_id for m in sent}) == 1 and sent[0].media_group_id is not None
    assert all((9, m.id) in fake.protected for m in sent)
    assert fake.calls_of("send_media_group")[0].params["protect_content"] is True


async def test_an_album_holds_two_to_ten_files(gateway, fake):
    one = FakeFile(file_name="a.mkv").file_id
    for items in ([AlbumItem(media=one)], [AlbumItem(media=one)] * 11):
        with pytest.raises(ValueError, match="2 to 10"):
            await gateway.send_album(9, items)
    assert fake.calls_of("send_media_group") == []


async def test_editing_a_caption_keeps_the_file(gateway, fake):
    film = FakeFile(file_name="Arrival.2016.mkv")
    sent = await gateway.send_media(9, film.file_id, caption="Arrival")
    await gateway.edit_caption(9, sent.id, "Arrival (2016)", keyboard=KEYBOARD)
    await gateway.edit_caption(9, sent.id, "Arrival (2016)", keyboard=KEYBOARD)  # unchanged: not an error
    now = fake.message(9, sent.id)
    assert now.caption == "Arrival (2016)" and now.keyboard == KEYBOARD
    assert now.media.file_unique_id == film.file_unique_id


async def test_editing_the_media_replaces_file_and_caption(gateway, fake):
    sent = await gateway.send_photo(9, POSTER, caption="Poster")
    film = FakeFile(file_name="Dune.2021.mkv")
    await gateway.edit_media(9, sent.id, film.file_id, caption="The film", keyboard=KEYBOARD)
    now = fake.message(9, sent.id)
    assert now.media.kind == "video" and now.media.file_unique_id == film.file_unique_id
    assert now.caption == "The film" and now.keyboard == KEYBOARD
    assert type(fake.calls_of("edit_message_media")[0].params["media"]).__name__ == "InputMediaVideo"
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.edit_media(9, sent.id, "./poster.jpg")
    assert raised.value.reason == "file_gone"


async def test_protect_content_on_texts_documents_and_copies(gateway, fake):
    text = await gateway.send_text(9, "secret", protect_content=True)
    doc = await gateway.send_document(9, b"data", filename="a.txt", protect_content=True)
    await fake.channel_post(CHANNEL, file=FakeFile(file_name="a.mkv"), caption="A")
    copy = await gateway.copy_message(9, CHANNEL, 1, protect_content=True)
    plain = await gateway.send_text(9, "open")
    await fake.channel_post(CHANNEL, file=FakeFile(file_name="b.mkv"), grouped_id=7)
    await fake.channel_post(CHANNEL, file=FakeFile(file_name="c.mkv"), grouped_id=7)
    album = await gateway.copy_album(9, CHANNEL, 2, protect_content=True)
    assert {(9, m.id) for m in [text, doc, copy, *album]} <= fake.protected
    assert (9, plain.id) not in fake.protected


async def test_a_users_formatting_comes_back_as_html(gateway, fake, received):
    await gateway.send_text(9, 'see <a href="https://example.org">this</a> & <i>that</i>', html=True)
    (sent,) = fake.sent_to(9)
    assert sent.text == "see this & that"
    assert sent.html == 'see <a href="https://example.org">this</a> &amp; <i>that</i>'


async def test_a_sticker_is_a_media_kind(gateway, fake, received):
    await fake.user_message(5, file=FakeFile(kind="sticker", emoji="🎬"))
    (message,) = received.of(Message)
    assert message.media is not None and message.media.kind == "sticker" and message.media.emoji == "🎬"
    assert message.text is None and message.html is None
