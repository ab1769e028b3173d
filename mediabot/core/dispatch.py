"""The dispatcher: where every update goes, and what a user is told when it goes nowhere.

Per update, in order:

1. Banned users are dropped (``app.users.is_banned``, an in-memory check);
   private-chat senders are recorded (``app.users.touch``) — both only when a
   user directory is installed as ``app.users``.
2. Button presses: the callback data is verified (signature, user binding,
   age) before any plugin sees it; a forged or stale press is answered
   "This button has expired." and nothing else happens. A valid one runs the
   :class:`~mediabot.core.callbacks.Callback` registered for its action.
3. ``/commands``: routed through the registry with scope, role, rate-limit
   and argument checks, then run with a :class:`~mediabot.core.context.CommandContext`.
4. Everything else goes to the plugins' ``mediabot_update`` hook.

A handler that raises is logged with its plugin's name, counted in
``mediabot_plugin_errors_total`` and the user gets a short apology: one
plugin's bug never takes the bot down.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import re
from typing import TYPE_CHECKING, Any

from mediabot.core.callbacks import CallbackSigner, InvalidCallback
from mediabot.core.commands import Role
from mediabot.core.context import CallbackContext, CommandContext, UsageError
from mediabot.core.redis.ratelimit import Decision, Rate
from mediabot.core.registry import CommandEntry, Registry, may_use
from mediabot.core.types import CallbackQuery, Message, Update, User

if TYPE_CHECKING:
    from mediabot.core.app import App

log = logging.getLogger("mediabot.dispatch")

EXPIRED = "This button has expired."
APOLOGY = "Sorry, something went wrong. Please try again later."
_ROLE_REFUSAL: dict[str, str] = {"admin": "This command is for admins only.",
                                 "owner": "This command is for the bot owner only."}
_BUTTON_REFUSAL: dict[str, str] = {"admin": "This button is for admins only.",
                                   "owner": "This button is for the bot owner only."}
_SCOPE_REFUSAL: dict[str, str] = {"private": "This command works in a private chat with the bot.",
                                  "group": "This command works in groups only."}

# "/name", "/name@bot", then whitespace and the arguments. Anything else starting
# with "/" (a path, a lone slash) is ordinary text.
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+(.*))?", re.DOTALL)


def parse_command(text: str) -> tuple[str, str | None, str] | None:
    """``("name", "botname" or None, "args")`` for ``/name@botname args``, else ``None``."""
    m = _COMMAND.fullmatch(text)
    if m is None:
        return None
    return m.group(1).lower(), m.group(2), (m.group(3) or "").strip()


def retry_text(seconds: float) -> str:
    return f"Slow down: try again in {max(1, math.ceil(seconds))} s."


class Dispatcher:
    """Routes updates for one app. Owned by the app as ``app.dispatcher``."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.registry = Registry()
        self._signer: CallbackSigner | None = None
        self._user_rate = Rate(count=20, period=60.0)  # replaced by [services] user_rate at prepare()
        m = app.metrics
        # Same metric the plugin host counts hook failures in: one place to alert on.
        self._errors = m.counter("mediabot_plugin_errors_total",
                                 "Exceptions raised by plugin hook implementations", ["plugin", "hook"])
        self._refused = m.counter("mediabot_commands_refused_total",
                                  "Commands and button presses refused, by reason (role, scope, rate)",
                                  ["command", "reason"])
        self._run = m.counter("mediabot_commands_total", "Commands and button presses handed to a handler",
                              ["command"])
        self._bad_buttons = m.counter("mediabot_callbacks_refused_total",
                                      "Button presses refused before any plugin saw them", ["reason"])

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
        user = update.from_user
        if user is not None:
            users = getattr(self.app, "users", None)
            if users is not None:
                if users.is_banned(user.id):
                    return
                if type(update) is Message and update.chat.type == "private":
                    await self._touch(users, user)
        if type(update) is CallbackQuery:
            await self._press(update)
            return
        if type(update) is Message and user is not None and update.text and update.text[0] == "/" \
                and update.chat.type != "channel":
            parsed = parse_command(update.text)
            if parsed is not None:
                await self._command(update, user, *parsed)
                return
        await self.app.host.notify("mediabot_update", app=self.app, update=update)

    async def _touch(self, users: Any, user: User) -> None:
        try:
            result = users.touch(user)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - recording a user must not cost them their answer
            log.warning("could not record user %d: %s: %s", user.id, type(exc).__name__, exc)

    # -- commands ------------------------------------------------------------------
    async def _command(self, msg: Message, user: User, name: str, mention: str | None, args: str) -> None:
        app = self.app
        if mention is not None:
            me = getattr(getattr(app.gateway, "me", None), "username", None)
            if me and mention.lower() != me.lower():
                return  # addressed to another bot in this group
        # The user's rate first: refusals and "unknown command" answers count too,
        # so a flood of bad input is throttled like a flood of commands.
        limited = await self._limited(user.id, None)
        if limited is not None:
            self._refused.labels(command=name if self.registry.command(name) else "?", reason="rate").inc()
            if limited.notify:  # told once per refusal window; the rest are dropped without a word
                await self._say(msg, retry_text(limited.retry_after))
            return
        entry = self.registry.command(name)
        if entry is None:
            text = app.section("bot").unknown_command_reply
            if text and msg.chat.type == "private":
                await self._say(msg, text)
            return
        cmd = entry.command
        scope = "private" if msg.chat.type in ("private", "bot") else "group"
        if scope not in cmd.scopes:
            self._refused.labels(command=cmd.name, reason="scope").inc()
            await self._say(msg, _SCOPE_REFUSAL[cmd.scopes[0]])
            return
        role = app.role_of(user.id)
        if not may_use(role, cmd.role):
            self._refused.labels(command=cmd.name, reason="role").inc()
            log.warning("refused /%s to user %d: needs role %s, has %s", cmd.name, user.id, cmd.role, role,
                        extra={"user_id": user.id, "command": cmd.name})
            await self._say(msg, _ROLE_REFUSAL[cmd.role])
            return
        refusal = await self._command_limited(user.id, entry)
        if refusal is not None:
            self._refused.labels(command=cmd.name, reason="rate").inc()
            if refusal.notify:
                await self._say(msg, retry_text(refusal.retry_after))
            return
        if entry.requires_args and not args:
            await self._say(msg, f"Usage: {entry.usage_line}")
            return
        if cmd.gate is not None:
            refusal_text = await app.gates.check(user, cmd.gate)
            if refusal_text is not None:
                self._refused.labels(command=cmd.name, reason="gate").inc()
                await self._say(msg, refusal_text.text, keyboard=refusal_text.keyboard)
                return
        self._run.labels(command=cmd.name).inc()
        ctx = CommandContext(app, message=msg, user=user, command=cmd, args=args, role=role, plugin=entry.plugin)
        try:
            await cmd.handler(ctx)
        except UsageError as exc:
            usage = f"Usage: {entry.usage_line}"
            await self._say(msg, f"{exc.message}\n{usage}" if exc.message else usage)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a plugin's bug costs one answer, not the bot
            self._failed(entry.plugin, f"/{cmd.name}", exc)
            await self._say(msg, APOLOGY)

    async def _limited(self, user_id: int, entry: CommandEntry | None) -> Decision | None:
        """The per-user rate: ``None`` when allowed, else the refusal."""
        limiter = self.app.ratelimiter
        if limiter is None:
            return None
        decision = await limiter.check(f"u:{user_id}", self._user_rate)
        return None if decision.allowed else decision

    async def _command_limited(self, user_id: int, entry: CommandEntry) -> Decision | None:
        """A command's own rate (checked after the user's): ``None`` when allowed, else the refusal."""
        limiter = self.app.ratelimiter
        if limiter is None or entry.rate is None:
            return None
        decision = await limiter.check(f"u:{user_id}:c:{entry.command.name}", entry.rate)
        return None if decision.allowed else decision

    async def _say(self, msg: Message, text: str, *, keyboard: Any = None) -> None:
        """Answer in the message's chat; a failure to answer is logged, never raised."""
        if self.app.gateway is None:
            return
        try:
            await self.app.telegram.send_text(msg.chat.id, text, keyboard=keyboard,
                                              reply_to=msg.id if msg.chat.type != "private" else None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. the user blocked the bot
            log.warning("could not answer in chat %d: %s: %s", msg.chat.id, type(exc).__name__, exc)

    def _failed(self, plugin: str, what: str, exc: BaseException) -> None:
        log.error("plugin %s failed in %s: %s: %s", plugin, what, type(exc).__name__, exc, exc_info=exc,
                  extra={"plugin": plugin, "hook": what})
        self._errors.labels(plugin=plugin, hook=what).inc()

    # -- buttons -------------------------------------------------------------------
    async def _press(self, q: CallbackQuery) -> None:
        # The user's rate first: forged and expired presses count too.
        refusal = await self._limited(q.from_user.id, None)
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
        role: Role = self.app.role_of(q.from_user.id)
        label = f"button:{cb.action}"
        if not may_use(role, cb.role):
            self._refused.labels(command=label, reason="role").inc()
            log.warning("refused button %s to user %d: needs role %s, has %s", cb.action, q.from_user.id,
                        cb.role, role, extra={"user_id": q.from_user.id, "command": label})
            await self._answer(q, _BUTTON_REFUSAL[cb.role], alert=True)
            return
        if cb.gate is not None:
            gate = await self.app.gates.check(q.from_user, cb.gate)
            if gate is not None:
                self._refused.labels(command=label, reason="gate").inc()
                await self._answer(q, gate.text, alert=True)
                return
        self._run.labels(command=label).inc()
        ctx = CallbackContext(self.app, query=q, action=data.action, args=data.args, role=role,
                              plugin=found.plugin)
        try:
            await cb.handler(ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            self._failed(found.plugin, label, exc)
            if not ctx.answered:
                await self._answer(q, APOLOGY, alert=True)
            elif q.message is not None:
                await self._say(q.message, APOLOGY)
            return
        if not ctx.answered:
            await self._answer(q, None)

    async def _answer(self, q: CallbackQuery, text: str | None, *, alert: bool = False) -> None:
        if self.app.gateway is None:
            return
        try:
            await self.app.telegram.answer_callback(q.id, text, alert=alert)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. the query is too old to answer
            log.warning("could not answer a button press: %s: %s", type(exc).__name__, exc)
