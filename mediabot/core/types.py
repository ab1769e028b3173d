"""Kernel update types: what plugins receive, independent of the Telegram library.

They are msgspec structs, frozen, so a handler cannot change what another
handler sees, and they encode to JSON/msgpack for logs, scripts and queues.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from mediabot.core.commands import parse_command

ChatType = Literal["private", "group", "supergroup", "channel", "bot"]
#: The chat kinds that are a one-to-one conversation with the bot: what ``Chat.is_private`` means.
PRIVATE_CHAT_TYPES: frozenset[str] = frozenset(("private", "bot"))
MediaKind = Literal["document", "video", "audio", "photo", "animation", "voice", "video_note"]


class User(msgspec.Struct, frozen=True, kw_only=True):
    """A Telegram user."""

    id: int
    first_name: str = ""
    last_name: str | None = None
    username: str | None = None
    language: str | None = None
    is_bot: bool = False

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or (self.username or str(self.id))


class Chat(msgspec.Struct, frozen=True, kw_only=True):
    """A chat: private conversation, group, supergroup or channel."""

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None

    @property
    def is_private(self) -> bool:
        """A one-to-one conversation with the bot (the one test of a chat's kind the kernel makes)."""
        return self.type in PRIVATE_CHAT_TYPES

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")


class Media(msgspec.Struct, frozen=True, kw_only=True):
    """A file attached to a message.

    ``file_unique_id`` is stable across bots and time (the catalogue key);
    ``file_id`` is what this bot sends the file back with.
    """

    kind: MediaKind
    file_id: str
    file_unique_id: str
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    duration: int | None = None
    width: int | None = None
    height: int | None = None
    title: str | None = None
    performer: str | None = None


class Message(msgspec.Struct, frozen=True, kw_only=True, tag="message"):
    """A message in a private chat or a group, or a channel post.

    :param id: message id, unique within its chat.
    :param date: Unix time in seconds (UTC).
    :param from_user: the sender; ``None`` when no user account sent it: a
        channel post, a group message sent as a channel, or one sent by an
        anonymous group admin (see :attr:`sender_id`).
    :param sender_chat: the chat a message was sent as: the channel for a
        channel post or a message sent as a channel, the group itself for an
        anonymous group admin; ``None`` when a user sent it as themselves.
    :param keyboard: the inline keyboard attached to the message, if any.
    """

    id: int
    chat: Chat
    date: int
    from_user: User | None = None
    sender_chat: Chat | None = None
    text: str | None = None
    caption: str | None = None
    media: Media | None = None
    reply_to_message_id: int | None = None
    media_group_id: str | None = None
    keyboard: Keyboard | None = None

    @property
    def is_channel_post(self) -> bool:
        return self.chat.type == "channel"

    @property
    def sender_id(self) -> int:
        """Who the message is from, for bans and rate limits.

        The user when a user account sent it; otherwise the chat it was sent
        as (a channel posting, or a message sent as a channel: the channel's
        id; an anonymous group admin: the group's id); a channel post with no
        sender chat is the channel's.
        """
        if self.from_user is not None:
            return self.from_user.id
        return (self.sender_chat or self.chat).id

    @property
    def command(self) -> tuple[str, str] | None:
        """``("name", "args")`` for ``/name@bot args``, else ``None``.

        Parsed exactly as the dispatcher parses it (``/usr/bin`` is no command).
        """
        parsed = parse_command(self.text) if self.text else None
        return (parsed[0], parsed[2]) if parsed is not None else None


class CallbackQuery(msgspec.Struct, frozen=True, kw_only=True, tag="callback"):
    """A press on an inline keyboard button.

    ``data`` is the raw callback data; the kernel verifies its signature
    before any plugin sees it.
    """

    id: str
    from_user: User
    data: str
    message: Message | None = None
    chat_instance: str = ""

    @property
    def sender_id(self) -> int:
        return self.from_user.id


class InlineQuery(msgspec.Struct, frozen=True, kw_only=True, tag="inline"):
    """Text typed after ``@botname`` in any chat."""

    id: str
    from_user: User
    query: str
    offset: str = ""
    chat_type: str | None = None

    @property
    def sender_id(self) -> int:
        return self.from_user.id


class MessageEdited(msgspec.Struct, frozen=True, kw_only=True, tag="edited"):
    """A message (or channel post) was edited: its new text, caption or media.

    :param message: the message as it is now.
    """

    message: Message

    @property
    def from_user(self) -> User | None:
        return self.message.from_user

    @property
    def sender_id(self) -> int:
        return self.message.sender_id


class MessagesDeleted(msgspec.Struct, frozen=True, kw_only=True, tag="deleted"):
    """Messages were deleted.

    Telegram tells a bot about deletions in channels (where the bot is an
    admin); for other chats ``chat_id`` may be unknown (``None``).

    :param chat_id: the chat, when Telegram says which.
    :param message_ids: the deleted messages' ids.
    """

    chat_id: int | None
    message_ids: list[int]

    @property
    def from_user(self) -> User | None:
        return None

    @property
    def sender_id(self) -> int | None:
        return None


Update = Message | CallbackQuery | InlineQuery | MessageEdited | MessagesDeleted


class Reservation(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery plugin's answer to ``mediabot_delivery_reserve``: how many files may go now.

    :param granted: files that may be sent (0 refuses the delivery).
    :param message: what to tell the user when fewer than asked may go
        (e.g. "3 files left today; resets in 5 h"), or ``None``.
    :param id: the plugin's own handle for the reservation, handed back to
        ``mediabot_delivery_settle``.
    :param lease_expires: when the plugin takes back what was reserved and
        never settled (the process died mid-delivery); ``None``: no lease.
    """

    granted: int
    message: str | None = None
    id: str = ""
    lease_expires: datetime | None = None

    def __post_init__(self) -> None:
        if self.granted < 0:
            raise ValueError("granted cannot be negative")


class GateRefusal(msgspec.Struct, frozen=True, kw_only=True):
    """A gate's answer when a user may not do something (yet).

    :param text: what the user is told, e.g. "Join @films first, then try again."
    :param keyboard: buttons that help (a URL button to the channel...).
    """

    text: str
    keyboard: Keyboard | None = None


class Button(msgspec.Struct, frozen=True, kw_only=True):
    """An inline keyboard button: exactly one of ``callback``, ``url``, ``switch_inline``."""

    text: str
    callback: str | None = None
    url: str | None = None
    switch_inline: str | None = None


Keyboard = list[list[Button]]


class InlineResult(msgspec.Struct, frozen=True, kw_only=True):
    """One result of an answer to an inline query.

    Either a file the bot already has (``file_id``: sent as the cached
    document, video or audio the id denotes) or a text article (``text``).

    :param id: unique within one answer; 1-64 bytes.
    :param title: the line shown in the result list.
    :param file_id: a cached file to send when the result is chosen.
    :param text: the message text to send when the result is chosen (article).
    :param description: a second, smaller line in the result list.
    :param caption: caption of the file sent (file results only).
    :param keyboard: inline keyboard attached to the sent message.
    """

    id: str
    title: str
    file_id: str | None = None
    text: str | None = None
    description: str | None = None
    caption: str | None = None
    keyboard: Keyboard | None = None

    def __post_init__(self) -> None:
        if (self.file_id is None) == (self.text is None):
            raise ValueError(f"inline result {self.id!r}: give exactly one of file_id and text")
        if not 1 <= len(self.id.encode()) <= 64:
            raise ValueError(f"inline result id {self.id!r} must be 1-64 bytes")


class HealthReport(msgspec.Struct, frozen=True, kw_only=True):
    """One component's health, as plugins report it through ``mediabot_health``.

    :param component: e.g. ``redis``, ``mongo:main``, ``indexer.queue``.
    :param status: ``ok``; ``degraded`` (serving with reduced function); ``down``.
    :param detail: one human line.
    """

    component: str
    status: Literal["ok", "degraded", "down"]
    detail: str = ""
