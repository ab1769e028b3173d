"""What an admin types to name a channel: an id, ``@name``, or a link to one of its posts.

Parsing is pure; turning a username into a chat id takes Telegram
(``app.telegram.resolve_chat``) and happens in :mod:`~mediabot_indexer.sources`.
"""

from __future__ import annotations

import re

import msgspec

__all__ = ["MAX_MESSAGE_ID", "ChannelRef", "parse_ref"]

#: Telegram's message ids are 32-bit.
MAX_MESSAGE_ID = 2**31 - 1

# Digits are [0-9], not \d: \d and int() also take "１２" and "١٢", which no link carries.
# t.me/c/<internal id>/<message>: a private channel's post link (internal id without -100).
_PRIVATE_LINK = re.compile(r"^(?:https?://)?(?:www\.)?(?:t|telegram)\.me/c/([0-9]{1,16})(?:/([0-9]{1,10}))?/?$")
# t.me/<username>/<message>: a public channel's post link.
_PUBLIC_LINK = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:t|telegram)\.me/([A-Za-z][A-Za-z0-9_]{3,31})(?:/([0-9]{1,10}))?/?$")
_USERNAME = re.compile(r"^@([A-Za-z][A-Za-z0-9_]{3,31})$")
_CHAT_ID = re.compile(r"^-?[0-9]{1,16}$")


class ChannelRef(msgspec.Struct, frozen=True, kw_only=True):
    """A channel as written by an admin.

    :param chat_id: the chat id, when the reference carries it (an id or a ``t.me/c/`` link).
    :param username: the username (without ``@``), when it names one.
    :param message_id: the post a link points at (a history job's default last id).
    """

    chat_id: int | None = None
    username: str | None = None
    message_id: int | None = None

    @property
    def lookup(self) -> int | str:
        """What ``resolve_chat`` takes."""
        if self.chat_id is not None:
            return self.chat_id
        assert self.username is not None
        return f"@{self.username}"

    def __str__(self) -> str:
        return str(self.lookup)


def parse_ref(text: str) -> ChannelRef | None:
    """The channel ``text`` names, or ``None`` when it is not a channel reference.

    Accepts ``-1001234567890``, ``@name``, ``t.me/c/1234567890/55`` and
    ``t.me/name/55`` (with or without ``https://``).
    """
    text = text.strip()
    if m := _PRIVATE_LINK.match(text):
        message = int(m[2]) if m[2] else None
        if message is not None and message > MAX_MESSAGE_ID:
            return None
        return ChannelRef(chat_id=-(10**12) - int(m[1]), message_id=message or None)
    if m := _PUBLIC_LINK.match(text):
        message = int(m[2]) if m[2] else None
        if m[1].lower() == "c" or (message is not None and message > MAX_MESSAGE_ID):
            return None
        return ChannelRef(username=m[1], message_id=message or None)
    if m := _USERNAME.match(text):
        return ChannelRef(username=m[1])
    if _CHAT_ID.match(text):
        chat_id = int(text)
        if chat_id == 0:
            return None
        return ChannelRef(chat_id=chat_id)
    return None
