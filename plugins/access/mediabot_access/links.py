"""The link each Join button opens: the configured one, the chat's public link, or the bot's own invite link.

The bot's own link is made once per chat for the whole deployment and kept
in MongoDB (``access.links``), so every process shows the same link and the
members who came through it can be counted. Two processes making it at the
same moment: the first stored wins, the other revokes its own. A ``request``
chat's link ``creates_join_request``; a chat whose link cannot be made (the
bot is not an admin there) falls back to its public link, if it has one, and
the operators get a notice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pymongo.errors import DuplicateKeyError

from mediabot import App, PluginStorage, TelegramError
from mediabot_access.config import AccessConfig, ChannelConfig

__all__ = ["InviteLinks"]

log = logging.getLogger("mediabot.plugin.access")
LINK_NAME = "mediabot access"


class InviteLinks:
    def __init__(self, app: App, config: AccessConfig, storage: PluginStorage) -> None:
        self.app = app
        self.config = config
        self.storage = storage
        self._known: dict[str, str | None] = {}
        self._own: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}

    def public(self, channel: ChannelConfig) -> str | None:
        return f"https://t.me/{channel.username}" if channel.username else None

    async def is_ours(self, channel: ChannelConfig, link: str | None) -> bool:
        """Whether ``link`` (from a ``ChatMemberUpdated``) is the bot's own invite link to ``channel``."""
        if link is None or channel.link or (channel.mode == "member" and channel.username):
            return False
        return link == await self.link(channel) and channel.key in self._own

    async def link(self, channel: ChannelConfig) -> str | None:
        """The link of ``channel``'s Join button (``None``: none can be shown)."""
        if channel.link:
            return channel.link
        if channel.mode == "member" and channel.username:
            return self.public(channel)
        if channel.key in self._known:
            return self._known[channel.key]
        lock = self._locks.setdefault(channel.key, asyncio.Lock())
        async with lock:
            if channel.key not in self._known:
                self._known[channel.key] = await self._load_or_make(channel)
            return self._known[channel.key]

    async def _load_or_make(self, channel: ChannelConfig) -> str | None:
        coll = self.storage.collection("links")
        wants_request = channel.mode == "request"
        try:
            found: dict[str, Any] | None = await coll.find_one({"_id": channel.key})
        except Exception as exc:  # noqa: BLE001 - MongoDB down: the public link, if any, still works
            log.warning("access: could not read the invite link of %s: %s: %s", channel.chat, type(exc).__name__, exc)
            return self.public(channel)
        if found is not None and bool(found.get("request")) == wants_request:
            self._own.add(channel.key)
            return str(found["link"])
        try:
            made = await self.app.telegram.create_invite_link(channel.chat, name=LINK_NAME,
                                                              creates_join_request=wants_request)
        except TelegramError as exc:
            self.app.notices.notify(
                f"access:link:{channel.key}",
                f"Cannot make an invite link to {channel.shown} ({channel.chat}): {exc}. "
                "Fix: make the bot an administrator of that chat with the right to invite users"
                + (" (its public link is shown meanwhile)." if channel.username else
                   " (its Join button is missing meanwhile)."),
                interval=self.config.notice_interval, source="access")
            return self.public(channel)
        doc = {"_id": channel.key, "link": made.link, "request": wants_request, "chat": channel.chat}
        try:
            if found is None:
                await coll.insert_one(doc)
            else:  # the mode changed: the old link no longer fits
                await coll.replace_one({"_id": channel.key}, doc)
        except DuplicateKeyError:
            theirs = await coll.find_one({"_id": channel.key})
            await self._revoke(channel, made.link)
            if theirs is not None:
                self._own.add(channel.key)
                return str(theirs["link"])
        self._own.add(channel.key)
        return made.link

    async def _revoke(self, channel: ChannelConfig, link: str) -> None:
        try:
            await self.app.telegram.revoke_invite_link(channel.chat, link)
        except TelegramError as exc:
            log.warning("access: could not revoke a spare invite link of %s: %s", channel.chat, exc)
