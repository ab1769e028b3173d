"""The dispatcher: where every update goes, and what a user is told when it goes nowhere.

Per update, in order:

1. Updates from a banned sender are dropped (``app.users.is_banned``, an
   in-memory check, on :attr:`~mediabot.Message.sender_id`: the user, or for a
   message with no user account behind it — sent as a channel, by an
   anonymous group admin, a channel post — the chat it was sent as);
   private-chat senders are recorded (``app.users.touch``) — both only when a
   user directory is installed as ``app.users``.
2. Button presses: the callback data is verified (signature, user binding,
   age) before any plugin sees it; a forged or stale press is answered
   "This button has expired." and nothing else happens. A valid one runs the
   :class:`~mediabot.core.callbacks.Callback` registered for its action.
3. ``/commands`` (parsed by :func:`~mediabot.core.commands.parse_command`, the
   parse plugins see as ``Message.command``): routed through the registry with
   scope, role, rate-limit and argument checks, then run with a
   :class:`~mediabot.core.context.CommandContext`. Commands need a user
   account: one sent as a chat is refused (rate limited on the chat's id), and
   a channel post is never a command.
4. Everything else goes to the observers (every plugin's ``mediabot_update``,
   concurrently; they watch but never answer) and to the handlers plugins
   declare (:class:`~mediabot.core.routing.Handler`): the first one whose
   filter matches runs, after the sender's per-user rate (``[services]
   user_rate``, shared with commands and buttons); a handler returning
   ``False`` declines and the next one runs (:mod:`mediabot.core.routing`).

Between steps 1 and 2, the plugins' middlewares (``mediabot_middleware``,
:mod:`mediabot.core.middleware`) see every update and may stop it.

Commands, buttons and handlers share one sequence after routing
(:meth:`Dispatcher._run`): role, then the handler's own rate, then the gate,
then the handler, isolated: a handler that raises goes down the one failure
path (:class:`~mediabot.core.failures.PluginFailures`: logged with its
plugin's name, counted in ``mediabot_plugin_errors_total``, the user gets a
short apology): one plugin's bug never takes the bot down. Refusals are
themselves rate-limited: past a few a minute a user's refused updates get no
answer (a press is still answered, silently, to stop its spinner).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mediabot.core.callbacks import CallbackSigner, InvalidCallback
from mediabot.core.chat_events import tell_membership
from mediabot.core.commands import Role, parse_command
from mediabot.core.context import CallbackContext, CommandContext, UsageError
from mediabot.core.failures import APOLOGY
from mediabot.core.middleware import Middleware, MiddlewareChain
from mediabot.core.rate import Decision, Rate
from mediabot.core.registry import Registry, may_use
from mediabot.core.routing import Handler, Route, Routes, sender_of
from mediabot.core.types import (
    CallbackQuery,
    ChatMemberUpdated,
    InlineQuery,
    Keyboard,
    Message,
    PreCheckoutQuery,
    Update,
    User,
)

if TYPE_CHECKING:
    from mediabot.core.app import App

__all__ = ["APOLOGY", "EXPIRED", "NO_ACCOUNT", "Dispatcher", "parse_command", "retry_text"]

log = logging.getLogger("mediabot.dispatch")

EXPIRED = "This button has expired."
NO_ACCOUNT = "Commands need a user account: send it as yourself, not as a channel or anonymously."
_ROLE_REFUSAL: dict[str, str] = {"admin": "This command is for admins only.",
                                 "owner": "This command is for the bot owner only."}
_BUTTON_REFUSAL: dict[str, str] = {"admin": "This button is for admins only.",
                                   "owner": "This button is for the bot owner only."}
_SCOPE_REFUSAL: dict[str, str] = {"private": "This command works in a private chat with the bot.",
                                  "group": "This command works in groups only."}


#: Refusal answers a user may get (role, scope, gate, a handler's rate): past it they are dropped silently.
REFUSAL_RATE = Rate(count=6, period=60.0, burst=3)
#: How often a banned user is told so: once a day at most.
BANNED_RATE = Rate(count=1, period=86_400.0)


def _paid(update: Update) -> bool:
    """A successful payment's message (Telegram sends it once: never dropped by a rate or a middleware)."""
    return type(update) is Message and update.payment is not None


def retry_text(seconds: float) -> str:
    """What a user who is over a rate is told: ``Slow down: try again in N s.`` (rounded up, at least 1)."""
    return f"Slow down: try again in {max(1, math.ceil(seconds))} s."


@dataclass(frozen=True, slots=True)
class _Run:
    """One routed command or button press, as :meth:`Dispatcher._run` checks and runs it.

    :param label: the metrics label (``kick``, ``button:tools.nuke``).
    :param shown: how log lines name it (``/kick``, ``button tools.nuke``).
    :param where: where a failure happened, for the failure path (``/kick``, ``button:tools.nuke``).
    :param refuse: tell the user ``text`` (``None``: nothing to say), with an optional keyboard.
    :param handle: run the handler with the caller's role.
    :param apologise: what the failure path tells the user.
    """

    label: str
    shown: str
    where: str
    plugin: str
    user: User
    needed: Role
    role_refusal: str
    rate: Rate | None
    gate: str | None
    refuse: Callable[[str | None, Keyboard | None], Awaitable[None]]
    handle: Callable[[Role], Awaitable[None]]
    apologise: Callable[[str], Awaitable[None]]


class Dispatcher:
    """Routes updates for one app. Owned by the app as ``app.dispatcher``."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.registry = Registry()
        self.routes = Routes()
        self._chain = MiddlewareChain(app, (), self._route)
        self._signer: CallbackSigner | None = None
        self._user_rate = Rate(count=20, period=60.0)  # replaced by [services] user_rate at prepare()
        m = app.metrics
        self.failures = app.host.failures  # one failure path for hooks and handlers
        self._refused = m.counter("mediabot_commands_refused_total",
                                  "Commands and button presses refused, by reason (role, scope, rate)",
                                  ["command", "reason"])
        self._ran = m.counter("mediabot_commands_total", "Commands and button presses handed to a handler",
                              ["command"])
        self._bad_buttons = m.counter("mediabot_callbacks_refused_total",
                                      "Button presses refused before any plugin saw them", ["reason"])
        self._handled = m.counter("mediabot_handled_total", "Updates a handler claimed, by route", ["route"])

    # -- setup ---------------------------------------------------------------------
    @property
    def signer(self) -> CallbackSigner:
        """Makes and verifies button data (secret from ``MEDIABOT_CALLBACK_SECRET``)."""
        if self._signer is None:
            # Made on first use, not in __init__: an app built only to list plugins needs no secret.
            self._signer = CallbackSigner.from_env(self.app.env, ttl=self.app.section("bot").button_ttl)
        return self._signer

    async def prepare(self) -> None:
        """Build the registry from the collected commands and the plugins' button handlers.

        Called by :meth:`App.start` after ``mediabot_commands`` was collected.
        """
        app = self.app
        _ = self.signer  # a missing secret is reported at startup, not at the first button
        self._user_rate = Rate.parse(app.section("services").user_rate)
        callbacks = [(plugin, cb) for plugin, result in await app.host.collect("mediabot_callbacks", app=app)
                     for cb in result or ()]
        self.registry = Registry(app.commands, callbacks)
        handlers: list[tuple[str, Handler]] = [
            (plugin, h) for plugin, result in await app.host.collect("mediabot_handlers", app=app)
            for h in result or ()]
        self.routes = Routes(handlers, order=app.section("routing").order, source=app.config.file_label)
        middlewares: list[tuple[str, Middleware]] = [
            (plugin, mw) for plugin, result in await app.host.collect("mediabot_middleware", app=app)
            for mw in result or ()]
        self._chain = MiddlewareChain(app, middlewares, self._route)

    async def publish_menus(self) -> None:
        """Set Telegram's command menus: user commands for everyone, more for each admin and the owner.

        A failure (say, an admin who never opened the bot: Telegram refuses a
        menu for that chat) is logged and the next scope is still set.
        """
        if self.app.gateway is None:
            return
        tg = self.app.telegram
        try:
            await tg.set_commands(self.registry.menu("user"), scope="users")
        except Exception as exc:  # noqa: BLE001 - a menu is a convenience, never a reason to stop
            log.warning("could not set the users' command menu: %s: %s", type(exc).__name__, exc)
        bot = self.app.section("bot")
        staff = sorted({*bot.admins, *([bot.owner] if bot.owner is not None else [])})
        for uid in staff:
            try:
                await tg.set_commands(self.registry.menu(self.app.role_of(uid)), scope="admins", chat_id=uid)
            except Exception as exc:  # noqa: BLE001
                log.warning("could not set the command menu of admin %d: %s: %s", uid, type(exc).__name__, exc)

    # -- routing -------------------------------------------------------------------
    async def dispatch(self, update: Update) -> None:
        """Handle one update (see the module docstring for the order)."""
        sender = getattr(update, "sender_id", None)
        if sender is None:
            found = sender_of(update)
            sender = found.id if found is not None else None
        users = self.app.users
        if users is not None and sender is not None:
            if users.is_banned(sender) and not _paid(update):
                await self._tell_banned(update, sender)
                return
            if type(update) is Message and update.from_user is not None and update.chat.is_private:
                await self._touch(users, update.from_user)
        if self._chain and not _paid(update):
            await self._chain.run(update)
        else:  # a payment is delivered once: no middleware may drop it (its plugin decides)
            await self._route(update)

    async def _route(self, update: Update) -> None:
        """After the middlewares: a button, a command, or the observers and the handlers."""
        if type(update) is CallbackQuery:
            await self._press(update)
            return
        if type(update) is Message and update.text and update.text[0] == "/" and not update.is_channel_post:
            parsed = parse_command(update.text)
            if parsed is not None:
                await self._command(update, *parsed)
                return
        if type(update) is ChatMemberUpdated and update.is_bot:
            await tell_membership(self.app, update)
        candidates = self.routes.candidates(update) if self.routes.routes else []
        if not candidates:  # a channel post, an edit, chat nobody answers: the observers only
            await self.app.host.notify("mediabot_update", app=self.app, update=update)
            return
        # Observers watch every such update; they run beside the handler, never delaying its answer.
        await asyncio.gather(self.app.host.notify("mediabot_update", app=self.app, update=update),
                             self._handle(update, candidates))

    async def _tell_banned(self, update: Update, uid: int) -> None:
        """A banned user is told so once a day, in a private chat or on a press; never in a group."""
        text = self.app.section("bot").banned_text
        if type(update) is CallbackQuery:
            told = text and await self._limited(f"u:{uid}:banned", BANNED_RATE) is None
            await self._answer(update, text if told else None, alert=bool(told))
        elif type(update) is Message and update.chat.is_private and text:
            if await self._limited(f"u:{uid}:banned", BANNED_RATE) is None:
                await self._say(update, text)

    async def _touch(self, users: Any, user: User) -> None:
        try:
            result = users.touch(user)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - recording a user must not cost them their answer
            log.warning("could not record user %d: %s: %s", user.id, type(exc).__name__, exc)

    # -- the sequence commands and buttons share -------------------------------------
    async def _run(self, r: _Run, *, rate_key: str | None = None) -> None:
        """Role, the handler's own rate, the gate, then the handler, isolated from the bot."""
        uid = r.user.id
        role = self.app.role_of(uid)
        if not may_use(role, r.needed):
            self._refused.labels(command=r.label, reason="role").inc()
            log.warning("refused %s to user %d: needs role %s, has %s", r.shown, uid, r.needed, role,
                        extra={"user_id": uid, "command": r.label})
            await r.refuse(await self._refusal(uid, r.role_refusal), None)
            return
        if r.rate is not None:
            refusal = await self._limited(rate_key or f"u:{uid}:c:{r.label}", r.rate)
            if refusal is not None:
                self._refused.labels(command=r.label, reason="rate").inc()
                await r.refuse(retry_text(refusal.retry_after) if refusal.notify else None, None)
                return
        if r.gate is not None:
            closed = await self.app.gates.check(r.user, r.gate)
            if closed is not None:
                self._refused.labels(command=r.label, reason="gate").inc()
                text = await self._refusal(uid, closed.text)
                await r.refuse(text, closed.keyboard if text is not None else None)
                return
        self._ran.labels(command=r.label).inc()
        try:
            await r.handle(role)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a plugin's bug costs one answer, not the bot
            await self.failures.apologise(r.plugin, r.where, exc, r.apologise)

    async def _refusal(self, uid: int, text: str | None) -> str | None:
        """``text``, or ``None`` when this user was refused too often lately (then nothing is said)."""
        if text is None or await self._limited(f"u:{uid}:refusals", REFUSAL_RATE) is None:
            return text
        return None

    async def _limited(self, key: str, rate: Rate) -> Decision | None:
        """``rate`` for ``key``: ``None`` when allowed (or no limiter is installed), else the refusal."""
        limiter = self.app.ratelimiter
        if limiter is None:
            return None
        decision = await limiter.check(key, rate)
        return None if decision.allowed else decision

    # -- commands ------------------------------------------------------------------
    async def _command(self, msg: Message, name: str, mention: str | None, args: str) -> None:
        app = self.app
        if mention is not None:
            me = getattr(getattr(app.gateway, "me", None), "username", None)
            if me and mention.lower() != me.lower():
                return  # addressed to another bot in this group
        entry = self.registry.command(name)
        # The sender's rate first: refusals and "unknown command" answers count too,
        # so a flood of bad input is throttled like a flood of commands.
        limited = await self._limited(f"u:{msg.sender_id}", self._user_rate)
        if limited is not None:
            self._refused.labels(command=entry.command.name if entry else "?", reason="rate").inc()
            if limited.notify:  # told once per refusal window; the rest are dropped without a word
                await self._say(msg, retry_text(limited.retry_after))
            return
        if entry is None:
            text = app.section("bot").unknown_command_reply
            if text and msg.chat.is_private:
                await self._say(msg, text)
            return
        cmd = entry.command
        user = msg.from_user
        if user is None:  # sent as a channel or by an anonymous admin: no account, no role
            self._refused.labels(command=cmd.name, reason="sender").inc()
            await self._say(msg, NO_ACCOUNT)
            return
        scope = "private" if msg.chat.is_private else "group"
        if scope not in cmd.scopes:
            self._refused.labels(command=cmd.name, reason="scope").inc()
            told = await self._refusal(user.id, _SCOPE_REFUSAL[cmd.scopes[0]])
            if told is not None:
                await self._say(msg, told)
            return

        async def refuse(text: str | None, keyboard: Keyboard | None) -> None:
            if text is not None:
                await self._say(msg, text, keyboard=keyboard)

        async def handle(role: Role) -> None:
            if entry.requires_args and not args:
                await self._say(msg, f"Usage: {entry.usage_line}")
                return
            ctx = CommandContext(app, message=msg, user=user, command=cmd, args=args, role=role,
                                 plugin=entry.plugin)
            try:
                await cmd.handler(ctx)
            except UsageError as exc:
                usage = f"Usage: {entry.usage_line}"
                await self._say(msg, f"{exc.message}\n{usage}" if exc.message else usage)

        async def apologise(text: str) -> None:
            await self._say(msg, text)

        await self._run(_Run(label=cmd.name, shown=f"/{cmd.name}", where=f"/{cmd.name}", plugin=entry.plugin,
                             user=user, needed=cmd.role, role_refusal=_ROLE_REFUSAL.get(cmd.role, ""),
                             rate=entry.rate, gate=cmd.gate, refuse=refuse, handle=handle, apologise=apologise))

    async def _say(self, msg: Message, text: str, *, keyboard: Any = None) -> None:
        """Answer in the message's chat; a failure to answer is logged, never raised."""
        if self.app.gateway is None:
            return
        try:
            await self.app.telegram.send_text(msg.chat.id, text, keyboard=keyboard,
                                              reply_to=None if msg.chat.is_private else msg.id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. the user blocked the bot
            log.warning("could not answer in chat %d: %s: %s", msg.chat.id, type(exc).__name__, exc)

    # -- handlers ------------------------------------------------------------------
    async def _handle(self, update: Update, candidates: list[Route]) -> None:
        """The first of ``candidates`` (the routes whose filters match) that claims ``update``."""
        user = sender_of(update)
        if user is None or user.is_bot:
            return  # handlers answer people; channel posts and bots' messages are for observers
        role = self.app.role_of(user.id)
        candidates = [r for r in candidates if may_use(role, r.handler.role)]
        if not candidates:
            return
        # Inline queries come as the user types; a pre-checkout must be answered within 10 s and a
        # payment is delivered once: only the handler's own rate applies to them.
        if not (type(update) is InlineQuery or type(update) is PreCheckoutQuery or _paid(update)):
            limited = await self._limited(f"u:{user.id}", self._user_rate)
            if limited is not None:
                self._refused.labels(command=f"route:{candidates[0].name}", reason="rate").inc()
                if limited.notify and type(update) is Message:
                    await self._say(update, retry_text(limited.retry_after))
                return
        for route in candidates:
            if await self._try(route, update, user) is not False:
                return

    async def _try(self, route: Route, update: Update, user: User) -> bool | None:
        """Run one route through the shared sequence; ``False`` when its handler declined."""
        outcome: bool | None = True
        answered_inline = False

        async def refuse(text: str | None, keyboard: Keyboard | None) -> None:
            nonlocal answered_inline
            if type(update) is InlineQuery:
                # A rate refusal leaves the query unanswered (the client asks again as the user types);
                # a closed gate answers it with nothing.
                if text is not None and not answered_inline:
                    answered_inline = True
                    await self._answer_inline_empty(update)
            elif text is not None and type(update) is Message:
                await self._say(update, text, keyboard=keyboard)

        async def handle(role: Role) -> None:
            nonlocal outcome
            from mediabot.core.context import UpdateContext

            ctx = UpdateContext(self.app, update=update, user=user, role=role, plugin=route.plugin,
                                route=route.name)
            result = await route.handler.handler(ctx)
            outcome = result
            if result is not False:
                self._handled.labels(route=route.name).inc()

        async def apologise(text: str) -> None:
            if type(update) is Message:
                await self._say(update, text)
            elif type(update) is InlineQuery:
                await self._answer_inline_empty(update)

        label = f"route:{route.name}"
        await self._run(_Run(label=label, shown=f"handler {route.name}", where=label, plugin=route.plugin,
                             user=user, needed=route.handler.role, role_refusal="", rate=route.rate,
                             gate=route.handler.gate, refuse=refuse, handle=handle, apologise=apologise),
                        rate_key=f"u:{user.id}:h:{route.rate_key}")
        return outcome

    async def _answer_inline_empty(self, q: InlineQuery) -> None:
        if self.app.gateway is None:
            return
        try:
            await self.app.telegram.answer_inline(q.id, [])
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. the query is too old to answer
            log.warning("could not answer an inline query: %s: %s", type(exc).__name__, exc)

    # -- buttons -------------------------------------------------------------------
    async def _press(self, q: CallbackQuery) -> None:
        # The user's rate first: forged and expired presses count too.
        refusal = await self._limited(f"u:{q.from_user.id}", self._user_rate)
        if refusal is not None:
            self._refused.labels(command="button", reason="rate").inc()
            # A press must be answered anyway (the client shows a spinner); a silent answer is invisible.
            await self._answer(q, retry_text(refusal.retry_after) if refusal.notify else None)
            return
        try:
            data = self.signer.verify(q.data, q.from_user.id)
        except InvalidCallback as exc:
            self._bad_buttons.labels(reason=exc.reason).inc()
            log.debug("refused button press by user %d: %s", q.from_user.id, exc.reason)
            await self._answer(q, EXPIRED)
            return
        found = self.registry.callback(data.action)
        if found is None:  # signed by us, but its plugin is gone (disabled since)
            self._bad_buttons.labels(reason="unknown_action").inc()
            await self._answer(q, EXPIRED)
            return
        cb = found.callback
        ctx: CallbackContext | None = None

        async def refuse(text: str | None, keyboard: Keyboard | None) -> None:
            await self._answer(q, text, alert=text is not None)

        async def handle(role: Role) -> None:
            nonlocal ctx
            ctx = CallbackContext(self.app, query=q, action=data.action, args=data.args, role=role,
                                  plugin=found.plugin)
            await cb.handler(ctx)
            if not ctx.answered:
                await self._answer(q, None)  # stops the client's spinner

        async def apologise(text: str) -> None:
            if ctx is None or not ctx.answered:
                await self._answer(q, text, alert=True)
            elif q.message is not None:
                await self._say(q.message, text)

        label = f"button:{cb.action}"
        await self._run(_Run(label=label, shown=f"button {cb.action}", where=label, plugin=found.plugin,
                             user=q.from_user, needed=cb.role, role_refusal=_BUTTON_REFUSAL.get(cb.role, ""),
                             rate=None, gate=cb.gate, refuse=refuse, handle=handle, apologise=apologise))

    async def _answer(self, q: CallbackQuery, text: str | None, *, alert: bool = False) -> None:
        if self.app.gateway is None:
            return
        try:
            await self.app.telegram.answer_callback(q.id, text, alert=alert)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. the query is too old to answer
            log.warning("could not answer a button press: %s: %s", type(exc).__name__, exc)
