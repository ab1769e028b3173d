"""The admins' side: ``/maintenance``, ``/access``, the maintenance answer, and the shared counters.

Counters shown by ``/access`` are kept in Redis, shared by every process:
refusals and completions per UTC day (kept three days), and members gained
through the bot's own link per chat. The same events are Prometheus
counters of each process (``mediabot_access_*_total``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

from mediabot import (
    Command,
    CommandContext,
    Incoming,
    InlineQuery,
    InlineResult,
    Message,
    Rate,
    TelegramError,
    UsageError,
)
from mediabot_access.config import ChannelConfig

if TYPE_CHECKING:
    from mediabot_access import AccessPlugin

__all__ = ["AdminCommands"]

log = logging.getLogger("mediabot.plugin.access")
#: Maintenance answers to one user in a private chat: enough to read it, not a reply per message.
PRIVATE_RATE = Rate(count=3, period=60.0, burst=3)
DAY_TTL = 3 * 86_400


class AdminCommands:
    def __init__(self, plugin: AccessPlugin) -> None:
        self.plugin = plugin
        self.app = plugin.app
        self.key = plugin.ctx.storage.key

    def commands(self) -> list[Command]:
        return [
            Command(name="maintenance", description="Maintenance mode: on with a message, or off",
                    usage="[on [MESSAGE] | off]", role="admin", handler=self.maintenance),
            Command(name="access", description="Force-subscribe report: chats, rights, links, today's numbers",
                    role="admin", handler=self.report),
        ]

    # -- /maintenance ------------------------------------------------------------------
    async def maintenance(self, ctx: CommandContext) -> None:
        m = self.plugin.maintenance
        words = ctx.args.split(maxsplit=1)
        if not words:
            state = m.state
            await ctx.reply(f"Maintenance mode is on: {state.message}" if state.on else "Maintenance mode is off.")
            return
        what = words[0].lower()
        if what == "on":
            state = await m.set(True, message=words[1].strip() if len(words) > 1 else None, by=ctx.user.id)
            await ctx.reply(f"Maintenance mode is on. Users now get: {state.message}")
        elif what == "off" and len(words) == 1:
            await m.set(False, message=None, by=ctx.user.id)
            await ctx.reply("Maintenance mode is off.")
        else:
            raise UsageError("Say on (with an optional message) or off.")

    async def maintenance_stops(self, incoming: Incoming) -> bool:
        """Maintenance mode is on and ``incoming`` comes from a user: answer (or not) and say whether it stops."""
        update = incoming.update
        text = self.plugin.maintenance.state.message
        if incoming.kind == "callback":
            await incoming.refuse(text)
            return True
        if isinstance(update, InlineQuery):
            try:
                await self.app.telegram.answer_inline(update.id, [InlineResult(
                    id="access-maintenance", title="Under maintenance", description=text[:200], text=text)])
            except TelegramError as exc:
                log.debug("access: could not answer an inline query: %s", exc)
            return True
        if not isinstance(update, Message) or incoming.kind != "message" or update.is_channel_post:
            return False  # members joining, join requests, edits, payments: not user actions to answer
        if update.chat.is_private:
            if await self._allowed(f"access:maint:u:{update.chat.id}", PRIVATE_RATE):
                await incoming.refuse(text)
            return True
        if incoming.command is not None or self._mentions_bot(update):
            interval = self.plugin.config.maintenance_group_interval
            if interval <= 0 or await self._allowed(f"access:maint:g:{update.chat.id}",
                                                    Rate(count=1, period=interval)):
                await incoming.refuse(text)
        return True

    def _mentions_bot(self, message: Message) -> bool:
        me = getattr(self.app.telegram.me, "username", None)
        text = message.text or message.caption or ""
        return bool(me) and re.search(rf"@{re.escape(me)}\b", text, re.IGNORECASE) is not None

    async def _allowed(self, key: str, rate: Rate) -> bool:
        decision = await self.app.ratelimiter.check(key, rate)
        return decision.allowed

    # -- counters --------------------------------------------------------------------
    def _day(self) -> str:
        return f"{self.app.clock.wall():%Y-%m-%d}"

    async def count_today(self, name: str) -> None:
        key = self.key("day", self._day(), name)
        await self._redis(lambda r: r.pipeline(transaction=False).incr(key).expire(key, DAY_TTL).execute())

    async def count_gained(self, channel: ChannelConfig) -> None:
        key = self.key("gained", channel.key)
        await self._redis(lambda r: r.incr(key))

    async def _redis(self, op: Any) -> Any:
        redis = self.app.redis
        if redis is None:
            return None
        try:
            return await op(redis)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a counter never costs a user their answer
            log.debug("access: counter not updated: %s: %s", type(exc).__name__, exc)
            return None

    # -- /access -----------------------------------------------------------------------
    async def report(self, ctx: CommandContext) -> None:
        cfg = self.plugin.config
        if not cfg.channels:
            lines = ["Force-subscribe is off: no chat in [plugins.access] channels."]
        else:
            actions = ", ".join(cfg.actions) or "nothing"
            lines = [f"Force-subscribe: {len(cfg.channels)} chat(s); guards {actions}; on_error = {cfg.on_error}."]
            for ch in cfg.channels:
                lines += ["", *await self._chat_lines(ch)]
            day = self._day()
            refusals = await self._read(self.key("day", day, "refusals"))
            completions = await self._read(self.key("day", day, "completions"))
            lines += ["", f"Today ({day} UTC): {_n(refusals)} refusal(s), {_n(completions)} finished by Try again."]
        state = self.plugin.maintenance.state
        lines += ["", f"Maintenance mode: {'on: ' + state.message if state.on else 'off'}."]
        await ctx.reply("\n".join(lines))

    async def _chat_lines(self, ch: ChannelConfig) -> list[str]:
        lines = [f"{ch.shown} ({ch.chat}), {ch.mode} mode"]
        me = self.app.telegram.me
        if me is not None:
            try:
                standing = await self.app.telegram.get_member(ch.chat, me.id)
                lines.append("  the bot is an administrator: it can see members and make links"
                             if standing.status in ("administrator", "owner") else
                             f"  the bot is {standing.status}, not an administrator: make it one, "
                             "or members cannot be checked")
            except TelegramError as exc:
                lines.append(f"  cannot check the bot's rights: {exc}")
        error = self.plugin.membership.errors.get(ch.key)
        if error:
            lines.append(f"  last membership check failed: {error}")
        link = await self.plugin.links.link(ch)
        lines.append(f"  link: {link or 'none (the Join button is missing)'}")
        gained = await self._read(self.key("gained", ch.key))
        lines.append(f"  joined through the bot's link: {_n(gained)}")
        return lines

    async def _read(self, key: str) -> int | None:
        value = await self._redis(lambda r: r.get(key))
        return int(value) if value is not None else (0 if self.app.redis is not None else None)


def _n(value: int | None) -> str:
    return "?" if value is None else str(value)
