"""mediabot-access: force-subscribe to one or more chats, and maintenance mode.

How it guards (``docs/access.md`` for operators):

- a **middleware** sees every update first: it answers everyone but the
  admins while maintenance mode is on, answers a non-member's inline query
  with an article that opens the private chat (``inline``), refuses
  commands (``commands``), and remembers the update being handled, so that
  a refusal further down can keep it for Try again;
- a **gate** (``mediabot_gate``) refuses the kernel's actions the config
  names — ``deliver`` (every file, whoever sends it), ``deep_link``
  (``/start PAYLOAD``), ``search``, ``inline`` — with one message: a Join
  button per chat still to join and a Try again button;
- **Try again** re-checks membership (ignoring a cached "no") and hands the
  refused update back to ``app.dispatch``: the file they pressed, the link
  they opened, the search they typed, done as if sent again
  (:mod:`mediabot_access.retry`);
- an **observer** (``mediabot_update``) applies ``ChatMemberUpdated``
  (joined, left, banned) and ``JoinRequest`` updates to the shared cache
  (:mod:`mediabot_access.membership`).
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

import msgspec

from mediabot import (
    Button,
    Callback,
    CallbackContext,
    CallbackQuery,
    Chat,
    ChatMemberUpdated,
    Command,
    CommandContext,
    GateRefusal,
    HealthReport,
    Incoming,
    InlineQuery,
    InlineResult,
    JoinRequest,
    Keyboard,
    Message,
    PluginContext,
    PluginMeta,
    TelegramError,
    Update,
    User,
    hookimpl,
)
from mediabot_access.admin import AdminCommands
from mediabot_access.config import AccessConfig, ChannelConfig
from mediabot_access.links import InviteLinks
from mediabot_access.maintenance import Maintenance
from mediabot_access.membership import Check, Membership
from mediabot_access.retry import PendingActions

__all__ = ["AccessConfig", "AccessPlugin", "ChannelConfig"]

log = logging.getLogger("mediabot.plugin.access")

RETRY_ACTION = "access.retry"
#: Deep link of the inline article: opens the private chat and finishes the search typed inline.
OPEN_LINK = "acc"
UNAVAILABLE = "We cannot check your membership right now. Please try again in a minute."
NOT_YET = "You have not joined {chats} yet."
THANKS = "Thanks for joining!"
EXPIRED = "This request is too old: please ask again."
WELCOME_IN = "You're in! Send me the title you are looking for."
#: Commands the ``commands`` action never guards: they are how a newcomer finds out what to do.
FREE_COMMANDS = frozenset({"start", "help"})


class _Handling:
    """The update the middleware let through, as gates further down see it (one per update)."""

    __slots__ = ("passed", "update")

    def __init__(self, update: Update) -> None:
        self.update = update
        #: membership was verified for this update: the next gate of the same update costs nothing
        self.passed = False


class AccessPlugin:
    meta = PluginMeta(
        name="access",
        description="Force-subscribe to channels (member or join-request mode) with Try again; maintenance mode.",
        config=AccessConfig,
        needs=("mongo",),
    )

    def __init__(self, ctx: PluginContext[AccessConfig]) -> None:
        self.ctx = ctx
        self.config = cfg = ctx.config
        app = ctx.app
        self.app = app
        self.membership = Membership(app, cfg, ctx.storage.key)
        self.links = InviteLinks(app, cfg, ctx.storage)
        self.pending = PendingActions(app, cfg.retry_ttl)
        self.maintenance = Maintenance(app, ctx.storage, cfg.maintenance_poll)
        self.admin = AdminCommands(self)
        self._guarded = cfg.gate_actions if cfg.channels else frozenset()
        self._commands = bool(cfg.channels) and "commands" in cfg.actions
        self._exempt = frozenset(cfg.exempt_users)
        self._exempt_admins = cfg.exempt_admins
        # Per instance, not per module: two apps in one process never share it.
        self._handling: contextvars.ContextVar[_Handling | None] = contextvars.ContextVar(
            f"access-{id(self)}", default=None)
        m = app.metrics
        self.refusals = m.counter("mediabot_access_refusals_total", "Actions refused until the user joins",
                                  ["action"])
        self.completions = m.counter("mediabot_access_completions_total",
                                     "Refused actions finished by Try again once the user had joined")
        self.joins = m.counter("mediabot_access_joins_total", "Users who joined a chat through the bot's link",
                               ["chat"])

    # -- lifecycle -------------------------------------------------------------------
    @hookimpl
    async def mediabot_startup(self) -> None:
        await self.maintenance.refresh()
        self.ctx.spawn_loop(self.maintenance.run, name="maintenance")
        if not self._exempt_admins:
            self.app.gates.ask_about_staff(self.ctx.name)

    @hookimpl
    def mediabot_health(self) -> list[HealthReport]:
        state = self.maintenance.state
        reports = []
        if state.on:
            since = f" since {state.since:%Y-%m-%d %H:%M} UTC" if state.since else ""
            reports.append(HealthReport(component="access.maintenance", status="degraded",
                                        detail=f"maintenance mode on{since}: {state.message}"))
        elif self.maintenance.error:
            reports.append(HealthReport(component="access.maintenance", status="degraded",
                                        detail=f"cannot read the flag (last known: off): {self.maintenance.error}"))
        else:
            reports.append(HealthReport(component="access.maintenance", status="ok", detail="maintenance mode off"))
        if self.config.channels:
            errors = self.membership.errors
            if errors:
                shown = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
                reports.append(HealthReport(component="access.channels", status="degraded",
                                            detail=f"Telegram cannot answer for {shown} (on_error = "
                                                   f"{self.config.on_error})"))
            else:
                reports.append(HealthReport(component="access.channels", status="ok",
                                            detail=f"{len(self.config.channels)} chat(s) to join"))
        return reports

    # -- commands and buttons --------------------------------------------------------
    @hookimpl
    def mediabot_commands(self) -> list[Command]:
        return self.admin.commands()

    @hookimpl
    def mediabot_callbacks(self) -> list[Callback]:
        return [Callback(RETRY_ACTION, self.on_retry)]

    # -- the middleware ----------------------------------------------------------------
    @hookimpl
    def mediabot_middleware(self) -> list[Any]:
        return [self.middleware]

    async def middleware(self, incoming: Incoming, call_next: Any) -> None:
        handling = _Handling(incoming.update)
        token = self._handling.set(handling)
        try:
            if self.maintenance.on and not incoming.is_staff and incoming.user is not None:
                if await self.admin.maintenance_stops(incoming):
                    return
            user = incoming.user
            if user is not None and not incoming.is_staff:
                if incoming.kind == "inline" and "inline" in self._guarded:
                    assert isinstance(incoming.update, InlineQuery)
                    if await self._inline_refused(incoming.update, user):
                        return
                elif self._commands and incoming.command is not None and incoming.command not in FREE_COMMANDS:
                    refusal = await self.verify(user, "commands")
                    if refusal is not None:
                        await incoming.refuse(refusal.text, refusal.keyboard)
                        return
            await call_next()
        finally:
            self._handling.reset(token)

    # -- the gate ----------------------------------------------------------------------
    @hookimpl
    async def mediabot_gate(self, user: User, action: str) -> GateRefusal | None:
        if action not in self._guarded:
            return None
        return await self.verify(user, action)

    async def verify(self, user: User, action: str, *, keep: bool = True) -> GateRefusal | None:
        """``None`` when ``user`` is in every chat (or exempt), else the refusal (keeping the update for Try again)."""
        if user.id in self._exempt or (self._exempt_admins and self.app.role_of(user.id) != "user"):
            return None
        handling = self._handling.get()
        if handling is not None and handling.passed:
            return None
        missing = self._missing(await self.membership.check(user.id))
        if not missing:
            if handling is not None:
                handling.passed = True
            return None
        self.refusals.labels(action=action).inc()
        await self.admin.count_today("refusals")
        key = None
        if keep and handling is not None:
            key = await self.pending.keep(user.id, handling.update)
        return await self._refusal(user.id, missing, key)

    def _missing(self, checks: list[Check]) -> list[Check]:
        closed = self.config.on_error == "closed"
        return [c for c in checks if c.verdict == "out" or (c.verdict == "error" and closed)]

    def _names(self, missing: list[Check]) -> str:
        names = [c.channel.shown for c in missing]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    async def _refusal(self, user_id: int, missing: list[Check], key: str | None) -> GateRefusal:
        to_join = [c for c in missing if c.verdict == "out"]
        text = self.config.text.replace("{chats}", self._names(to_join)) if to_join else UNAVAILABLE
        keyboard: Keyboard = []
        for c in to_join:
            link = await self.links.link(c.channel)
            if link is not None:
                keyboard.append([Button(text=f"Join {c.channel.shown}", url=link)])
        if key is not None:
            keyboard.append([self.app.button(user_id, "Try again", RETRY_ACTION, key)])
        return GateRefusal(text=text, keyboard=keyboard or None)

    # -- inline ------------------------------------------------------------------------
    async def _inline_refused(self, query: InlineQuery, user: User) -> bool:
        """Answer a non-member's inline query with one article that opens the private chat; ``True`` if refused."""
        handling = self._handling.get()
        missing = self._missing(await self.membership.check(user.id))
        if not missing:
            if handling is not None:
                handling.passed = True
            return False
        self.refusals.labels(action="inline").inc()
        args: tuple[str, ...] = ()
        if query.query.strip():
            # Opening the bot finishes the search: the query, as if typed in the private chat.
            typed = Message(id=0, chat=Chat(id=user.id, type="private"), date=0, from_user=user,
                            text=query.query.strip())
            args = (await self.pending.keep(user.id, typed),)
        to_join = [c for c in missing if c.verdict == "out"]
        text = self.config.text.replace("{chats}", self._names(to_join)) if to_join else UNAVAILABLE
        try:
            link = self.app.deep_link(OPEN_LINK, *args)
            article = InlineResult(id="access-join", title="Open the bot to search",
                                   description=text[:200], text=text,
                                   keyboard=[[Button(text="Open the bot", url=link)]])
            await self.app.telegram.answer_inline(query.id, [article], cache_time=0)
        except (TelegramError, RuntimeError) as exc:
            log.warning("access: could not answer an inline query: %s: %s", type(exc).__name__, exc)
        return True

    @hookimpl
    async def mediabot_deep_link(self, ctx: CommandContext, action: str, args: tuple[str, ...]) -> bool | None:
        if action != OPEN_LINK:
            return None
        refusal = await self.verify(ctx.user, "deep_link")
        if refusal is not None:
            await ctx.reply(refusal.text, keyboard=refusal.keyboard)
            return True
        update = await self.pending.take(ctx.user.id, args[0]) if args else None
        if update is None:
            await ctx.reply(WELCOME_IN)
            return True
        await self.app.dispatch(update)
        return True

    # -- Try again ---------------------------------------------------------------------
    async def on_retry(self, ctx: CallbackContext) -> None:
        if not self.config.channels:
            await ctx.answer(EXPIRED, alert=True)
            return
        missing = self._missing(await self.membership.check(ctx.user.id, fresh=True))
        if missing:
            to_join = [c for c in missing if c.verdict == "out"]
            await ctx.answer(NOT_YET.format(chats=self._names(to_join)) if to_join else UNAVAILABLE, alert=True)
            return
        update = await self.pending.take(ctx.user.id, ctx.args[0]) if ctx.args else None
        if ctx.message is not None:
            try:
                await ctx.edit(THANKS if update is not None else EXPIRED)
            except TelegramError as exc:
                log.debug("access: could not edit a refusal: %s", exc)
        if update is None:
            await ctx.answer(EXPIRED, alert=True)
            return
        self.completions.inc()
        await self.admin.count_today("completions")
        if isinstance(update, CallbackQuery):
            # The refused press was answered long ago; this press is the one the user waits on.
            update = msgspec.structs.replace(update, id=ctx.query.id)
            ctx.answered = True
        else:
            await ctx.answer()
        await self.app.dispatch(update)

    # -- what Telegram tells us --------------------------------------------------------
    def channel_of(self, chat: Chat) -> ChannelConfig | None:
        username = (chat.username or "").lower()
        for ch in self.config.channels:
            if ch.chat == chat.id or (username and ch.key == username):
                return ch
        return None

    @hookimpl
    async def mediabot_update(self, update: Any) -> None:
        if isinstance(update, ChatMemberUpdated):
            if update.is_bot:
                return
            channel = self.channel_of(update.chat)
            if channel is None:
                return
            if update.joined:
                await self.membership.joined(channel, update.user.id)
                link = update.invite_link.link if update.invite_link is not None else None
                if await self.links.is_ours(channel, link):
                    self.joins.labels(chat=channel.key).inc()
                    await self.admin.count_gained(channel)
            elif update.left or update.new_status in ("left", "banned"):
                await self.membership.left(channel, update.user.id)
        elif isinstance(update, JoinRequest):
            channel = self.channel_of(update.chat)
            if channel is None or channel.mode != "request":
                return
            await self.membership.requested(channel, update.from_user.id)
            if self.config.approve_requests:
                try:
                    await self.app.telegram.approve_join_request(update.chat.id, update.from_user.id)
                except TelegramError as exc:
                    log.warning("access: could not approve %d's request to %s: %s", update.from_user.id,
                                channel.chat, exc)

