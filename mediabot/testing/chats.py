"""The fake Telegram's server side: who exists, who may be written to, every chat's messages.

Messages are kept as raw TL (what Telegram stores) next to pyrogram's parse
of them (what a client sees); an edit changes the raw message and parses it
again. Refusals are the real ``pyrogram.errors``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pyrogram import types as pt
from pyrogram import utils
from pyrogram.errors import (
    ChannelInvalid,
    ChatWriteForbidden,
    InputUserDeactivated,
    MessageAuthorRequired,
    MessageIdInvalid,
    PeerIdInvalid,
    UserIsBlocked,
    UsernameNotOccupied,
)

from mediabot.testing.tl import FakeChatKind, TLWorld

__all__ = ["ChatStore", "StoredMessage"]


@dataclass
class StoredMessage:
    """One message: the raw TL Telegram keeps and pyrogram's parse of it."""

    raw: Any
    parsed: Any  # pyrogram.types.Message once parsed
    out: bool  # sent by the bot


@dataclass
class _ChatLog:
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_id: int = 1


class ChatStore:
    """Chats, their messages, and the rules about writing to them.

    :param world: the users, chats and files, as raw TL objects.
    """

    def __init__(self, world: TLWorld) -> None:
        self.world = world
        self.blocked: set[int] = set()
        self.deactivated: set[int] = set()
        self.forbidden: set[int] = set()
        self._logs: dict[int, _ChatLog] = {}

    def add_chat(self, chat_id: int, kind: FakeChatKind, *, title: str | None = None,
                 username: str | None = None) -> None:
        self.world.add_chat(chat_id, kind, title=title, username=username)
        self._logs.setdefault(chat_id, _ChatLog())

    def ensure(self, chat_id: int) -> None:
        """Make ``chat_id`` exist: a user's private chat, else a group or supergroup by its id."""
        if chat_id in self.world.chats:
            return
        if chat_id > 0:
            self.world.private_chat(chat_id)
            self._logs.setdefault(chat_id, _ChatLog())
        else:
            self.add_chat(chat_id, "group" if utils.get_peer_type(chat_id) == "chat" else "supergroup")

    # -- lookups with Telegram's refusals -----------------------------------------------
    def known(self, ref: int | str | None) -> int:
        """The chat id ``ref`` names; raise what Telegram raises for an unknown one."""
        if isinstance(ref, str):
            entry = self.world.find_username(ref)
            if entry is None:
                raise UsernameNotOccupied()
            return entry.chat_id
        if ref is None:
            raise PeerIdInvalid()
        if ref in self.world.chats:
            return ref
        if ref > 0:
            # Lenient on purpose: a user who talked to the bot before the fake existed.
            self.ensure(ref)
            return ref
        raise ChannelInvalid() if utils.get_peer_type(ref) == "channel" else PeerIdInvalid()

    def writable(self, ref: int | str) -> int:
        chat_id = self.known(ref)
        if chat_id in self.blocked:
            raise UserIsBlocked()
        if chat_id in self.deactivated:
            raise InputUserDeactivated()
        if chat_id in self.forbidden:
            raise ChatWriteForbidden()
        return chat_id

    def own_message(self, ref: int | str, message_id: int) -> tuple[int, StoredMessage]:
        """A message the bot may edit."""
        chat_id = self.known(ref)
        stored = self.get(chat_id, message_id)
        if stored is None:
            raise MessageIdInvalid()
        if not stored.out:
            raise MessageAuthorRequired()
        return chat_id, stored

    # -- messages ------------------------------------------------------------------------
    def get(self, chat_id: int, message_id: int) -> StoredMessage | None:
        log = self._logs.get(chat_id)
        return log.messages.get(message_id) if log else None

    def messages(self, chat_id: int) -> list[StoredMessage]:
        log = self._logs.get(chat_id)
        return list(log.messages.values()) if log else []

    async def add(self, chat_id: int, *, from_id: int | None, out: bool, text: str | None, media: Any = None,
                  entities: list[Any] | None = None, markup: Any = None, reply_to: int | None = None,
                  grouped_id: int | None = None) -> StoredMessage:
        """A new message in ``chat_id``, with the chat's next id, parsed."""
        log = self._logs.setdefault(chat_id, _ChatLog())
        message_id = log.next_id
        log.next_id += 1
        rawmsg = self.world.message(chat_id, message_id, from_id=from_id, text=text or "", entities=entities,
                                    media=media, reply_markup=markup, reply_to=reply_to, date=now_ts(),
                                    out=out, grouped_id=grouped_id)
        stored = StoredMessage(rawmsg, None, out)
        log.messages[message_id] = stored
        await self.reparse(stored)
        return stored

    async def add_raw(self, chat_id: int, build: Any, *, out: bool) -> StoredMessage:
        """A message ``build(message_id)`` makes (a service message), with the chat's next id, parsed."""
        log = self._logs.setdefault(chat_id, _ChatLog())
        message_id = log.next_id
        log.next_id += 1
        stored = StoredMessage(build(message_id), None, out)
        log.messages[message_id] = stored
        await self.reparse(stored)
        return stored

    async def reparse(self, stored: StoredMessage) -> pt.Message:
        """Parse the raw message again (after an edit), as a client receiving it would."""
        stored.parsed = await self.world.parse_message(stored.raw)
        return stored.parsed

    def delete(self, chat_id: int, message_ids: list[int]) -> int:
        log = self._logs.get(chat_id)
        if log is None:
            return 0
        return sum(1 for i in message_ids if log.messages.pop(i, None) is not None)


def now_ts() -> int:
    # Message dates are wall-clock Unix seconds, like Telegram's.
    return int(time.time())
