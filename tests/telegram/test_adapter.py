"""Updates as Telegram sends them become the right kernel types.

Each test writes the raw TL objects Telegram would send, serialises them and
reads them back (as the network layer does), runs pyrogram's own parsers on
them, then the kernel's conversion. No hand-built pyrogram objects.
"""

from __future__ import annotations

import os
import time
from io import BytesIO
from typing import Any

import pyrogram
import pytest
from pyrogram import raw
from pyrogram import types as pt
from pyrogram.raw.core import TLObject

from mediabot import Button, CallbackQuery, Chat, InlineQuery, Message, User
from mediabot.core.telegram.convert import (
    callback_from_pyrogram,
    inline_from_pyrogram,
    keyboard_to_pyrogram,
    message_from_pyrogram,
)

DATE = 1_717_171_717  # 2024-05-31 16:08:37 UTC
ANN = raw.types.User(id=5001, access_hash=11, first_name="Ann", last_name="Lee", username="annlee",
                     lang_code="de")
CHANNEL_RAW_ID = 1_987_654_321
CHANNEL = raw.types.Channel(id=CHANNEL_RAW_ID, title="Movies", photo=raw.types.ChatPhotoEmpty(), date=DATE,
                            broadcast=True, access_hash=22, username="movies_hd")
SUPERGROUP = raw.types.Channel(id=1_555_000_111, title="Fans", photo=raw.types.ChatPhotoEmpty(), date=DATE,
                               megagroup=True, access_hash=33)
GROUP = raw.types.Chat(id=424242, title="Friends", photo=raw.types.ChatPhotoEmpty(), participants_count=3,
                       date=DATE, version=1)


def wire(obj: TLObject) -> Any:
    """The object as it arrives from Telegram: serialised, then read back."""
    return TLObject.read(BytesIO(obj.write()))


@pytest.fixture
def client() -> pyrogram.Client:
    # Never started: the parsers only use its caches. fetch_* off as in production.
    return pyrogram.Client(name="adapter-test", api_id=1, api_hash="0" * 32, in_memory=True,
                           fetch_replies=False, fetch_topics=False, fetch_stories=False, fetch_stickers=False)


async def parse(client: pyrogram.Client, message: raw.types.Message, *, users=(ANN,), chats=()) -> Message:
    parsed = await pt.Message._parse(client, wire(message), {u.id: wire(u) for u in users},
                                     {c.id: wire(c) for c in chats})
    converted = message_from_pyrogram(parsed)
    assert converted is not None
    return converted


def private(message_text: str = "", **kw: Any) -> raw.types.Message:
    return raw.types.Message(id=kw.pop("id", 10), peer_id=raw.types.PeerUser(user_id=ANN.id),
                             from_id=raw.types.PeerUser(user_id=ANN.id), date=DATE, message=message_text, **kw)


def document(doc_id: int, mime: str, size: int, attributes: list[Any]) -> raw.types.MessageMediaDocument:
    return raw.types.MessageMediaDocument(document=raw.types.Document(
        id=doc_id, access_hash=99, file_reference=b"\x01\x02", date=DATE, mime_type=mime, size=size, dc_id=4,
        attributes=attributes))


async def test_private_text_message(client):
    m = await parse(client, private("hello bot"))
    assert m == Message(id=10, chat=Chat(id=5001, type="private", title="Ann Lee", username="annlee"),
                        date=DATE, text="hello bot", html="hello bot",
                        from_user=User(id=5001, first_name="Ann", last_name="Lee", username="annlee",
                                       language="de"))
    assert m.command is None


async def test_dates_are_unix_seconds_whatever_the_server_time_zone(client, monkeypatch):
    # pyrogram makes naive *local* datetimes; the kernel must not shift them.
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14
    time.tzset()
    try:
        m = await parse(client, private("hi"))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert m.date == DATE
    assert os.environ.get("TZ") is None


async def test_document_with_file_name(client):
    media = document(777, "application/zip", 52_428_800,
                     [raw.types.DocumentAttributeFilename(file_name="Season 1 Subtitles.zip")])
    m = await parse(client, private("", media=media))
    assert m.text is None and m.caption is None
    assert m.media is not None
    assert (m.media.kind, m.media.file_name, m.media.mime_type, m.media.file_size) == \
        ("document", "Season 1 Subtitles.zip", "application/zip", 52_428_800)
    assert m.media.file_id and m.media.file_unique_id


async def test_video_with_caption(client):
    media = document(778, "video/x-matroska", 4_000_000_000, [
        raw.types.DocumentAttributeVideo(duration=7384.5, w=3840, h=1606, supports_streaming=True),
        raw.types.DocumentAttributeFilename(file_name="Dune.Part.Two.2024.2160p.mkv"),
    ])
    m = await parse(client, private("Dune: Part Two (2024) 4K", media=media))
    assert m.caption == "Dune: Part Two (2024) 4K" and m.text is None
    assert m.media is not None
    assert (m.media.kind, m.media.duration, m.media.width, m.media.height, m.media.file_name) == \
        ("video", 7384, 3840, 1606, "Dune.Part.Two.2024.2160p.mkv")


async def test_audio_keeps_title_and_performer(client):
    media = document(779, "audio/flac", 31_000_000, [
        raw.types.DocumentAttributeAudio(duration=245, title="Time", performer="Hans Zimmer"),
        raw.types.DocumentAttributeFilename(file_name="04 - Time.flac"),
    ])
    m = await parse(client, private("", media=media))
    assert m.media is not None
    assert (m.media.kind, m.media.title, m.media.performer, m.media.duration, m.media.file_name) == \
        ("audio", "Time", "Hans Zimmer", 245, "04 - Time.flac")


async def test_voice_round_video_and_animation_are_told_apart(client):
    voice = document(780, "audio/ogg", 9_000, [raw.types.DocumentAttributeAudio(duration=3, voice=True)])
    note = document(781, "video/mp4", 90_000, [raw.types.DocumentAttributeVideo(duration=5, w=384, h=384,
                                                                               round_message=True)])
    gif = document(782, "video/mp4", 80_000, [raw.types.DocumentAttributeAnimated(),
                                              raw.types.DocumentAttributeVideo(duration=2, w=320, h=240)])
    kinds = [(await parse(client, private("", id=i, media=media))).media for i, media in
             enumerate((voice, note, gif), start=20)]
    assert [k.kind for k in kinds] == ["voice", "video_note", "animation"]
    assert (kinds[1].width, kinds[1].height) == (384, 384)


async def test_photo_uses_the_largest_size(client):
    photo = raw.types.Photo(id=900, access_hash=1, file_reference=b"", date=DATE, dc_id=4, sizes=[
        raw.types.PhotoSize(type="m", w=320, h=180, size=12_000),
        raw.types.PhotoSize(type="y", w=1280, h=720, size=150_000),
        raw.types.PhotoSize(type="x", w=800, h=450, size=60_000),
    ])
    m = await parse(client, private("poster", media=raw.types.MessageMediaPhoto(photo=photo)))
    assert m.media is not None
    assert (m.media.kind, m.media.width, m.media.height, m.media.file_size) == ("photo", 1280, 720, 150_000)
    assert m.caption == "poster"


async def test_channel_post(client):
    media = document(901, "video/mp4", 700_000_000, [
        raw.types.DocumentAttributeVideo(duration=2700, w=1920, h=1080),
        raw.types.DocumentAttributeFilename(file_name="Show.S01E02.1080p.mp4"),
    ])
    post = raw.types.Message(id=345, peer_id=raw.types.PeerChannel(channel_id=CHANNEL_RAW_ID), date=DATE,
                             message="Show S01E02", post=True, media=media, grouped_id=13_371_337)
    m = await parse(client, post, users=(), chats=(CHANNEL,))
    assert m.is_channel_post and m.from_user is None
    assert m.chat == Chat(id=-100_1987654321, type="channel", title="Movies", username="movies_hd")
    assert m.media is not None and m.media.kind == "video" and m.caption == "Show S01E02"
    assert m.media_group_id == "13371337"


async def test_group_and_supergroup_messages(client):
    in_group = raw.types.Message(id=3, peer_id=raw.types.PeerChat(chat_id=GROUP.id),
                                 from_id=raw.types.PeerUser(user_id=ANN.id), date=DATE, message="/search dune")
    in_super = raw.types.Message(id=4, peer_id=raw.types.PeerChannel(channel_id=SUPERGROUP.id),
                                 from_id=raw.types.PeerUser(user_id=ANN.id), date=DATE, message="hi all")
    g = await parse(client, in_group, chats=(GROUP,))
    s = await parse(client, in_super, chats=(SUPERGROUP,))
    assert (g.chat.id, g.chat.type, g.chat.is_group, g.from_user.id) == (-424242, "group", True, ANN.id)
    assert g.command == ("search", "dune")
    assert (s.chat.id, s.chat.type, s.from_user.id) == (-100_1555000111, "supergroup", ANN.id)


async def test_inline_keyboard_comes_back_as_ours(client):
    keyboard = [[Button(text="◀ Prev", callback="v1|p|1"), Button(text="Next ▶", callback="v1|p|3")],
                [Button(text="Site", url="https://example.org"), Button(text="Share", switch_inline="dune")]]
    markup = await keyboard_to_pyrogram(keyboard).write(client)
    bot = raw.types.User(id=7000, access_hash=1, first_name="Bot", bot=True)
    sent = raw.types.Message(id=11, peer_id=raw.types.PeerUser(user_id=ANN.id),
                             from_id=raw.types.PeerUser(user_id=bot.id), out=True, date=DATE, message="page 2",
                             reply_markup=markup)
    m = await parse(client, sent, users=(ANN, bot))
    assert m.keyboard == keyboard
    assert m.from_user is not None and m.from_user.is_bot


async def test_callback_query(client):
    bot = raw.types.User(id=7000, access_hash=1, first_name="Bot", bot=True)
    markup = await keyboard_to_pyrogram([[Button(text="Next ▶", callback="v1|p|3")]]).write(client)
    sent = raw.types.Message(id=11, peer_id=raw.types.PeerUser(user_id=ANN.id),
                             from_id=raw.types.PeerUser(user_id=bot.id), out=True, date=DATE, message="page 2",
                             reply_markup=markup)
    users = {u.id: wire(u) for u in (ANN, bot)}
    # A live client has the message in its cache (it parsed it when sending).
    await pt.Message._parse(client, wire(sent), users, {})
    update = raw.types.UpdateBotCallbackQuery(query_id=123456789012, user_id=ANN.id,
                                              peer=raw.types.PeerUser(user_id=ANN.id), msg_id=11,
                                              chat_instance=-5550001, data=b"v1|p|3")
    q = callback_from_pyrogram(await pt.CallbackQuery._parse(client, wire(update), users, {}))
    assert isinstance(q, CallbackQuery)
    assert (q.id, q.data, q.from_user.id, q.chat_instance) == ("123456789012", "v1|p|3", ANN.id, "-5550001")
    assert q.message is not None and (q.message.id, q.message.text) == (11, "page 2")


async def test_callback_with_binary_data_does_not_crash(client):
    bot = raw.types.User(id=7000, access_hash=1, first_name="Bot", bot=True)
    sent = raw.types.Message(id=12, peer_id=raw.types.PeerUser(user_id=ANN.id),
                             from_id=raw.types.PeerUser(user_id=bot.id), out=True, date=DATE, message="x")
    users = {u.id: wire(u) for u in (ANN, bot)}
    await pt.Message._parse(client, wire(sent), users, {})
    update = raw.types.UpdateBotCallbackQuery(query_id=1, user_id=ANN.id, peer=raw.types.PeerUser(user_id=ANN.id),
                                              msg_id=12, chat_instance=1, data=b"\xff\xfe")
    q = callback_from_pyrogram(await pt.CallbackQuery._parse(client, wire(update), users, {}))
    assert q.data == "\ufffd\ufffd"  # visible, and it will fail any signature check


async def test_inline_query(client):
    update = raw.types.UpdateBotInlineQuery(query_id=98765, user_id=ANN.id, query="dune 2160p", offset="20",
                                            peer_type=raw.types.InlineQueryPeerTypeSameBotPM())
    q = inline_from_pyrogram(await pt.InlineQuery._parse(client, wire(update), {ANN.id: wire(ANN)}))
    assert q == InlineQuery(id="98765", query="dune 2160p", offset="20", chat_type="bot",
                            from_user=User(id=ANN.id, first_name="Ann", last_name="Lee", username="annlee",
                                           language="de"))


async def test_service_and_unsupported_messages_are_not_updates(client):
    service = raw.types.MessageService(id=5, peer_id=raw.types.PeerChat(chat_id=GROUP.id),
                                       from_id=raw.types.PeerUser(user_id=ANN.id), date=DATE,
                                       action=raw.types.MessageActionChatAddUser(users=[ANN.id]))
    parsed = await pt.Message._parse(client, wire(service), {ANN.id: wire(ANN)}, {GROUP.id: wire(GROUP)})
    assert message_from_pyrogram(parsed) is None
    dice = private("", media=raw.types.MessageMediaDice(value=6, emoticon="🎲"))
    parsed = await pt.Message._parse(client, wire(dice), {ANN.id: wire(ANN)}, {})
    assert message_from_pyrogram(parsed) is None
    empty = raw.types.MessageEmpty(id=6)
    assert message_from_pyrogram(await pt.Message._parse(client, wire(empty), {}, {})) is None


async def test_a_messages_entities_come_back_as_html(client):
    m = await parse(client, private("Dune <2021> at home", entities=[
        raw.types.MessageEntityBold(offset=0, length=4),
        raw.types.MessageEntityTextUrl(offset=12, length=7, url="https://example.org")]))
    assert m.text == "Dune <2021> at home"
    assert m.html == '<b>Dune</b> &lt;2021&gt; <a href="https://example.org">at home</a>'


async def test_text_outside_entities_and_without_any_is_escaped_in_html(client):
    # pyrogram's unparser leaves the text before the first entity and after the last one as is.
    m = await parse(client, private("<i>a</i> & <b>b</b> 😀 <c>", entities=[
        raw.types.MessageEntityBold(offset=11, length=8)]))
    assert m.html == '&lt;i&gt;a&lt;/i&gt; &amp; <b>&lt;b&gt;b&lt;/b&gt;</b> 😀 &lt;c&gt;'
    plain = await parse(client, private('<b>not bold</b> & "x"'))
    assert plain.html == '&lt;b&gt;not bold&lt;/b&gt; &amp; "x"'


async def test_a_sticker_is_media_of_its_own_kind(client):
    sticker = document(77, "image/webp", 20_000, [
        raw.types.DocumentAttributeSticker(alt="🎬", stickerset=raw.types.InputStickerSetEmpty()),
        raw.types.DocumentAttributeImageSize(w=512, h=512)])
    m = await parse(client, private("", media=sticker))
    assert m.media is not None and (m.media.kind, m.media.emoji, m.media.width) == ("sticker", "🎬", 512)
    assert m.media.mime_type == "image/webp" and m.text is None
