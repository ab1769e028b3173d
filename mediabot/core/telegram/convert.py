"""Pyrogram objects to kernel types, and kernel keyboards to pyrogram's.

The only place that knows both worlds: plugins see :mod:`mediabot.core.types`
and nothing of pyrogram. Every function takes what pyrogram's own parsers
produce (``pyrogram.types.*``) and returns a frozen kernel struct, or
``None`` for what the kernel does not handle (service messages other than
payments, empty messages, polls...).

Dates: pyrogram turns Telegram's Unix timestamps into *naive local*
datetimes (``datetime.fromtimestamp``); ``datetime.timestamp()`` on such a
value gives the original Unix seconds back, whatever the server's time zone.
"""

from __future__ import annotations

from datetime import datetime
from html import escape as html_escape
from typing import Any

from pyrogram import enums
from pyrogram import types as pt
from pyrogram.file_id import FileId, FileType

from mediabot.core.telegram.text import utf16_len
from mediabot.core.types import (
    PRIVATE_CHAT_TYPES,
    Button,
    CallbackQuery,
    Chat,
    ChatMember,
    ChatMemberUpdated,
    ChatType,
    InlineQuery,
    InlineResult,
    InviteLink,
    Invoice,
    JoinRequest,
    Keyboard,
    Media,
    MediaKind,
    MemberStatus,
    Message,
    MessageEdited,
    MessagesDeleted,
    Payment,
    PreCheckoutQuery,
    User,
)

__all__ = [
    "callback_from_pyrogram",
    "chat_from_pyrogram",
    "chat_member_from_pyrogram",
    "deleted_from_pyrogram",
    "edited_from_pyrogram",
    "inline_from_pyrogram",
    "inline_result_to_pyrogram",
    "invite_link_from_pyrogram",
    "join_request_from_pyrogram",
    "keyboard_from_pyrogram",
    "keyboard_to_pyrogram",
    "media_from_pyrogram",
    "member_updated_from_pyrogram",
    "message_from_pyrogram",
    "payment_from_pyrogram",
    "pre_checkout_from_pyrogram",
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
    "video_note", "animation", "voice", "audio", "video", "photo", "sticker", "document",
)

_MEMBER_STATUSES: dict[enums.ChatMemberStatus, MemberStatus] = {
    enums.ChatMemberStatus.OWNER: "owner",
    enums.ChatMemberStatus.ADMINISTRATOR: "administrator",
    enums.ChatMemberStatus.MEMBER: "member",
    enums.ChatMemberStatus.RESTRICTED: "restricted",
    enums.ChatMemberStatus.LEFT: "left",
    enums.ChatMemberStatus.BANNED: "banned",
}


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
        emoji=(getattr(obj, "emoji", None) or None) if kind == "sticker" else None,
    )


def message_from_pyrogram(message: pt.Message) -> Message | None:
    """A kernel :class:`~mediabot.Message`, or ``None`` for empty and service messages (payments excepted)."""
    if message is None or message.empty or message.chat is None:
        return None
    payment = payment_from_pyrogram(message.successful_payment)
    if message.service and payment is None:
        return None
    text = str(message.text) if message.text is not None else None
    caption = str(message.caption) if message.caption is not None else None
    media = media_from_pyrogram(message)
    invoice = message.invoice
    if text is None and media is None and caption is None and payment is None and invoice is None:
        # Polls, locations, dice...: nothing the kernel's plugins read.
        return None
    body = message.text if message.text is not None else message.caption
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
        # pyrogram's own unparser: entities back to the HTML that sends them again.
        html=_html(body),
        payment=payment,
        invoice=Invoice(title=invoice.title or "", description=invoice.description or "",
                        currency=invoice.currency, total_amount=invoice.total_amount) if invoice else None,
    )


def _html(body: Any) -> str | None:
    if body is None:
        return None
    entities = list(getattr(body, "entities", None) or [])
    text = str(body)
    if not entities:
        return html_escape(text, quote=False)
    # pyrogram's unparser escapes only the text between the first tag and the last one: what
    # comes before or after (or a text without entities) would be read back as markup. One bold
    # entity around the whole text puts everything between tags; its own tags are then cut off.
    from pyrogram.parser.html import HTML

    whole = pt.MessageEntity(type=enums.MessageEntityType.BOLD, offset=0, length=utf16_len(text))
    out = str(HTML.unparse(text, [whole, *entities]))
    return out[len("<b>"):-len("</b>")]


def payment_from_pyrogram(payment: pt.SuccessfulPayment | None) -> Payment | None:
    """A payment *to* the bot (pyrogram also parses the payer's side, which has no charge id)."""
    if payment is None or not payment.telegram_payment_charge_id:
        return None
    payload = payment.invoice_payload
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8", "replace")
    return Payment(currency=payment.currency, total_amount=payment.total_amount, invoice_payload=payload or "",
                   telegram_payment_charge_id=payment.telegram_payment_charge_id,
                   provider_payment_charge_id=payment.provider_payment_charge_id or None)


def invite_link_from_pyrogram(link: pt.ChatInviteLink | None) -> InviteLink | None:
    if link is None:
        return None
    return InviteLink(link=link.invite_link, name=link.name or None,
                      creates_join_request=bool(link.creates_join_request), is_revoked=bool(link.is_revoked),
                      expire_date=unix_seconds(link.expire_date) or None, member_limit=link.member_limit or None,
                      is_primary=bool(link.is_primary))


def _status(member: pt.ChatMember | None) -> MemberStatus:
    # Telegram leaves a side out when the user was (or is no longer) in the chat.
    if member is None:
        return "left"
    return _MEMBER_STATUSES.get(member.status, "member")


def chat_member_from_pyrogram(member: pt.ChatMember) -> ChatMember:
    """A user's standing in a chat; raises ``ValueError`` for a chat banned as a whole (no user)."""
    if member.user is None:
        raise ValueError("the member is a chat, not a user")
    return ChatMember(user=user_from_pyrogram(member.user), status=_status(member),
                      is_member=bool(member.is_member))


def member_updated_from_pyrogram(update: pt.ChatMemberUpdated, bot_id: int | None = None) -> ChatMemberUpdated | None:
    """A :class:`~mediabot.ChatMemberUpdated`; ``None`` when no user's membership is described.

    :param bot_id: the bot's own id, to tell ``my_chat_member`` from ``chat_member``.
    """
    old, new = update.old_chat_member, update.new_chat_member
    subject = next((m.user for m in (new, old) if m is not None and m.user is not None), None)
    if subject is None or update.chat is None or update.from_user is None:
        return None  # a chat (not a user) banned from a channel
    user = user_from_pyrogram(subject)
    return ChatMemberUpdated(
        chat=chat_from_pyrogram(update.chat), user=user, actor=user_from_pyrogram(update.from_user),
        old_status=_status(old), new_status=_status(new), date=unix_seconds(update.date),
        invite_link=invite_link_from_pyrogram(update.invite_link), via_join_request=bool(update.via_join_request),
        is_bot=bot_id is not None and user.id == bot_id,
        old_is_member=bool(old is not None and old.is_member), new_is_member=bool(new is not None and new.is_member))


def join_request_from_pyrogram(request: pt.ChatJoinRequest) -> JoinRequest:
    return JoinRequest(chat=chat_from_pyrogram(request.chat), from_user=user_from_pyrogram(request.from_user),
                       date=unix_seconds(request.date), invite_link=invite_link_from_pyrogram(request.invite_link),
                       bio=request.bio or None)


def pre_checkout_from_pyrogram(query: pt.PreCheckoutQuery) -> PreCheckoutQuery:
    payload = query.invoice_payload
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8", "replace")
    return PreCheckoutQuery(id=str(query.id), from_user=user_from_pyrogram(query.from_user), currency=query.currency,
                            total_amount=query.total_amount, invoice_payload=payload or "")


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
