"""The fake Telegram's groups and channels: who is in them, invite links, join requests.

A mixin of :class:`~mediabot.testing.FakeTelegram`: the ``pyrogram.Client``
methods a bot uses to manage a chat (same names and parameters as the real
client, checked by a test) and the other side a test plays (a user joins,
leaves, asks to join; someone adds or removes the bot). Every change reaches
the gateway's handlers as pyrogram's own ``ChatMemberUpdated`` or
``ChatJoinRequest``, parsed from raw TL, and the refusals are the real
``pyrogram.errors``:

* an invite link works until revoked (``InviteHashExpired`` after);
* a link that ``creates_join_request`` does not let anyone in
  (``InviteRequestSent``): it makes a join request, answered once
  (``HideRequesterMissing`` the second time);
* only an administrator may make links and answer requests
  (``ChatAdminRequired``); someone already in is ``UserAlreadyParticipant``.

Telegram tells a bot about its own membership everywhere, about other
users' only in chats it administers; so does the fake.
"""

from __future__ import annotations

import itertools
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pyrogram import enums, utils
from pyrogram import types as pt
from pyrogram.errors import (
    ChatAdminRequired,
    HideRequesterMissing,
    InviteHashExpired,
    InviteRequestSent,
    PeerIdInvalid,
    UserAlreadyParticipant,
    UserNotParticipant,
)
from pyrogram.handlers import ChatJoinRequestHandler, ChatMemberUpdatedHandler

from mediabot.testing.chats import now_ts

if TYPE_CHECKING:
    from mediabot.testing.chats import ChatStore
    from mediabot.testing.records import Call
    from mediabot.testing.tl import TLWorld

__all__ = ["BotStatus", "FakeInviteLink", "MembersSide"]

#: The bot's standing in a group or channel.
BotStatus = Literal["administrator", "member", "left"]


@dataclass
class FakeInviteLink:
    """An invite link as Telegram keeps it (``fake.invite_links[link]``)."""

    link: str
    chat_id: int
    date: int
    name: str | None = None
    expire_date: int | None = None
    member_limit: int | None = None
    creates_join_request: bool = False
    revoked: bool = False
    usage: int = 0
    pending: int = 0


class MembersSide:
    """Memberships, invite links and join requests of :class:`~mediabot.testing.FakeTelegram`."""

    if TYPE_CHECKING:
        world: TLWorld
        chats: ChatStore
        members: dict[int, set[int]]

        def _call(self, method: str, **params: Any) -> AbstractAsyncContextManager[Call]: ...

        async def _dispatch(self, handler_type: type, update: Any) -> None: ...

    def _init_members(self) -> None:
        #: link -> the invite link (revoked ones stay, revoked)
        self.invite_links: dict[str, FakeInviteLink] = {}
        #: (chat id, user id) -> the link of a join request not answered yet
        self.join_requests: dict[tuple[int, int], str] = {}
        #: (chat id, user id) -> how a join request was answered: ``"approved"``/``"declined"``
        self.join_answers: dict[tuple[int, int], str] = {}
        #: chat id -> the bot's standing; a group or channel the fake knows has the bot as administrator
        self.bot_status: dict[int, BotStatus] = {}
        #: chat id -> ids of the users who administer it (:meth:`set_admin`)
        self.chat_admins: dict[int, set[int]] = {}
        self._link_ids = itertools.count(1)

    # == test controls ================================================================
    def bot_standing(self, chat_id: int) -> BotStatus:
        """The bot's standing in ``chat_id`` (``administrator`` unless a test or the bot changed it)."""
        return self.bot_status.get(chat_id, "administrator")

    def set_admin(self, chat_id: int, user_id: int, admin: bool = True) -> None:
        """Make ``user_id`` an administrator of group ``chat_id`` (a member too), or no longer one."""
        if admin:
            self.world.user(user_id)
            self.members.setdefault(chat_id, set()).add(user_id)
            self.chat_admins.setdefault(chat_id, set()).add(user_id)
        else:
            self.chat_admins.get(chat_id, set()).discard(user_id)

    async def user_joins(self, chat_id: int, user_id: int, *, link: str | None = None) -> None:
        """``user_id`` joins the group or channel ``chat_id`` (by ``link``, if given); handlers run.

        :raises InviteHashExpired: the link was revoked (or is not this chat's).
        :raises InviteRequestSent: the link creates join requests: use :meth:`join_request`.
        :raises UserAlreadyParticipant: the user is in the chat already.
        """
        self._group_or_channel(chat_id)
        invite = None
        if link is not None:
            stored = self._usable_link(chat_id, link)
            if stored.creates_join_request:
                raise InviteRequestSent()
            stored.usage += 1
            invite = self._raw_invite(stored)
        self._enter(chat_id, user_id)
        await self._member_changed(chat_id, user_id, actor_id=user_id, old="left", new="member", invite=invite)

    async def user_leaves(self, chat_id: int, user_id: int) -> None:
        """``user_id`` leaves ``chat_id``; handlers run.

        :raises UserNotParticipant: the user is not in the chat.
        """
        self._group_or_channel(chat_id)
        if user_id not in self.members.get(chat_id, set()):
            raise UserNotParticipant()
        self.members[chat_id].discard(user_id)
        await self._member_changed(chat_id, user_id, actor_id=user_id, old="member", new="left")

    async def join_request(self, chat_id: int, user_id: int, link: str, *, bio: str = "") -> None:
        """``user_id`` asks to join ``chat_id`` through ``link`` (one that ``creates_join_request``); handlers run.

        :raises InviteHashExpired: the link was revoked (or is not this chat's).
        :raises UserAlreadyParticipant: the user is in the chat already.
        """
        self._group_or_channel(chat_id)
        stored = self._usable_link(chat_id, link)
        if not stored.creates_join_request:
            raise ValueError(f"{link} lets users in directly: use user_joins(..., link=...)")
        if user_id in self.members.get(chat_id, set()):
            raise UserAlreadyParticipant()
        self.world.user(user_id)
        if (chat_id, user_id) not in self.join_requests:
            stored.pending += 1
        self.join_requests[(chat_id, user_id)] = link
        self.join_answers.pop((chat_id, user_id), None)
        if self.bot_standing(chat_id) != "administrator":
            return
        request = await self.world.join_request(chat_id, user_id, invite=self._raw_invite(stored), bio=bio,
                                                date=now_ts())
        await self._dispatch(ChatJoinRequestHandler, request)

    async def bot_added(self, chat_id: int, *, by: int, status: BotStatus = "member") -> None:
        """``by`` adds the bot to ``chat_id`` as ``member`` or ``administrator``; handlers run."""
        self._group_or_channel(chat_id)
        old = self.bot_standing(chat_id) if chat_id in self.bot_status else "left"
        self.bot_status[chat_id] = status
        self.chats.forbidden.discard(chat_id)
        self.world.user(by)
        await self._member_changed(chat_id, self.world.bot_id, actor_id=by, old=old, new=status, always=True)

    async def bot_removed(self, chat_id: int, *, by: int) -> None:
        """``by`` removes the bot from ``chat_id``: sends there are refused from now on; handlers run."""
        self._group_or_channel(chat_id)
        old = self.bot_standing(chat_id)
        self.bot_status[chat_id] = "left"
        self.chats.forbidden.add(chat_id)
        self.world.user(by)
        await self._member_changed(chat_id, self.world.bot_id, actor_id=by, old=old, new="left", always=True)

    # == pyrogram.Client ==============================================================
    async def create_chat_invite_link(self, chat_id: int | str, name: str | None = None,
                                      expire_date: datetime | None = None, member_limit: int | None = None,
                                      creates_join_request: bool | None = None) -> pt.ChatInviteLink | None:
        async with self._call("create_chat_invite_link", chat_id=chat_id, name=name, expire_date=expire_date,
                              member_limit=member_limit, creates_join_request=creates_join_request) as call:
            target = self._administered(chat_id)
            raw_id = utils.get_raw_peer_id(target)
            stored = FakeInviteLink(link=f"https://t.me/+fake{raw_id}x{next(self._link_ids)}", chat_id=target,
                                    date=now_ts(), name=name,
                                    expire_date=int(expire_date.timestamp()) if expire_date else None,
                                    member_limit=member_limit, creates_join_request=bool(creates_join_request))
            self.invite_links[stored.link] = stored
            call.result = await self.world.parse_invite(self._raw_invite(stored))
        return call.result

    async def revoke_chat_invite_link(self, chat_id: int | str, invite_link: str) -> pt.ChatInviteLink | None:
        async with self._call("revoke_chat_invite_link", chat_id=chat_id, invite_link=invite_link) as call:
            target = self._administered(chat_id)
            stored = self.invite_links.get(invite_link)
            if stored is None or stored.chat_id != target:
                raise InviteHashExpired()
            stored.revoked = True
            call.result = await self.world.parse_invite(self._raw_invite(stored))
        return call.result

    async def approve_chat_join_request(self, chat_id: int | str, user_id: int) -> bool:
        async with self._call("approve_chat_join_request", chat_id=chat_id, user_id=user_id) as call:
            target = self._administered(chat_id)
            link = self._take_request(target, user_id, "approved")
            self._enter(target, user_id)
            stored = self.invite_links[link]
            stored.usage += 1
            call.result = True
        # Telegram then tells the bot the user is in, let in by the bot.
        await self._member_changed(target, user_id, actor_id=self.world.bot_id, old="left", new="member",
                                   invite=self._raw_invite(stored))
        return True

    async def decline_chat_join_request(self, chat_id: int | str, user_id: int) -> bool:
        async with self._call("decline_chat_join_request", chat_id=chat_id, user_id=user_id) as call:
            self._take_request(self._administered(chat_id), user_id, "declined")
            call.result = True
        return True

    async def get_chat_members_count(self, chat_id: int | str) -> int | None:
        async with self._call("get_chat_members_count", chat_id=chat_id) as call:
            target = self.chats.known(chat_id)
            if target > 0:
                raise ValueError(f'The chat_id "{chat_id}" belongs to a user')  # pyrogram's own check
            with_bot = 0 if self.bot_standing(target) == "left" else 1
            call.result = len(self.members.get(target, set())) + with_bot
        return call.result

    async def leave_chat(self, chat_id: int | str, delete: bool = False) -> Any:
        async with self._call("leave_chat", chat_id=chat_id, delete=delete) as call:
            target = self._group_or_channel(self.chats.known(chat_id))
            old = self.bot_standing(target)
            if old == "left":
                raise UserNotParticipant()
            self.bot_status[target] = "left"
            self.chats.forbidden.add(target)
            call.result = None
        await self._member_changed(target, self.world.bot_id, actor_id=self.world.bot_id, old=old, new="left",
                                   always=True)
        return None

    async def _chat_member(self, target: int, uid: int) -> pt.ChatMember:
        """``get_chat_member``'s answer (the bot's own standing, or a user's)."""
        if uid == self.world.bot_id and target < 0:
            status = self.bot_standing(target)
            if status == "left":
                raise UserNotParticipant()
        elif uid in self.chat_admins.get(target, set()):
            status = "administrator"
        elif uid in self.members.get(target, set()):
            status = "member"
        else:
            raise UserNotParticipant()
        self.world.user(uid)
        if target > 0:  # a private chat: the user and the bot are its members
            return pt.ChatMember(status=enums.ChatMemberStatus.MEMBER, user=await self.world.parse_user(uid),
                                 chat=None)
        # What Telegram answers, through pyrogram's own parser.
        participant = self.world.participant(target, uid, status, by=self.world.bot_id, date=now_ts())
        return await pt.ChatMember._parse(self.world.client, participant, self.world.users, self.world.raw_chats)

    # == internals ====================================================================
    def _group_or_channel(self, chat_id: int) -> int:
        if chat_id > 0:
            raise PeerIdInvalid()
        self.chats.ensure(chat_id)
        return chat_id

    def _administered(self, ref: int | str) -> int:
        target = self._group_or_channel(self.chats.known(ref))
        if self.bot_standing(target) != "administrator":
            raise ChatAdminRequired()
        return target

    def _usable_link(self, chat_id: int, link: str) -> FakeInviteLink:
        stored = self.invite_links.get(link)
        if stored is None or stored.chat_id != chat_id or stored.revoked or (
                stored.expire_date is not None and stored.expire_date <= now_ts()) or (
                stored.member_limit is not None and stored.usage >= stored.member_limit):
            raise InviteHashExpired()
        return stored

    def _take_request(self, chat_id: int, user_id: int, answer: str) -> str:
        link = self.join_requests.pop((chat_id, user_id), None)
        if link is None:
            raise HideRequesterMissing()  # none pending, or answered already
        self.invite_links[link].pending -= 1
        self.join_answers[(chat_id, user_id)] = answer
        return link

    def _enter(self, chat_id: int, user_id: int) -> None:
        members = self.members.setdefault(chat_id, set())
        if user_id in members:
            raise UserAlreadyParticipant()
        self.world.user(user_id)
        members.add(user_id)

    def _raw_invite(self, stored: FakeInviteLink) -> Any:
        return self.world.invite(stored.link, date=stored.date, revoked=stored.revoked,
                                 request_needed=stored.creates_join_request, expire_date=stored.expire_date,
                                 usage_limit=stored.member_limit, usage=stored.usage, title=stored.name)

    async def _member_changed(self, chat_id: int, user_id: int, *, actor_id: int, old: str, new: str,
                              invite: Any = None, always: bool = False) -> None:
        # Other users' changes reach only a bot that administers the chat.
        if not always and self.bot_standing(chat_id) != "administrator":
            return
        update = await self.world.member_updated(chat_id, user_id, actor_id=actor_id, old=old, new=new,
                                                 date=now_ts(), invite=invite)
        await self._dispatch(ChatMemberUpdatedHandler, update)
