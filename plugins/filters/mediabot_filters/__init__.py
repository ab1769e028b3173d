"""mediabot-filters: manual keyword filters, per group and global, with buttons and media.

- :mod:`~mediabot_filters.store`: filters in MongoDB, an in-memory index per scope in every process,
  a change signal in Redis;
- :mod:`~mediabot_filters.index` and :mod:`~mediabot_filters.words`: matching (whole words, phrases,
  longest keyword wins);
- :mod:`~mediabot_filters.manage`, :mod:`~mediabot_filters.transfer`: the admin commands;
- :mod:`~mediabot_filters.access`: group-admin checks with Telegram and connections;
- :mod:`~mediabot_filters.render`: sending a reply (placeholders, buttons, files).

A matching message is answered by the handler ``filters.match`` (order 50, before search's 100);
one that matches nothing is declined and goes on to search. See ``docs/filters.md``.
"""

from __future__ import annotations

import logging
from typing import Any

from mediabot import (
    Callback,
    CallbackContext,
    Command,
    CommandContext,
    Handler,
    HealthReport,
    Message,
    PluginContext,
    PluginMeta,
    Rate,
    TelegramError,
    UpdateContext,
    hookimpl,
)
from mediabot_filters.access import Access
from mediabot_filters.anonymous import ANON_ACTION, AnonymousAdmins
from mediabot_filters.config import FiltersConfig
from mediabot_filters.manage import PAGE_ACTION, STOPALL_ACTION, Manage
from mediabot_filters.model import GLOBAL, Filter
from mediabot_filters.render import ALERT_ACTION, send_reply
from mediabot_filters.store import FilterStore
from mediabot_filters.transfer import Transfer
from mediabot_filters.words import words

__all__ = ["FiltersConfig", "FiltersPlugin"]

log = logging.getLogger("mediabot.plugin.filters")
SWITCH_ACTION = "filters.c"
#: Where filters answer among the handlers: before search (100).
ORDER = 50


class FiltersPlugin:
    meta = PluginMeta(
        name="filters",
        description="Manual keyword filters per group and global, with buttons and media; connections.",
        config=FiltersConfig,
        needs=("mongo",),
    )

    def __init__(self, ctx: PluginContext[FiltersConfig]) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.rate = Rate.parse(ctx.config.group_rate)
        self.store: FilterStore | None = None
        self.access: Access | None = None
        self.manage: Manage | None = None
        self.transfer: Transfer | None = None
        self.anonymous: AnonymousAdmins | None = None
        ctx.storage.declare_index("filters", [("scope", 1)], name="scope")

    # -- lifecycle ---------------------------------------------------------------------
    @hookimpl
    async def mediabot_startup(self, app: Any) -> None:
        storage = self.ctx.storage
        store = self.store = FilterStore(storage.collection("filters"), app.redis, storage.key,
                                         refresh=self.config.refresh, sleep=app.clock.sleep)
        await store.load_all()
        self.access = Access(app, storage.collection("connections"))
        self.manage = Manage(app, self.config, store, self.access)
        self.transfer = Transfer(app, self.config, store, self.access)
        self.anonymous = AnonymousAdmins(app, self.access, self._managing)
        if app.redis is not None:
            self.ctx.spawn_loop(store.follow, name="follow")

    @hookimpl
    def mediabot_health(self) -> list[HealthReport]:
        if self.store is None:
            return [HealthReport(component="filters", status="down", detail="not started")]
        scopes = self.store.scopes()
        total = sum(len(self.store.index(s)) for s in scopes)
        return [HealthReport(component="filters", status="ok", detail=f"{total:,} filters in {len(scopes)} scopes")]

    async def sync(self) -> None:
        """Read the change signal now (tests, tools): other processes' changes are then in memory."""
        assert self.store is not None
        await self.store.catch_up()

    # -- matching (the hot path: memory only) -------------------------------------------
    @hookimpl
    def mediabot_handlers(self) -> list[Handler]:
        return [Handler(name="match", handler=self._on_message, chats=("private", "group"), content="any",
                        when=self._may_match, order=ORDER)]

    def _may_match(self, message: Message) -> bool:
        if self.store is None or not (message.text or message.caption):
            return False
        scope = GLOBAL if message.chat.is_private else message.chat.id
        return bool(len(self.store.index(scope)) or len(self.store.index(GLOBAL)))

    def find(self, message: Message) -> Filter | None:
        """The filter that answers ``message``: the group's longest match, else a global one.

        In the private chat only global filters apply, and only when the
        whole message is the keyword (so a search for a word stays a search).
        """
        assert self.store is not None
        found = words(message.text or message.caption)
        if message.chat.is_private:
            return self.store.index(GLOBAL).exact(found)
        return self.store.index(message.chat.id).match(found) or self.store.index(GLOBAL).match(found)

    async def _on_message(self, ctx: UpdateContext) -> bool:
        message = ctx.message
        assert message is not None
        f = self.find(message)
        if f is None:
            return False  # declined: search (or the next handler) answers
        app = self.ctx.app
        if app.ratelimiter is not None and not message.chat.is_private:
            decision = await app.ratelimiter.check(f"filters:g:{message.chat.id}", self.rate)
            if not decision.allowed:
                return True  # a flood of keywords: claimed without a reply, so nobody floods the group
        try:
            await send_reply(app, f, message.chat.id, user=ctx.user, chat_title=message.chat.title,
                             reply_to=message.id if message.chat.is_group else None)
        except TelegramError as exc:
            log.warning("filters: could not send the reply of %r in chat %d: %s", f.keyword, message.chat.id, exc)
        return True

    # -- commands and buttons ----------------------------------------------------------
    @hookimpl
    def mediabot_commands(self) -> list[Command]:
        return [
            Command(name="filter", description="Add a keyword filter (in a group, or a connected one)",
                    usage='KEYWORD REPLY | "several words" REPLY | KEYWORD (in reply to a message)',
                    handler=self._run("manage", "add"), rate_limit="20/min"),
            Command(name="filters", description="List the filters of this group", handler=self._run("manage", "list")),
            Command(name="stop", description="Remove a keyword filter", usage="KEYWORD",
                    handler=self._run("manage", "stop")),
            Command(name="stopall", description="Remove every filter of this group (asks first)",
                    handler=self._run("manage", "stop_all")),
            Command(name="connect", description="Manage a group's filters from here", usage="[GROUP]",
                    handler=self._connect),
            Command(name="connections", description="Your connected groups", handler=self._connections,
                    scopes=("private",)),
            Command(name="disconnect", description="Stop managing a group from here", handler=self._disconnect,
                    scopes=("private",)),
            Command(name="export_filters", description="This group's filters as a JSON document",
                    handler=self._run("transfer", "export"), rate_limit="3/min"),
            Command(name="import_filters", description="Import filters (in reply to an export)",
                    handler=self._run("transfer", "import_"), rate_limit="3/min"),
        ]

    def _managing(self) -> dict[str, Command]:
        """The commands an anonymous admin may run through the confirm button (those that manage a group)."""
        return {c.name: c for c in self.mediabot_commands()
                if c.name in ("filter", "filters", "stop", "stopall", "export_filters", "import_filters")}

    @hookimpl
    def mediabot_middleware(self) -> list[Any]:
        async def anonymous(incoming: Any, call_next: Any) -> None:
            if self.anonymous is None:
                await call_next()
            else:
                await self.anonymous.middleware(incoming, call_next)

        return [anonymous]

    def _run(self, part: str, method: str) -> Any:
        async def handler(ctx: Any) -> None:
            owner = getattr(self, part)
            assert owner is not None, "commands run once the plugin is started"
            await getattr(owner, method)(ctx)

        return handler

    @hookimpl
    def mediabot_callbacks(self) -> list[Callback]:
        return [Callback(ALERT_ACTION, self._alert), Callback(PAGE_ACTION, self._run("manage", "page")),
                Callback(STOPALL_ACTION, self._run("manage", "confirm_stop_all")),
                Callback(SWITCH_ACTION, self._switch), Callback(ANON_ACTION, self._run("anonymous", "confirm"))]

    async def _alert(self, ctx: CallbackContext) -> None:
        assert self.store is not None
        scope, filter_id, n = int(ctx.args[0]), ctx.args[1], int(ctx.args[2])
        f = self.store.index(scope).by_id(filter_id)
        specs = [b for row in f.reply.buttons for b in row] if f is not None else []
        if 0 <= n < len(specs) and specs[n].alert:
            await ctx.answer(specs[n].alert, alert=True)
        else:
            await ctx.answer("This button has expired.")

    # -- connections -------------------------------------------------------------------
    async def _connect(self, ctx: CommandContext) -> None:
        access = self.access
        assert access is not None and ctx.chat is not None
        app = self.ctx.app
        if ctx.chat.is_group:
            chat = ctx.chat
        else:
            ref = ctx.args.strip()
            if not ref:
                await ctx.reply("Usage: /connect GROUP (its @username or id, e.g. -1001234567890)")
                return
            try:
                chat = await app.telegram.resolve_chat(int(ref) if ref.lstrip("-").isdigit() else ref)
            except (TelegramError, ValueError):
                await ctx.reply(f"I cannot find {ref!r}: add me to the group first, then use its @username or id.")
                return
            if not chat.is_group:
                await ctx.reply(f"{ref} is not a group.")
                return
        title = chat.title or str(chat.id)
        if not await access.is_group_admin(chat.id, ctx.user.id):
            await ctx.reply(f"Only admins of {title} can connect to it.")
            return
        await access.connect(ctx.user.id, chat.id, title)
        if ctx.chat.is_group:
            await ctx.reply(f"Connected: in my private chat, /filter, /filters and /stop now act on {title}.")
        else:
            await ctx.reply(f"Connected to {title}: /filter, /filters and /stop here now act on it. "
                            "/disconnect to stop.")

    async def _connections(self, ctx: CommandContext) -> None:
        assert self.access is not None
        groups, active = await self.access.connections(ctx.user.id)
        if not groups:
            await ctx.reply("You have no connections. /connect GROUP (you must be one of its admins).")
            return
        keyboard = [[ctx.button(("✅ " if g == active else "") + title, SWITCH_ACTION, g)] for g, title in groups]
        await ctx.reply("Your connections (press one to make it the active one):", keyboard=keyboard)

    async def _switch(self, ctx: CallbackContext) -> None:
        assert self.access is not None
        chat_id = int(ctx.args[0])
        if not await self.access.is_group_admin(chat_id, ctx.user.id):
            await ctx.answer("You are not an admin of that group any more.", alert=True)
            return
        if not await self.access.switch(ctx.user.id, chat_id):
            await ctx.answer("That connection is gone: /connect again.", alert=True)
            return
        groups, active = await self.access.connections(ctx.user.id)
        title = next((t for g, t in groups if g == active), str(chat_id))
        keyboard = [[ctx.button(("✅ " if g == active else "") + t, SWITCH_ACTION, g)] for g, t in groups]
        await ctx.edit(f"Connected to {title}. Your connections:", keyboard=keyboard)

    async def _disconnect(self, ctx: CommandContext) -> None:
        assert self.access is not None
        gone = await self.access.disconnect(ctx.user.id)
        if gone is None:
            await ctx.reply("You are not connected to any group.")
        else:
            await ctx.reply(f"Disconnected from {gone[1]}.")
