"""Pyrogram objects to kernel types, and kernel keyboards to pyrogram's.

The only place that knows both worlds: plugins see :mod:`mediabot.core.types`
and nothing of pyrogram. Every function takes what pyrogram's own parsers
produce (``pyrogram.types.*``) and returns a frozen kernel struct, or
``None`` for what the kernel does not handle (service messages, empty
messages, stickers, polls...).

Dates: pyrogram turns Telegram's Unix timestamps into *naive local*
datetimes (``datetime.fromtimestamp``); ``datetime.timestamp()`` on such a
value gives the original Unix seconds back, whatever the server's time zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pyrogram import enums
from pyrogram import types as pt
from pyrogram.file_id import FileId, FileType

from mediabot.core.types import (
    PRIVATE_CHAT_TYPES,
    Button,
    CallbackQuery,
    Chat,
    ChatType,
    InlineQuery,
    InlineResult,
    Keyboard,
    Media,
    MediaKind,
    Message,
    MessageEdited,
    MessagesDeleted,
    User,
)

__all__ = [
    "callback_from_pyrogram",
    "chat_from_pyrogram",
    "deleted_from_pyrogram",
    "edited_from_pyrogram",
    "inline_from_pyrogram",
    "inline_result_to_pyrogram",
    "keyboard_from_pyrogram",
    "keyboard_to_pyrogram",
    "media_from_pyrogram",
    "message_from_pyrogram",
    "unix_seconds",
    "user_from_pyrogram",
]

# FORUM is a supergroup with topics; DIRECT is a channel's direct-messages
# chat, which behaves like a group for a bot.
_CHAT_TYPES: dict[enums.ChatType, ChatType] = {
    enums.ChatType.PRIVATE: "private",
    enums.ChatType.BOT: "bot",
    enums.ChatType.GROUP: "group",
    enums.ChatType.SUPERGROUP: "supergroup",
    enums.ChatType.FORUM: "supergroup",
    enums.ChatType.DIRECT: "supergroup",
    enums.ChatType.CHANNEL: "channel",
}

# Attribute of pyrogram.types.Message holding each media kind, in the order
# pyrogram's parser decides them (a round video is a video_note, not a video).
_MEDIA_ATTRS: tuple[MediaKind, ...] = (
    "video_note", "animation", "voice", "audio", "video", "photo", "document",
)


def unix_seconds(value: datetime | int | None) -> int:
    """Unix seconds (UTC) of a pyrogram date; 0 when absent."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    return int(value.timestamp())


def user_from_pyrogram(user: pt.User) -> User:
    return User(
        id=user.id,
        first_name=user.first_name or "",
        last_name=user.last_name or None,
        username=user.username or None,
        language=user.language_code or None,
        is_bot=bool(user.is_bot),
    )


def chat_from_pyrogram(chat: pt.Chat) -> Chat:
    chat_type = _CHAT_TYPES.get(chat.type, "private" if (chat.id or 0) > 0 else "supergroup")
    title = chat.title
    if title is None and chat_type in PRIVATE_CHAT_TYPES:
        # A private chat has no title; its name is the other user's.
        title = " ".join(p for p in (chat.first_name, chat.last_name) if p) or None
    return Chat(id=chat.id, type=chat_type, title=title, username=chat.username or None)


def media_from_pyrogram(message: pt.Message) -> Media | None:
    """The file attached to ``message`` (the largest size of a photo), or ``None``."""
    for kind in _MEDIA_ATTRS:
        obj = getattr(message, kind, None)
        if obj is not None:
            return _media(kind, obj)
    return None


def _media(kind: MediaKind, obj: Any) -> Media:
    width = getattr(obj, "width", None)
    height = getattr(obj, "height", None)
    if kind == "video_note":
        # Round videos are square: pyrogram gives one side as ``length``.
        width = height = getattr(obj, "length", None)
    duration = getattr(obj, "duration", None)
    return Media(
        kind=kind,
        file_id=obj.file_id,
        file_unique_id=obj.file_unique_id,
        file_name=getattr(obj, "file_name", None) or None,
        mime_type=getattr(obj, "mime_type", None) or ("image/jpeg" if kind == "photo" else None),
        file_size=getattr(obj, "file_size", None),
        # Telegram stores durations as doubles for videos; the kernel keeps whole seconds.
        duration=int(duration) if duration is not None else None,
        width=width,
        height=height,
        title=getattr(obj, "title", None) or None,
        performer=getattr(obj, "performer", None) or None,
    )


def message_from_pyrogram(message: pt.Message) -> Message | None:
    """A kernel :class:`~mediabot.Message`, or ``None`` for empty and service messages."""
    if message is None or message.empty or message.service or message.chat is None:
        return None
    text = str(message.text) if message.text is not None else None
    caption = str(message.caption) if message.caption is not None else None
    media = media_from_pyrogram(message)
    if text is None and media is None and caption is None:
        # Stickers, polls, locations...: nothing the kernel's plugins read.
        return None
    chat = chat_from_pyrogram(message.chat)
    return Message(
        id=message.id,
        chat=chat,
        date=unix_seconds(message.date),
        from_user=user_from_pyrogram(message.from_user) if message.from_user is not None else None,
        # A channel's post, a message sent as a channel, an anonymous admin's (the group).
        sender_chat=chat_from_pyrogram(message.sender_chat) if message.sender_chat is not None else None,
        text=text,
        caption=caption,
        media=media,
        reply_to_message_id=message.reply_to_message_id,
        media_group_id=str(message.media_group_id) if message.media_group_id is not None else None,
        keyboard=keyboard_from_pyrogram(message.reply_markup),
    )


def edited_from_pyrogram(message: pt.Message) -> MessageEdited | None:
    """A :class:`~mediabot.MessageEdited` for an edited message, or ``None`` when nothing readable is left."""
    converted = message_from_pyrogram(message)
    return MessageEdited(message=converted) if converted is not None else None


def deleted_from_pyrogram(messages: list[pt.Message]) -> list[MessagesDeleted]:
    """Deleted messages (pyrogram hands them as a list), one :class:`~mediabot.MessagesDeleted` per chat."""
    by_chat: dict[int | None, list[int]] = {}
    for m in messages or ():
        if not m.id:
            continue  # ephemeral (business) deletions carry no message id
        chat_id = m.chat.id if m.chat is not None else None
        by_chat.setdefault(chat_id, []).append(m.id)
    return [MessagesDeleted(chat_id=c, message_ids=sorted(ids)) for c, ids in by_chat.items()]


def callback_from_pyrogram(query: pt.CallbackQuery) -> CallbackQuery:
    data = query.data
    if isinstance(data, bytes):
        # pyrogram hands over bytes when the data is not UTF-8: never ours, so
        # keep it visible (and failing its signature check) rather than crash.
        data = data.decode("utf-8", "replace")
    return CallbackQuery(
        id=str(query.id),
        from_user=user_from_pyrogram(query.from_user),
        data=data or "",
        message=message_from_pyrogram(query.message) if query.message is not None else None,
        chat_instance=query.chat_instance or "",
    )


def inline_from_pyrogram(query: pt.InlineQuery) -> InlineQuery:
    chat_type = _CHAT_TYPES.get(query.chat_type) if query.chat_type is not None else None
    return InlineQuery(
        id=str(query.id),
        from_user=user_from_pyrogram(query.from_user),
        query=query.query or "",
        offset=query.offset or "",
        chat_type=chat_type,
    )


def keyboard_from_pyrogram(markup: Any) -> Keyboard | None:
    """Our keyboard from an inline markup; ``None`` for no markup or a reply keyboard."""
    if not isinstance(markup, pt.InlineKeyboardMarkup):
        return None
    rows: Keyboard = []
    for row in markup.inline_keyboard:
        out = []
        for b in row:
            data = b.callback_data
            if isinstance(data, bytes):
                data = data.decode("utf-8", "replace")
            switch = b.switch_inline_query
            if switch is None:
                switch = b.switch_inline_query_current_chat
            out.append(Button(text=b.text, callback=data, url=b.url, switch_inline=switch))
        rows.append(out)
    return rows


def keyboard_to_pyrogram(keyboard: Keyboard | None) -> pt.InlineKeyboardMarkup | None:
    """Pyrogram's inline markup for our keyboard; ``None`` for no (or an empty) keyboard.

    :raises ValueError: a button has no action or more than one, or its
        callback data exceeds Telegram's 64 bytes (Telegram would refuse the
        whole message with ``BUTTON_DATA_INVALID``; this names the button).
    """
    if not keyboard:
        return None
    rows = []
    for row in keyboard:
        out = []
        for b in row:
            actions = [a for a in (b.callback, b.url, b.switch_inline) if a is not None]
            if len(actions) != 1:
                raise ValueError(f"button {b.text!r} needs exactly one of callback, url, switch_inline")
            if b.callback is not None and len(b.callback.encode()) > 64:
                raise ValueError(f"button {b.text!r}: callback data is {len(b.callback.encode())} bytes, "
                                 "Telegram allows 64")
            out.append(pt.InlineKeyboardButton(text=b.text, callback_data=b.callback, url=b.url,
                                               switch_inline_query=b.switch_inline))
        if out:
            rows.append(out)
    return pt.InlineKeyboardMarkup(rows) if rows else None


def inline_result_to_pyrogram(result: InlineResult) -> Any:
    """Pyrogram's inline result for ours: an article, or the cached file kind ``file_id`` denotes.

    :raises ValueError: ``file_id`` is not a valid file id.
    """
    markup = keyboard_to_pyrogram(result.keyboard)
    if result.text is not None:
        content = pt.InputTextMessageContent(result.text, parse_mode=enums.ParseMode.DISABLED)
        return pt.InlineQueryResultArticle(title=result.title, input_message_content=content, id=result.id,
                                           description=result.description, reply_markup=markup)
    assert result.file_id is not None  # InlineResult guarantees one of the two
    try:
        file_type = FileId.decode(result.file_id).file_type
    except Exception as exc:
        raise ValueError(f"inline result {result.id!r}: invalid file_id {result.file_id!r}") from exc
    common: dict[str, Any] = dict(id=result.id, caption=result.caption or "",
                                  parse_mode=enums.ParseMode.DISABLED, reply_markup=markup)
    if file_type == FileType.VIDEO:
        return pt.InlineQueryResultCachedVideo(video_file_id=result.file_id, title=result.title,
                                               description=result.description, **common)
    if file_type == FileType.AUDIO:
        # Telegram shows an audio's own title and performer; there is no title field.
        return pt.InlineQueryResultCachedAudio(audio_file_id=result.file_id, **common)
    if file_type == FileType.PHOTO:
        return pt.InlineQueryResultCachedPhoto(photo_file_id=result.file_id, title=result.title,
                                               description=result.description, **common)
    return pt.InlineQueryResultCachedDocument(document_file_id=result.file_id, title=result.title,
                                              description=result.description, **common)
