"""The typed shapes of the services on :class:`~mediabot.App` that have more than one implementation.

Plugins type against these Protocols (exported from :mod:`mediabot`), never
against a concrete class: ``app.telegram`` is the production gateway in a
bot and the same gateway over the fake client in tests; ``app.sessions`` and
``app.ratelimiter`` are the Redis services with ``MEDIABOT_REDIS_URL`` and
the in-process ones without. The kernel's classes satisfy them structurally,
and mypy checks that they do wherever the kernel hands one out as the other.

This module imports neither pyrogram nor redis: importing :mod:`mediabot`
stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol, TypeVar

from mediabot.core.rate import Decision, Rate
from mediabot.core.telegram.pacing import Priority
from mediabot.core.types import AlbumItem, Chat, ChatMember, InlineResult, InviteLink, Keyboard, Message, User

__all__ = ["Priority", "RateLimits", "Sessions", "Telegram"]

S = TypeVar("S")


class Telegram(Protocol):
    """``app.telegram``: everything plugins send to or read from Telegram.

    Every call goes through the kernel's flood control (pacing, FloodWaits,
    retries); errors are :class:`~mediabot.TelegramError` subclasses. See
    :mod:`mediabot.core.telegram.gateway` for the behaviour behind each method.
    """

    #: The bot's own account, known once the gateway has started.
    me: User | None
    #: FloodWaits Telegram answered to this process's sends (a bulk sender slows down when it grows).
    send_flood_waits: int

    async def send_text(self, chat_id: int, text: str, *, keyboard: Keyboard | None = None,
                        reply_to: int | None = None, html: bool = False, silent: bool = False,
                        protect_content: bool = False, priority: Priority = "reply") -> Message:
        """Send a text message (``html``: read ``text`` as Telegram HTML)."""
        ...

    async def send_media(self, chat_id: int, file_id: str, *, caption: str | None = None,
                         keyboard: Keyboard | None = None, html: bool = False,
                         protect_content: bool = False, silent: bool = False,
                         priority: Priority = "reply") -> Message:
        """Send a file Telegram already has, by ``file_id``."""
        ...

    async def send_document(self, chat_id: int, data: bytes, *, filename: str, caption: str | None = None,
                            html: bool = False, silent: bool = False, protect_content: bool = False,
                            priority: Priority = "reply") -> Message:
        """Upload ``data`` (not empty) as a document named ``filename``, from memory."""
        ...

    async def copy_message(self, chat_id: int, from_chat_id: int, message_id: int, *,
                           caption: str | None = None, keyboard: Keyboard | None = None,
                           keep_keyboard: bool = False, silent: bool = False, protect_content: bool = False,
                           priority: Priority = "reply") -> Message:
        """Copy a message (no "forwarded from" header)."""
        ...

    async def copy_album(self, chat_id: int, from_chat_id: int, message_id: int, *, size: int = 10,
                         silent: bool = False, protect_content: bool = False,
                         priority: Priority = "reply") -> list[Message]:
        """Copy the album ``message_id`` belongs to."""
        ...

    async def send_photo(self, chat_id: int, photo: str, *, caption: str | None = None,
                         keyboard: Keyboard | None = None, html: bool = False, protect_content: bool = False,
                         silent: bool = False, priority: Priority = "reply") -> Message:
        """Send a photo by ``file_id`` or ``http(s)`` URL."""
        ...

    async def send_album(self, chat_id: int, items: Sequence[AlbumItem], *, html: bool = False,
                         protect_content: bool = False, silent: bool = False,
                         priority: Priority = "reply") -> list[Message]:
        """Send 2-10 files as one album."""
        ...

    async def send_invoice(self, chat_id: int, *, title: str, description: str, payload: str,
                           prices: Sequence[tuple[str, int]], currency: str = "XTR",
                           keyboard: Keyboard | None = None, protect_content: bool = False,
                           silent: bool = False, priority: Priority = "reply") -> Message:
        """Send an invoice (Telegram Stars by default)."""
        ...

    async def pin(self, chat_id: int, message_id: int, *, silent: bool = True,
                  priority: Priority = "reply") -> None:
        """Pin a message."""
        ...

    async def edit_text(self, chat_id: int, message_id: int, text: str, *, keyboard: Keyboard | None = None,
                        html: bool = False) -> None:
        """Replace a message's text (and keyboard)."""
        ...

    async def edit_caption(self, chat_id: int, message_id: int, caption: str, *,
                           keyboard: Keyboard | None = None, html: bool = False) -> None:
        """Replace a file's caption (and keyboard)."""
        ...

    async def edit_media(self, chat_id: int, message_id: int, media: str, *, caption: str | None = None,
                         keyboard: Keyboard | None = None, html: bool = False) -> None:
        """Replace a message's file (a ``file_id``, or a photo URL)."""
        ...

    async def edit_keyboard(self, chat_id: int, message_id: int, keyboard: Keyboard | None) -> None:
        """Replace (or remove, with ``None``) a message's keyboard."""
        ...

    async def delete(self, chat_id: int, message_ids: int | Sequence[int]) -> None:
        """Delete messages."""
        ...

    async def answer_callback(self, callback_id: str, text: str | None = None, *, alert: bool = False) -> None:
        """Answer a button press (a toast, or an alert with ``alert=True``)."""
        ...

    async def answer_inline(self, query_id: str, results: list[InlineResult], *, next_offset: str = "",
                            cache_time: int = 0, personal: bool = True) -> None:
        """Answer an inline query."""
        ...

    async def answer_pre_checkout(self, query_id: str, *, ok: bool = True, error: str | None = None) -> None:
        """Accept a pre-checkout query, or refuse it with ``error``."""
        ...

    async def refund_stars(self, user_id: int, charge_id: str) -> None:
        """Give a Telegram Stars payment back."""
        ...

    async def set_commands(self, commands: list[tuple[str, str]], *,
                           scope: Literal["users", "admins"] = "users", chat_id: int | None = None) -> None:
        """Set the bot's command menu for users or admins (the kernel does it at start from the registry)."""
        ...

    async def download(self, file_id: str, *, max_size: int) -> bytes:
        """The bytes of a file Telegram has (a document a user sent), into memory; at most ``max_size`` bytes."""
        ...

    async def read_channel(self, chat_id: int, ids: Sequence[int]) -> list[Message]:
        """Messages of a chat by id (missing ones are left out)."""
        ...

    async def album(self, chat_id: int, message_id: int) -> list[Message]:
        """The messages of the album ``message_id`` belongs to."""
        ...

    async def is_member(self, chat_id: int | str, user_id: int) -> bool:
        """Whether ``user_id`` is a member of ``chat_id``."""
        ...

    async def get_member(self, chat_id: int | str, user_id: int) -> ChatMember:
        """``user_id``'s status in ``chat_id`` (``left`` when not a participant)."""
        ...

    async def member_count(self, chat_id: int | str) -> int:
        """How many members a group or channel has."""
        ...

    async def create_invite_link(self, chat_id: int | str, *, name: str | None = None,
                                 expire_date: int | None = None, member_limit: int | None = None,
                                 creates_join_request: bool = False) -> InviteLink:
        """A new invite link (``creates_join_request``: joining asks the bot first)."""
        ...

    async def revoke_invite_link(self, chat_id: int | str, link: str) -> InviteLink:
        """Make an invite link stop working."""
        ...

    async def approve_join_request(self, chat_id: int | str, user_id: int) -> None:
        """Let a user who asked to join in."""
        ...

    async def decline_join_request(self, chat_id: int | str, user_id: int) -> None:
        """Refuse a user who asked to join."""
        ...

    async def leave_chat(self, chat_id: int | str) -> None:
        """The bot leaves a group or channel."""
        ...

    async def resolve_chat(self, ref: int | str) -> Chat:
        """A chat by id or ``@username``."""
        ...


class Sessions(Protocol):
    """``app.sessions``: small per-user state with a time to live (``ctx.session`` uses it).

    ``namespace(kind)`` gives the store of one kind of state; values are
    msgspec-encodable and read back as ``type_``.
    """

    @property
    def kind(self) -> str:
        """The namespace of this store."""
        ...

    def namespace(self, kind: str, *, ttl: float | None = None) -> Sessions:
        """The store for ``kind`` (``ttl`` default: ``[services] session_ttl``)."""
        ...

    async def get(self, user_id: int, type_: type[S]) -> S | None:
        """The user's value, decoded as ``type_``; ``None`` when absent or expired."""
        ...

    async def set(self, user_id: int, value: Any, ttl: float | None = None) -> None:
        """Store the user's value (any msgspec-encodable value)."""
        ...

    async def delete(self, user_id: int) -> None:
        """Forget the user's value."""
        ...


class RateLimits(Protocol):
    """``app.ratelimiter``: GCRA rate limits, shared through Redis when the deployment has it."""

    async def check(self, key: str, rate: Rate) -> Decision:
        """Take one unit for ``key`` at ``rate``; the decision says whether it was allowed."""
        ...
