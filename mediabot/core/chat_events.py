"""The bot added to or removed from a group or channel, told to the log channel.

With ``[bot] log_channel`` set and ``groups`` in ``[bot] log_events`` (the
default), every change of the bot's own membership becomes a notice there:
"Added to group Film club (-100…) by Ann (@ann, 5)", "Removed from channel
Films (-100…) by …". The dispatcher calls :func:`tell_membership` beside the
observers (``mediabot_update``), which see the same update: a plugin keeping a
directory of chats watches it there. (Not a hook implementation of its own: a
second ``mediabot_update`` implementation would cost every update a gather.)
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mediabot.core.types import Chat, ChatMemberUpdated, User

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


async def tell_membership(app: App, update: ChatMemberUpdated) -> None:
    """Post a change of the bot's own membership to the log channel, when ``log_events`` asks for it."""
    notices = app.notices
    if not update.is_bot or not notices.logs("groups"):
        return
    if update.joined:
        text = f"Added to {where(update.chat)} by {who(update.actor)}"
    elif update.left:
        text = f"Removed from {where(update.chat)} by {who(update.actor)}"
    else:
        text = f"Now {update.new_status} in {where(update.chat)} (was {update.old_status})"
    await notices.tell(f"chats:{update.chat.id}:{update.date}", text, interval=0, level=logging.INFO,
                       private=False)
