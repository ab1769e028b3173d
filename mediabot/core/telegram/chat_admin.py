"""The gateway's methods for the groups and channels a bot manages: members, invite links, join requests.

A mixin of :class:`~mediabot.core.telegram.gateway.Gateway`: every call
goes through the gateway's flood control like the others (``read`` for
member lookups, ``edit`` for the rest), and Telegram's refusals arrive as
:class:`~mediabot.PermanentTelegramError` (an answered join request:
``bad_request`` with ``HideRequesterMissing`` as ``original``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from mediabot.core.telegram.convert import chat_member_from_pyrogram, invite_link_from_pyrogram
from mediabot.core.types import ChatMember, InviteLink, User

if TYPE_CHECKING:
    from mediabot.core.telegram.pacing import Priority

__all__ = ["ChatAdmin"]

T = TypeVar("T")


class ChatAdmin:
    """Members, invite links, join requests and leaving, for :class:`~mediabot.core.telegram.gateway.Gateway`."""

    if TYPE_CHECKING:
        client: Any

        async def _call(self, domain: str, method: str, fn: Callable[[], Awaitable[T]], *,
                        chat_id: int | None = None, priority: Priority = "reply", weight: int = 1) -> T: ...

    async def get_member(self, chat_id: int | str, user_id: int) -> ChatMember:
        """``user_id``'s standing in ``chat_id``: owner, administrator, member, restricted, left or banned.

        Someone Telegram says is not a participant is ``left``.
        :raises mediabot.PermanentTelegramError: the bot cannot look (``forbidden``, ``peer_invalid``).
        """
        from pyrogram.errors import UserNotParticipant

        async def look() -> Any:
            try:
                return await self.client.get_chat_member(chat_id=chat_id, user_id=user_id)
            except UserNotParticipant:
                return None

        member = await self._call("read", "get_chat_member", look)
        if member is None or member.user is None:
            return ChatMember(user=User(id=user_id), status="left")
        return chat_member_from_pyrogram(member)

    async def member_count(self, chat_id: int | str) -> int:
        """How many members a group or channel has.

        :raises ValueError: ``chat_id`` is a private chat (it has no member count).
        """
        count = await self._call("read", "get_chat_members_count",
                                 lambda: self.client.get_chat_members_count(chat_id=chat_id))
        return int(count or 0)

    async def create_invite_link(self, chat_id: int | str, *, name: str | None = None,
                                 expire_date: int | None = None, member_limit: int | None = None,
                                 creates_join_request: bool = False) -> InviteLink:
        """A new invite link to a group or channel the bot administers.

        :param expire_date: Unix seconds after which the link stops working.
        :param member_limit: how many users may join through it (1-99999).
        :param creates_join_request: joining sends a :class:`~mediabot.JoinRequest` the bot
            approves or declines (cannot be combined with ``member_limit``).
        """
        if creates_join_request and member_limit:
            raise ValueError("an invite link cannot both create join requests and limit its members")
        expires = datetime.fromtimestamp(expire_date) if expire_date else None
        link = await self._call("edit", "create_chat_invite_link", lambda: self.client.create_chat_invite_link(
            chat_id=chat_id, name=name, expire_date=expires, member_limit=member_limit,
            creates_join_request=creates_join_request or None))
        return self._link(link, "create_chat_invite_link")

    async def revoke_invite_link(self, chat_id: int | str, link: str) -> InviteLink:
        """Make ``link`` stop working; returns it as it is now (revoked)."""
        result = await self._call("edit", "revoke_chat_invite_link", lambda: self.client.revoke_chat_invite_link(
            chat_id=chat_id, invite_link=link))
        return self._link(result, "revoke_chat_invite_link")

    async def approve_join_request(self, chat_id: int | str, user_id: int) -> None:
        """Let ``user_id`` in (their :class:`~mediabot.JoinRequest`); a request is answered once.

        :raises mediabot.PermanentTelegramError: ``bad_request`` when there is no
            pending request (already answered: ``HideRequesterMissing``).
        """
        await self._call("edit", "approve_chat_join_request", lambda: self.client.approve_chat_join_request(
            chat_id=chat_id, user_id=user_id))

    async def decline_join_request(self, chat_id: int | str, user_id: int) -> None:
        """Refuse ``user_id``'s :class:`~mediabot.JoinRequest` (same errors as :meth:`approve_join_request`)."""
        await self._call("edit", "decline_chat_join_request", lambda: self.client.decline_chat_join_request(
            chat_id=chat_id, user_id=user_id))

    async def leave_chat(self, chat_id: int | str) -> None:
        """The bot leaves a group or channel (a ``ChatMemberUpdated`` about the bot follows)."""
        await self._call("edit", "leave_chat", lambda: self.client.leave_chat(chat_id=chat_id))

    @staticmethod
    def _link(result: Any, method: str) -> InviteLink:
        link = invite_link_from_pyrogram(result)
        if link is None:
            raise RuntimeError(f"{method} returned no invite link")
        return link
