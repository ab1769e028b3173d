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
MediaKind = Literal["document", "video", "audio", "photo", "animation", "voice", "video_note", "sticker"]
#: Where a user stands in a chat. ``restricted`` users may still be members (see :attr:`ChatMember.is_member`).
MemberStatus = Literal["owner", "administrator", "member", "restricted", "left", "banned"]
#: The statuses of someone who is in the chat (a restricted user is in it when ``is_member`` says so).
_IN_CHAT: frozenset[str] = frozenset(("owner", "administrator", "member"))


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
    #: A sticker's emoji (``sticker`` kind only).
    emoji: str | None = None


class Payment(msgspec.Struct, frozen=True, kw_only=True):
    """A successful payment to the bot, carried by a service :class:`Message`.

    :param currency: ``XTR`` for Telegram Stars.
    :param total_amount: in the currency's smallest unit (Stars: whole Stars).
    :param invoice_payload: the payload the bot put in the invoice.
    :param telegram_payment_charge_id: Telegram's id of the charge (what a refund names).
    :param provider_payment_charge_id: the payment provider's id (empty for Stars).
    """

    currency: str
    total_amount: int
    invoice_payload: str
    telegram_payment_charge_id: str
    provider_payment_charge_id: str | None = None


class Invoice(msgspec.Struct, frozen=True, kw_only=True):
    """An invoice the bot sent (``app.telegram.send_invoice``): what the user is asked to pay.

    :param currency: ``XTR`` for Telegram Stars.
    :param total_amount: in the currency's smallest unit (Stars: whole Stars).
    """

    title: str
    description: str
    currency: str
    total_amount: int


class AlbumItem(msgspec.Struct, frozen=True, kw_only=True):
    """One file of an album sent with ``app.telegram.send_album``.

    :param media: a ``file_id`` Telegram has (photo, video, audio or document),
        or an ``http(s)`` URL of a photo.
    :param caption: shown under this file.
    """

    media: str
    caption: str | None = None


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
    :param html: the text (or caption) with its entities (bold, links, mentions...)
        as Telegram HTML, ready to send again with ``html=True``; ``None``
        when the message has neither text nor caption.
    :param payment: a successful payment (a service message with no text or media).
    :param invoice: the invoice this message is (one the bot sent).
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
    html: str | None = None
    payment: Payment | None = None
    invoice: Invoice | None = None

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


class InviteLink(msgspec.Struct, frozen=True, kw_only=True):
    """An invite link of a group or channel.

    :param link: the ``https://t.me/+...`` link.
    :param name: the label the admin gave it.
    :param creates_join_request: joining through it sends a :class:`JoinRequest` instead.
    :param is_revoked: the link no longer works.
    :param expire_date: Unix seconds after which it stops working, if any.
    :param member_limit: how many users may join through it, if limited.
    :param is_primary: the chat's main link.
    """

    link: str
    name: str | None = None
    creates_join_request: bool = False
    is_revoked: bool = False
    expire_date: int | None = None
    member_limit: int | None = None
    is_primary: bool = False


class ChatMember(msgspec.Struct, frozen=True, kw_only=True):
    """A user's standing in a chat (the answer of ``app.telegram.get_member``).

    :param is_member: for ``restricted``: the user is still in the chat.
    """

    user: User
    status: MemberStatus
    is_member: bool = False

    @property
    def in_chat(self) -> bool:
        """In the chat now: owner, admin, member, or restricted but still a member."""
        return _in_chat(self.status, self.is_member)


class ChatMemberUpdated(msgspec.Struct, frozen=True, kw_only=True, tag="chat_member"):
    """Someone's membership of a group or channel changed (Bot API ``chat_member`` / ``my_chat_member``).

    Telegram tells a bot about its own membership everywhere (added to a
    group, made a channel admin, removed) and about other users' only in
    chats it administers.

    :param chat: the group or channel.
    :param user: whose membership changed.
    :param actor: who made the change (the user themselves when they joined or left).
    :param old_status: before the change (``left`` when they were not in the chat).
    :param new_status: after the change (``left`` when they are no longer in it).
    :param date: Unix seconds of the change.
    :param invite_link: the link the user joined by, when Telegram says.
    :param via_join_request: the user was let in by an approved join request to a public
        chat (a request through an invite link shows as ``invite_link.creates_join_request``).
    :param is_bot: the change is about the bot itself (``my_chat_member``).
    :param old_is_member: with ``old_status="restricted"``: the user was still in the chat.
    :param new_is_member: with ``new_status="restricted"``: the user is still in the chat.
    """

    chat: Chat
    user: User
    actor: User
    old_status: MemberStatus
    new_status: MemberStatus
    date: int
    invite_link: InviteLink | None = None
    via_join_request: bool = False
    is_bot: bool = False
    old_is_member: bool = False
    new_is_member: bool = False

    @property
    def joined(self) -> bool:
        """The user was not in the chat and now is."""
        return not _in_chat(self.old_status, self.old_is_member) and _in_chat(self.new_status, self.new_is_member)

    @property
    def left(self) -> bool:
        """The user was in the chat and no longer is (left, removed or banned)."""
        return _in_chat(self.old_status, self.old_is_member) and not _in_chat(self.new_status, self.new_is_member)

    @property
    def from_user(self) -> User:
        return self.actor

    @property
    def sender_id(self) -> int:
        return self.actor.id


def _in_chat(status: MemberStatus, is_member: bool) -> bool:
    return status in _IN_CHAT or (status == "restricted" and is_member)


class JoinRequest(msgspec.Struct, frozen=True, kw_only=True, tag="join_request"):
    """A user asked to join a chat through a link that ``creates_join_request`` (the bot is an admin there).

    Answer with ``app.telegram.approve_join_request`` or ``decline_join_request``.

    :param bio: the user's bio, if any.
    :param invite_link: the link they used.
    """

    chat: Chat
    from_user: User
    date: int
    invite_link: InviteLink | None = None
    bio: str | None = None

    @property
    def sender_id(self) -> int:
        return self.from_user.id


class PreCheckoutQuery(msgspec.Struct, frozen=True, kw_only=True, tag="pre_checkout"):
    """A user confirmed an invoice's payment; the bot must answer within 10 seconds.

    Answer with ``app.telegram.answer_pre_checkout(id, ok=True)`` (or an
    ``error`` the user sees); after an ok, a :class:`Message` with a
    :class:`Payment` follows.

    :param currency: ``XTR`` for Telegram Stars.
    :param total_amount: in the currency's smallest unit (Stars: whole Stars).
    :param invoice_payload: the payload the bot put in the invoice.
    """

    id: str
    from_user: User
    currency: str
    total_amount: int
    invoice_payload: str

    @property
    def sender_id(self) -> int:
        return self.from_user.id


Update = (Message | CallbackQuery | InlineQuery | MessageEdited | MessagesDeleted | ChatMemberUpdated | JoinRequest
          | PreCheckoutQuery)


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
