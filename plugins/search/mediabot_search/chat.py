"""Search in chats: a text message is a search, the answer a page of result buttons.

Private chat: file buttons deliver through ``app.delivery`` (quota and gates
apply), ◀/▶ page, "Send all on this page" delivers the page. Buttons are
signed and bound to the user who searched (the kernel refuses forged ones
and other users' presses); they carry a short key of the search and an
offset, the query itself stays in the user's session.

Groups (``groups = "mention"`` or ``"all"``): the same list, but every
result is a deep link that opens the private chat and delivers there, so no
file is ever posted into the group; ◀/▶ page it for the member who searched.
With ``groups = "all"``, plain chat ("hello everyone", "lol", questions) is
left alone (``skip_chatter``) and a search that finds nothing says nothing
(``quiet_misses``).

Text messages and inline queries reach the plugin as the kernel's handlers
(``search.text``, ``search.inline``): the kernel applies the per-user rate,
the plugin's ``rate`` (shared by both) and the ``search`` gate before they run.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from mediabot import Button, CallbackContext, CommandContext, Keyboard, MediaFile, Message, UpdateContext, User
from mediabot_search.chatter import is_chatter
from mediabot_search.config import SearchConfig
from mediabot_search.render import file_label, hint_text, nothing_text, summary_text
from mediabot_search.service import SearchPage, SearchService

__all__ = ["DEEP_LINK_FILE", "FILE_ACTION", "PAGE_ACTION", "SEND_ALL_ACTION", "ChatSearch"]

FILE_ACTION = "search.f"
PAGE_ACTION = "search.p"
SEND_ALL_ACTION = "search.a"
#: deep link action: deliver one catalogue file in the private chat (argument: its 24-hex id)
DEEP_LINK_FILE = "sf"
SESSION = "search"
RECENT = 5
GROUP_PAGE = "g"
GONE = "This file is no longer available."
STALE = "This result list is too old: search again."
_CATALOGUE_ID = re.compile(r"^[0-9a-f]{24}$")


class Recent(msgspec.Struct):
    key: str
    text: str


class Searches(msgspec.Struct):
    """A user's latest searches: buttons of the last few result lists keep working."""

    recent: list[Recent] = []

    def find(self, key: str) -> str | None:
        return next((r.text for r in self.recent if r.key == key), None)


def meaningful_length(text: str) -> int:
    return sum(1 for ch in text if ch.isalnum())


class ChatSearch:
    """The private-chat and group surface (see the module docstring)."""

    def __init__(self, app: Any, config: SearchConfig, service: SearchService) -> None:
        self.app = app
        self.config = config
        self.service = service

    # Buttons made outside a handler's context (page edits share the code) come from the app.
    def _button(self, user_id: int, text: str, action: str, *args: object) -> Button:
        return self.app.button(user_id, text, action, *args)

    # -- text messages (the kernel's handler ``search.text``) ---------------------------
    def wants(self, message: Message) -> bool:
        """The handler's filter: every private text; in groups, what ``groups`` says is a search."""
        if message.chat.is_private:
            return True
        return bool(message.text) and self._group_query(message.text) is not None

    async def on_text(self, ctx: UpdateContext) -> None:
        message = ctx.message
        assert message is not None and message.text
        if message.chat.is_private:
            await self._private(message, ctx.user, message.text)
            return
        text = self._group_query(message.text)
        if text is not None:
            await self._group(message, ctx.user, text)

    def _group_query(self, text: str) -> str | None:
        """The search in a group message, or ``None`` when it is not one."""
        mode = self.config.groups
        if mode == "off":
            return None
        me = getattr(getattr(self.app.gateway, "me", None), "username", None)
        mention = re.compile(rf"@{re.escape(me)}\b", re.IGNORECASE) if me else None
        if mention is not None and mention.search(text):
            return mention.sub(" ", text).strip()  # asked by name: always a search
        if mode != "all" or (self.config.skip_chatter and is_chatter(text)):
            return None
        return text

    async def _private(self, message: Message, user: User, text: str) -> None:
        if meaningful_length(text) < self.config.min_query_length:
            await self._say(message.chat.id, hint_text(self.config.min_query_length))
            return
        key = await self._remember(user.id, text)
        page = await self.service.search(text, limit=self.config.page_size)
        body, keyboard = self._private_page(user.id, key, text, page)
        await self.app.telegram.send_text(message.chat.id, body, keyboard=keyboard)

    async def _group(self, message: Message, user: User, text: str) -> None:
        if meaningful_length(text) < self.config.min_query_length:
            if not self.config.quiet_misses:
                await self._say(message.chat.id, hint_text(self.config.min_query_length), reply_to=message.id)
            return
        page = await self.service.search(text, limit=self.config.page_size)
        if not page.files:
            if not self.config.quiet_misses:
                await self._say(message.chat.id, nothing_text(text, page), reply_to=message.id)
            return
        key = await self._remember(user.id, text)
        body, keyboard = self._group_page(user.id, key, text, page)
        await self.app.telegram.send_text(message.chat.id, body, keyboard=keyboard, reply_to=message.id)

    def _group_page(self, user_id: int, key: str, text: str, page: SearchPage) -> tuple[str, Keyboard]:
        """Deep links to each file (they deliver in the private chat), and ◀/▶ for the member who searched."""
        keyboard: Keyboard = [[Button(text=file_label(f), url=self.app.deep_link(DEEP_LINK_FILE, f.id))]
                              for f in page.files]
        keyboard += self._nav(user_id, key, page, GROUP_PAGE)
        body = summary_text(text, page) + "\nTap a file: it arrives in your private chat with me."
        return body, keyboard

    def _private_page(self, user_id: int, key: str, text: str, page: SearchPage) -> tuple[str, Keyboard | None]:
        if not page.files:
            return nothing_text(text, page), self._nav(user_id, key, page) or None
        keyboard: Keyboard = [[self._button(user_id, file_label(f), FILE_ACTION, f.id)] for f in page.files]
        nav = self._nav(user_id, key, page)
        keyboard += nav
        if self.config.send_all and len(page.files) > 1:
            keyboard.append([self._button(user_id, "Send all on this page", SEND_ALL_ACTION, key, page.offset)])
        return summary_text(text, page), keyboard

    def _nav(self, user_id: int, key: str, page: SearchPage, *style: str) -> Keyboard:
        row: list[Button] = []
        if page.previous is not None:
            row.append(self._button(user_id, "◀", PAGE_ACTION, key, page.previous, *style))
        if page.next is not None:
            row.append(self._button(user_id, "▶", PAGE_ACTION, key, page.next, *style))
        return [row] if row else []

    async def _remember(self, user_id: int, text: str) -> str:
        store = self.app.sessions.namespace(SESSION)
        searches = await store.get(user_id, Searches) or Searches()
        key = secrets.token_hex(3)
        searches.recent = [Recent(key=key, text=text[:1024]), *searches.recent][:RECENT]
        await store.set(user_id, searches)
        return key

    async def _recall(self, ctx: CallbackContext) -> str | None:
        if not ctx.args:
            return None
        searches = await ctx.session(SESSION, Searches)
        return searches.find(ctx.args[0]) if searches else None

    # -- buttons ---------------------------------------------------------------------
    async def on_page(self, ctx: CallbackContext) -> None:
        text = await self._recall(ctx)
        if text is None or len(ctx.args) < 2:
            await ctx.answer(STALE, alert=True)
            return
        page = await self.service.search(text, limit=self.config.page_size, after=ctx.args[1])
        if ctx.args[2:3] == (GROUP_PAGE,):
            if not page.files:
                await ctx.answer(nothing_text(text, page), alert=True)
                return
            body, keyboard = self._group_page(ctx.user.id, ctx.args[0], text, page)
        else:
            body, keyboard = self._private_page(ctx.user.id, ctx.args[0], text, page)
        await ctx.edit(body, keyboard=keyboard)
        await ctx.answer()

    async def on_file(self, ctx: CallbackContext) -> None:
        file = await self._live_file(ctx.args[0] if ctx.args else "")
        if file is None:
            await ctx.answer(GONE, alert=True)
            return
        await ctx.answer()
        await self._deliver(ctx.user, [file])

    async def on_send_all(self, ctx: CallbackContext) -> None:
        text = await self._recall(ctx)
        if text is None or len(ctx.args) < 2:
            await ctx.answer(STALE, alert=True)
            return
        page = await self.service.search(text, limit=self.config.page_size, after=ctx.args[1])
        if not page.files:
            await ctx.answer(GONE, alert=True)
            return

        async def granted(count: int) -> None:
            # The number the quota grants, not the page's: 3 of 10 left says "Sending 3 files…".
            await ctx.answer(f"Sending {count} file…" if count == 1 else f"Sending {count} files…")

        # When nothing is granted the kernel answers the press without a toast, and
        # the user gets the reservation's message instead.
        await self._deliver(ctx.user, page.files, on_granted=granted)

    # -- deep links ------------------------------------------------------------------
    async def on_deep_link(self, ctx: CommandContext, args: tuple[str, ...]) -> None:
        file = await self._live_file(args[0] if args else "")
        if file is None:
            await ctx.reply(GONE)
            return
        await self._deliver(ctx.user, [file])

    async def _deliver(self, user: User, files: list[MediaFile],
                       on_granted: Callable[[int], Awaitable[None]] | None = None) -> None:
        # Delivery deletes the files after [delivery] auto_delete, with its notice under them.
        report = await self.app.delivery.send(user, files, on_granted=on_granted)
        if report.gone:
            # Delivery marked them dead (they leave every index); the user should know why nothing came.
            await self._say(user.id, GONE if len(files) == 1 else
                            f"{len(report.gone)} of these files are no longer available.")

    async def _live_file(self, file_id: str) -> MediaFile | None:
        if not _CATALOGUE_ID.match(file_id) or self.app.files is None:
            return None
        file = (await self.app.files.by_ids([file_id])).get(file_id)
        return None if file is None or file.dead else file

    async def _say(self, chat_id: int, text: str, *, keyboard: Keyboard | None = None,
                   reply_to: int | None = None) -> None:
        await self.app.telegram.send_text(chat_id, text, keyboard=keyboard, reply_to=reply_to)
