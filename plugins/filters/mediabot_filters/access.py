"""Who may manage which filters: a group's admins (asked of Telegram each time), the bot's admins for global ones.

Connections (MongoDB collection ``filters.connections``, one document per
user): the groups a user connected to from the private chat and the active
one. While connected, ``/filter``, ``/filters``, ``/stop``... in the private
chat act on that group, and the user must still be its admin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from mediabot import CommandContext, TelegramError, User
from mediabot_filters.model import GLOBAL

__all__ = ["Access", "Target"]

log = logging.getLogger("mediabot.plugin.filters.access")

NOT_ADMIN = "Only this group's admins can manage its filters."
NOT_ADMIN_THERE = "You are not an admin of {title} (any more): /disconnect, or ask one of its admins."
NO_TARGET = ("Use this in your group, or connect to it here first: /connect GROUP "
             "(its @username or id; you must be one of its admins).")
PRIVACY = ("\n\nNote: I am not an admin of {title}. Unless my privacy mode is off (@BotFather → /setprivacy → "
           "Disable), I do not see ordinary messages there, so filters cannot answer them.")


@dataclass(frozen=True)
class Target:
    """The scope a command acts on, and how to name it to the user."""

    scope: int
    title: str

    @property
    def is_global(self) -> bool:
        return self.scope == GLOBAL


class Access:
    """Admin checks with Telegram, and the users' connections."""

    def __init__(self, app: Any, connections: Any) -> None:
        self.app = app
        self._coll = connections

    async def is_group_admin(self, chat_id: int, user_id: int) -> bool:
        """Whether Telegram says ``user_id`` administers ``chat_id`` (never trusted from a message)."""
        try:
            member = await self.app.telegram.get_member(chat_id, user_id)
        except TelegramError as exc:
            log.info("filters: could not check user %d in chat %d: %s", user_id, chat_id, exc)
            return False
        return member.status in ("owner", "administrator")

    async def may_manage(self, scope: int, user: User) -> bool:
        """Whether ``user`` may change ``scope``'s filters: bot admins anywhere, a group's admins there."""
        if self.app.role_of(user.id) != "user":
            return True
        return scope != GLOBAL and await self.is_group_admin(scope, user.id)

    async def privacy_note(self, scope: int, title: str) -> str:
        """The warning that the bot may not see a group's messages, or ``""``."""
        me = self.app.telegram.me
        if scope == GLOBAL or me is None:
            return ""
        try:
            member = await self.app.telegram.get_member(scope, me.id)
        except TelegramError:
            return ""
        return "" if member.status in ("owner", "administrator") else PRIVACY.format(title=title)

    async def target(self, ctx: CommandContext, *, manage: bool = True) -> Target | None:
        """Where the command acts, after the checks; ``None`` after telling the user why not.

        In a group: that group (its admins, or the bot's). In the private chat:
        the connected group (still an admin there), else the global filters
        for the bot's admins.
        """
        chat = ctx.chat
        assert chat is not None
        if chat.is_group:
            if manage and not await self.may_manage(chat.id, ctx.user):
                await ctx.reply(NOT_ADMIN)
                return None
            return Target(chat.id, chat.title or "this group")
        active = await self.active(ctx.user.id)
        if active is not None:
            scope, title = active
            if not await self.may_manage(scope, ctx.user):
                await ctx.reply(NOT_ADMIN_THERE.format(title=title))
                return None
            return Target(scope, title)
        if ctx.role != "user":
            return Target(GLOBAL, "the global filters")
        await ctx.reply(NO_TARGET)
        return None

    # -- connections -------------------------------------------------------------------
    async def connections(self, user_id: int) -> tuple[list[tuple[int, str]], int | None]:
        doc = await self._coll.find_one({"_id": user_id}) or {}
        groups = [(int(g["id"]), str(g.get("title") or g["id"])) for g in doc.get("groups", [])]
        return groups, doc.get("active")

    async def active(self, user_id: int) -> tuple[int, str] | None:
        groups, active = await self.connections(user_id)
        return next(((g, t) for g, t in groups if g == active), None)

    async def connect(self, user_id: int, chat_id: int, title: str) -> None:
        groups, _ = await self.connections(user_id)
        kept = [{"id": g, "title": t} for g, t in groups if g != chat_id]
        kept = ([{"id": chat_id, "title": title}, *kept])[:20]
        await self._coll.replace_one({"_id": user_id}, {"_id": user_id, "groups": kept, "active": chat_id},
                                     upsert=True)

    async def switch(self, user_id: int, chat_id: int) -> bool:
        groups, _ = await self.connections(user_id)
        if all(g != chat_id for g, _ in groups):
            return False
        await self._coll.update_one({"_id": user_id}, {"$set": {"active": chat_id}})
        return True

    async def disconnect(self, user_id: int) -> tuple[int, str] | None:
        active = await self.active(user_id)
        if active is not None:
            await self._coll.update_one({"_id": user_id}, {"$set": {"active": None}})
        return active
