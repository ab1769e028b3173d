"""``/filter``, ``/filters``, ``/stop``, ``/stopall``: adding, listing and removing filters."""

from __future__ import annotations

import secrets
from html import escape
from typing import Any

from mediabot import CallbackContext, CommandContext, Message, TelegramError, UsageError
from mediabot_filters.access import Access
from mediabot_filters.buttons import ButtonError, html_after, parse_buttons
from mediabot_filters.config import FiltersConfig
from mediabot_filters.model import GLOBAL, REPLY_KINDS, Filter, Reply
from mediabot_filters.store import FilterStore
from mediabot_filters.words import key_of

__all__ = ["PAGE_ACTION", "STOPALL_ACTION", "Manage", "split_keyword"]

PAGE_ACTION = "filters.p"
STOPALL_ACTION = "filters.x"
_QUOTES = {'"': '"', "“": "”", "'": "'", "«": "»"}


def split_keyword(args: str) -> tuple[str, str]:
    """``("several words", "the reply")`` from ``"several words" the reply``; the first word when unquoted."""
    args = args.strip()
    if args and args[0] in _QUOTES:
        close = args.find(_QUOTES[args[0]], 1)
        if close > 0:
            return args[1:close].strip(), args[close + 1:].strip()
    keyword, _, rest = args.partition(" ")
    if "\n" in keyword:
        keyword, _, more = keyword.partition("\n")
        rest = (more + " " + rest).strip()
    return keyword.strip(), rest.strip()


class Manage:
    """The management commands and their buttons."""

    def __init__(self, app: Any, config: FiltersConfig, store: FilterStore, access: Access) -> None:
        self.app = app
        self.config = config
        self.store = store
        self.access = access

    # -- /filter -----------------------------------------------------------------------
    async def add(self, ctx: CommandContext) -> None:
        keyword, rest = split_keyword(ctx.args)
        key = key_of(keyword)
        if not key:
            raise UsageError("A keyword needs letters or digits.")
        if len(keyword) > self.config.max_keyword_length:
            raise UsageError(f"A keyword has at most {self.config.max_keyword_length} characters.")
        source = await self._replied(ctx)
        try:
            reply = self._reply_from(ctx.message, rest, source)
        except (ButtonError, ValueError) as exc:
            await ctx.reply(str(exc))
            return
        if reply is None:
            raise UsageError("Give the reply after the keyword, or send the command in reply to a message.")
        target = await self.access.target(ctx)
        if target is None:
            return
        index = self.store.index(target.scope)
        old = index.get(key)
        if old is None and len(index) >= self.config.max_per_group:
            await ctx.reply(f"{target.title} has {len(index)} filters, the most allowed "
                            f"({self.config.max_per_group}): /stop one first.")
            return
        f = Filter(scope=target.scope, key=key, keyword=keyword, reply=reply, id=secrets.token_hex(3),
                   by=ctx.user.id)
        await self.store.put(f)
        verb = "replaced" if old is not None else "saved"
        note = await self.access.privacy_note(target.scope, target.title)
        await ctx.reply(f"Filter “{keyword}” {verb} for {target.title}.{note}")

    async def _replied(self, ctx: CommandContext) -> Message | None:
        reply_id = ctx.message.reply_to_message_id
        if reply_id is None or ctx.chat is None:
            return None
        found = await self.app.telegram.read_channel(ctx.chat.id, [reply_id])
        return found[0] if found else None

    def _reply_from(self, message: Message, rest: str, source: Message | None) -> Reply | None:
        """The reply: the message replied to (its file and formatted text), else the text after the keyword."""
        if source is not None and (source.media is not None or source.text):
            media = source.media
            if media is not None and media.kind not in REPLY_KINDS:
                raise ValueError(f"A {media.kind.replace('_', ' ')} cannot be a filter's reply; "
                                 f"use one of: {', '.join(REPLY_KINDS)}.")
            markup = source.html or ""
            if not markup and rest:
                markup = escape(rest, quote=False)
            return self._checked(markup, media.kind if media else None, media.file_id if media else None)
        if not rest:
            return None
        text = message.text or ""
        start = text.rfind(rest)
        markup = html_after(message.html, start) if message.html and start >= 0 else escape(rest, quote=False)
        return self._checked(markup.strip(), None, None)

    def _checked(self, markup: str, kind: Any, file_id: str | None) -> Reply:
        body, buttons = parse_buttons(markup)
        limit = 1024 if file_id is not None else self.config.max_reply_length
        if len(body) > limit:
            raise ValueError(f"The reply is {len(body):,} characters; at most {limit:,} fit here.")
        if not body.strip() and file_id is None:
            raise ValueError("The reply has no text besides its buttons.")
        return Reply(html=body, kind=kind, file_id=file_id, buttons=buttons)

    # -- /filters ----------------------------------------------------------------------
    async def list(self, ctx: CommandContext) -> None:
        target = await self.access.target(ctx, manage=not (ctx.chat is not None and ctx.chat.is_group))
        if target is None:
            return
        text, keyboard = self._page(ctx, target.scope, target.title, 0)
        await ctx.reply(text, keyboard=keyboard, html=True)

    async def page(self, ctx: CallbackContext) -> None:
        scope, page = int(ctx.args[0]), int(ctx.args[1])
        title = "this group"
        if scope != GLOBAL:
            try:
                title = (await self.app.telegram.resolve_chat(scope)).title or title
            except TelegramError:
                pass
        text, keyboard = self._page(ctx, scope, title, page)
        if ctx.message is not None:
            await self.app.telegram.edit_text(ctx.message.chat.id, ctx.message.id, text, keyboard=keyboard,
                                              html=True)
        await ctx.answer()

    def _page(self, ctx: Any, scope: int, title: str, page: int) -> tuple[str, Any]:
        filters = self.store.index(scope).all()
        if not filters:
            where = "There are no global filters." if scope == GLOBAL else f"No filters in {escape(title)}."
            return where + " Add one: /filter KEYWORD REPLY", None
        size = self.config.page_size
        pages = (len(filters) + size - 1) // size
        page = max(0, min(page, pages - 1))
        shown = filters[page * size:(page + 1) * size]
        head = "Global filters" if scope == GLOBAL else f"Filters in {escape(title)}"
        lines = [f"{head} ({len(filters)}):"] + [f"• <code>{escape(f.keyword)}</code>" for f in shown]
        if pages > 1:
            lines.append(f"Page {page + 1} of {pages}")
        nav = []
        if page > 0:
            nav.append(ctx.button("◀", PAGE_ACTION, scope, page - 1))
        if page < pages - 1:
            nav.append(ctx.button("▶", PAGE_ACTION, scope, page + 1))
        return "\n".join(lines), ([nav] if nav else None)

    # -- /stop, /stopall ---------------------------------------------------------------
    async def stop(self, ctx: CommandContext) -> None:
        keyword, _ = split_keyword(ctx.args)
        if ctx.args.strip()[:1] not in _QUOTES:
            keyword = ctx.args.strip()
        key = key_of(keyword)
        if not key:
            raise UsageError("Name the filter's keyword.")
        target = await self.access.target(ctx)
        if target is None:
            return
        if await self.store.remove(target.scope, key):
            await ctx.reply(f"Filter “{keyword}” removed from {target.title}.")
        else:
            await ctx.reply(f"No filter “{keyword}” in {target.title}. /filters lists them.")

    async def stop_all(self, ctx: CommandContext) -> None:
        target = await self.access.target(ctx)
        if target is None:
            return
        count = len(self.store.index(target.scope))
        if not count:
            await ctx.reply(f"No filters in {target.title}.")
            return
        # Bound to the asker: nobody else's press counts (the kernel refuses it).
        keyboard = [[ctx.button("Delete them all", STOPALL_ACTION, target.scope, "y"),
                     ctx.button("Cancel", STOPALL_ACTION, target.scope, "n")]]
        await ctx.reply(f"Delete all {count} filters of {target.title}? This cannot be undone.", keyboard=keyboard)

    async def confirm_stop_all(self, ctx: CallbackContext) -> None:
        scope, answer = int(ctx.args[0]), ctx.args[1]
        if answer != "y":
            await ctx.edit("Nothing was deleted.")
            return
        if not await self.access.may_manage(scope, ctx.user):
            await ctx.answer("Only this group's admins can do that.", alert=True)
            return
        removed = await self.store.remove_all(scope)
        await ctx.edit(f"Deleted {removed} filters." if removed != 1 else "Deleted 1 filter.")
