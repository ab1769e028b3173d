"""``/export_filters`` and ``/import_filters``: a scope's filters as one JSON document.

The document (``format`` ``mediabot-filters``, ``version`` 1) lists each
filter's keyword and reply (HTML, file kind and id, buttons). File ids are
this bot's: a document moves filters between groups (or deployments) of
the same bot. Importing adds and replaces by keyword, within the group's
limit; a document that does not decode changes nothing.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

import msgspec

from mediabot import CommandContext, TelegramError
from mediabot_filters.access import Access
from mediabot_filters.buttons import MAX_BUTTONS
from mediabot_filters.config import FiltersConfig
from mediabot_filters.model import Filter, Reply
from mediabot_filters.store import FilterStore
from mediabot_filters.words import key_of

__all__ = ["Export", "Transfer"]


class Entry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    keyword: str
    reply: Reply


class Export(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    format: Literal["mediabot-filters"]
    version: Literal[1]
    filters: list[Entry]


class Transfer:
    def __init__(self, app: Any, config: FiltersConfig, store: FilterStore, access: Access) -> None:
        self.app = app
        self.config = config
        self.store = store
        self.access = access

    async def export(self, ctx: CommandContext) -> None:
        target = await self.access.target(ctx)
        if target is None:
            return
        filters = self.store.index(target.scope).all()
        if not filters:
            await ctx.reply(f"No filters in {target.title} to export.")
            return
        doc = Export(format="mediabot-filters", version=1,
                     filters=[Entry(keyword=f.keyword, reply=f.reply) for f in filters])
        name = "filters-global.json" if target.is_global else f"filters{target.scope}.json"
        await ctx.reply_document(msgspec.json.format(msgspec.json.encode(doc), indent=1), name,
                                 caption=f"{len(filters)} filters of {target.title}. "
                                         "Send it back with /import_filters (in reply to it).")

    async def import_(self, ctx: CommandContext) -> None:
        reply_id = ctx.message.reply_to_message_id
        assert ctx.chat is not None
        found = await self.app.telegram.read_channel(ctx.chat.id, [reply_id]) if reply_id else []
        media = found[0].media if found else None
        if media is None or media.kind != "document":
            await ctx.reply("Send /import_filters in reply to the JSON document /export_filters made.")
            return
        limit = self.config.max_import_bytes
        if media.file_size is not None and media.file_size > limit:
            await ctx.reply(f"That file is {media.file_size:,} bytes; at most {limit:,} are read.")
            return
        target = await self.access.target(ctx)
        if target is None:
            return
        try:
            data = await self.app.telegram.download(media.file_id, max_size=limit)
        except (TelegramError, ValueError) as exc:
            await ctx.reply(f"Could not read that file: {exc}")
            return
        try:
            doc = msgspec.json.decode(data, type=Export)
        except msgspec.DecodeError as exc:
            await ctx.reply(f"That is not a filters export: {exc}. Nothing was imported.")
            return
        entries: dict[str, Entry] = {}
        for entry in doc.filters:
            key = key_of(entry.keyword)
            problem = self._problem(entry, key)
            if problem:
                await ctx.reply(f"Filter “{entry.keyword[:40]}”: {problem}. Nothing was imported.")
                return
            entries[key] = entry
        index = self.store.index(target.scope)
        new = sum(1 for key in entries if index.get(key) is None)
        if len(index) + new > self.config.max_per_group:
            await ctx.reply(f"{target.title} would hold {len(index) + new} filters; at most "
                            f"{self.config.max_per_group} are allowed. Nothing was imported.")
            return
        count = await self.store.put_many(target.scope, (
            Filter(scope=target.scope, key=key, keyword=e.keyword, reply=e.reply, id=secrets.token_hex(3),
                   by=ctx.user.id) for key, e in entries.items()))
        await ctx.reply(f"Imported {count} filters into {target.title}.")

    def _problem(self, entry: Entry, key: str) -> str | None:
        if not key:
            return "the keyword has no letters or digits"
        if len(entry.keyword) > self.config.max_keyword_length:
            return "the keyword is too long"
        r = entry.reply
        if not r.html.strip() and r.file_id is None:
            return "the reply is empty"
        if len(r.html) > (1024 if r.file_id else self.config.max_reply_length):
            return "the reply is too long"
        if (r.file_id is None) != (r.kind is None):
            return "a file needs both its kind and its id"
        if sum(len(row) for row in r.buttons) > MAX_BUTTONS:
            return "too many buttons"
        for row in r.buttons:
            for b in row:
                if (b.url is None) == (b.alert is None) or not b.text:
                    return "a button needs a text and exactly one of url and alert"
                if b.url is not None and not b.url.lower().startswith(("https://", "http://", "tg://")):
                    return "a button link must be http(s):// or tg://"
        return None
