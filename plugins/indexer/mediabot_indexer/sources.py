"""Which channels are indexed live: the configured seed plus what admins changed at runtime.

The update path asks :meth:`Sources.__contains__` for every channel post, so
the answer comes from a set in memory. The set is rebuilt from the seed and
the ``indexer.sources`` collection at start, after every change made in this
process, and every ``sources_refresh`` seconds (changes made by another
process of the deployment). One document per channel an admin touched::

    {_id: <chat id>, active: bool, username, title, by: <admin id>, at: <unix time>}

A stored ``active: false`` removes a seeded channel too, until an admin adds it again.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from mediabot import Chat, TelegramError

__all__ = ["Source", "Sources"]

log = logging.getLogger("mediabot.plugin.indexer")

_CHANNEL_TYPES = ("channel", "supergroup")


class Source(msgspec.Struct, frozen=True, kw_only=True):
    """One source channel, as ``/channels`` shows it.

    :param origin: ``config`` (the seed) or ``admin`` (added at runtime).
    """

    chat_id: int
    origin: str
    username: str | None = None
    title: str | None = None


class Sources:
    """The live source set of one process.

    :param app: the application (``app.telegram`` resolves usernames).
    :param collection: the ``indexer.sources`` collection (a callable returning it: it exists after startup).
    :param seed: ``[plugins.indexer] channels``.
    """

    def __init__(self, app: Any, collection: Any, seed: list[int | str]) -> None:
        self._app = app
        self._collection = collection
        self._seed = list(seed)
        self._resolved_seed: dict[int | str, Chat | None] = {}
        self._active: dict[int, Source] = {}
        self._ids: frozenset[int] = frozenset()

    def __contains__(self, chat_id: object) -> bool:
        return chat_id in self._ids

    def list(self) -> list[Source]:
        return sorted(self._active.values(), key=lambda s: s.chat_id)

    async def resolve(self, ref: int | str) -> Chat:
        """The chat ``ref`` names (``-100...`` or ``@name``).

        :raises LookupError: Telegram does not know it, the bot cannot see it, or it is not a channel.
        """
        try:
            chat = await self._app.telegram.resolve_chat(ref)
        except TelegramError as exc:
            raise LookupError(f"unknown channel {ref} ({exc})") from exc
        if chat.type not in _CHANNEL_TYPES:
            raise LookupError(f"{ref} is a {chat.type}, not a channel")
        return chat

    async def reload(self) -> None:
        """Rebuild the set from the seed and the collection.

        A seed ``@username`` Telegram cannot resolve now is retried on the next reload.
        """
        active: dict[int, Source] = {}
        for ref in self._seed:
            chat = self._resolved_seed.get(ref)
            if chat is None and isinstance(ref, str):
                try:
                    chat = self._resolved_seed[ref] = await self.resolve(ref)
                except LookupError as exc:
                    log.warning("indexer: source %s from the config is not indexed yet: %s", ref, exc)
                    continue
            if chat is not None:
                active[chat.id] = Source(chat_id=chat.id, origin="config", username=chat.username,
                                         title=chat.title)
            else:
                active[int(ref)] = Source(chat_id=int(ref), origin="config")
        async for doc in self._collection().find({}):
            chat_id = int(doc["_id"])
            if doc.get("active"):
                active[chat_id] = Source(chat_id=chat_id, origin="admin", username=doc.get("username"),
                                         title=doc.get("title"))
            else:
                active.pop(chat_id, None)
        self._active = active
        self._ids = frozenset(active)

    async def add(self, chat: Chat, by: int, at: float) -> bool:
        """Make ``chat`` a source; ``False`` when it already was one."""
        was = chat.id in self._ids
        await self._collection().update_one(
            {"_id": chat.id},
            {"$set": {"active": True, "username": chat.username, "title": chat.title, "by": by, "at": at}},
            upsert=True)
        await self.reload()
        return not was

    async def remove(self, chat_id: int, by: int, at: float) -> bool:
        """Stop indexing ``chat_id``; ``False`` when it was not a source."""
        was = chat_id in self._ids
        await self._collection().update_one({"_id": chat_id},
                                            {"$set": {"active": False, "by": by, "at": at}}, upsert=True)
        await self.reload()
        return was
