"""Kernel plugin ``kernel.chats``: the bot added to or removed from a group or channel, told to the log channel.

With ``[bot] log_channel`` set and ``groups`` in ``[bot] log_events`` (the
default), every change of the bot's own membership becomes a notice there:
"Added to group Film club (-100…) by Ann (@ann, 5)", "Removed from channel
Films (-100…) by …". It only watches (``mediabot_update``): plugins that keep
a directory of chats watch the same updates.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mediabot.core.plugin import hookimpl
from mediabot.core.types import Chat, ChatMemberUpdated, Update, User

if TYPE_CHECKING:
    from mediabot.core.app import App


def who(user: User) -> str:
    """``Ann Lee (@ann, 123)``, from what Telegram says of a user, on one line."""
    name = " ".join(" ".join(p for p in (user.first_name, user.last_name) if p).split())[:64] or "?"
    handle = f"@{user.username}, " if user.username else ""
    return f"{name} ({handle}{user.id})"


def where(chat: Chat) -> str:
    kind = "channel" if chat.type == "channel" else "group"
    title = " ".join((chat.title or "").split())[:64]
    return f"{kind} {title} ({chat.id})" if title else f"{kind} {chat.id}"


class ChatEvents:
    """Posts the bot's joins and leaves to the log channel."""

    name = "chats"

    def __init__(self, app: App) -> None:
        self.app = app

    @hookimpl
    async def mediabot_update(self, update: Update) -> None:
        if type(update) is not ChatMemberUpdated or not update.is_bot:
            return
        notices = self.app.notices
        if not notices.logs("groups"):
            return
        if update.joined:
            text = f"Added to {where(update.chat)} by {who(update.actor)}"
        elif update.left:
            text = f"Removed from {where(update.chat)} by {who(update.actor)}"
        else:
            text = f"Now {update.new_status} in {where(update.chat)} (was {update.old_status})"
        await notices.tell(f"chats:{update.chat.id}:{update.date}", text, interval=0, level=logging.INFO,
                           private=False)
