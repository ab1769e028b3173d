"""Kernel plugin ``kernel.commands``: ``/start`` and ``/help``, generated from the registry.

``/start`` greets (``[bot] start_text``), then says what the enabled plugins
do with a plain message (their handlers' descriptions: search's "Send me the
title of a film or series…"), then points to ``/help``. ``/help`` says the
same, then lists what the caller may use where they are asking (a private
chat or a group): everyone's commands first, then, for admins and the owner,
an "Admin commands" block. Hidden commands never show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mediabot.core.callbacks import InvalidCallback
from mediabot.core.commands import Command
from mediabot.core.context import CommandContext
from mediabot.core.plugin import hookimpl
from mediabot.core.registry import CommandEntry

if TYPE_CHECKING:
    from mediabot.core.app import App


def _line(entry: CommandEntry) -> str:
    desc = entry.command.description
    owner = " (owner only)" if entry.command.role == "owner" else ""
    return f"{entry.usage_line} - {desc}{owner}" if desc else f"{entry.usage_line}{owner}"


def help_text(ctx: CommandContext) -> str:
    """The ``/help`` answer for this caller in this chat."""
    registry = ctx.app.dispatcher.registry
    scope = "private" if ctx.chat is None or ctx.chat.is_private else "group"
    visible = registry.visible(ctx.role, scope)
    everyone = [e for e in visible if e.command.role == "user"]
    staff = [e for e in visible if e.command.role != "user"]
    where = "private" if ctx.chat is None or ctx.chat.is_private else "group"
    lines = [*ctx.app.dispatcher.routes.descriptions(where)]
    if lines:
        lines.append("")
    lines += [f"{ctx.app.section('bot').name} commands:", *(_line(e) for e in everyone)]
    if staff:
        lines += ["", "Admin commands:", *(_line(e) for e in staff)]
    return "\n".join(lines)


LINK_EXPIRED = "This link has expired. Search again to get a fresh one."


def welcome_text(ctx: CommandContext) -> str:
    """The ``/start`` answer: the configured greeting, what to do, and where the commands are."""
    bot = ctx.app.section("bot")
    first = " ".join(ctx.user.first_name.split()) or "there"
    greeting = bot.start_text.replace("{bot}", bot.name).replace("{first_name}", first)
    lines = [greeting, *ctx.app.dispatcher.routes.descriptions("private"), "Send /help to see the commands."]
    return "\n".join(line for line in lines if line)


class BuiltinCommands:
    """``/start`` (a welcome pointing to /help) and ``/help``."""

    name = "commands"

    def __init__(self, app: App) -> None:
        self.app = app

    async def start(self, ctx: CommandContext) -> None:
        """``/start``, or a deep link's ``/start PAYLOAD``: verified, gated (``deep_link``), then handed to its plugin."""
        if ctx.args:
            try:
                action, args = ctx.app.dispatcher.signer.verify_link(ctx.args)
            except InvalidCallback as exc:
                # Only a link of ours that outlived its age is "expired"; anything else
                # (typed by hand, another bot's, a plugin's own format) is not ours to judge.
                if exc.reason == "expired":
                    await ctx.reply(LINK_EXPIRED)
                    return
                if await self._gated(ctx):
                    return
                handled = await ctx.app.hooks.first("mediabot_start_payload", app=ctx.app, ctx=ctx,
                                                    payload=ctx.args)
            else:
                if await self._gated(ctx):
                    return
                handled = await ctx.app.hooks.first("mediabot_deep_link", app=ctx.app, ctx=ctx, action=action,
                                                    args=args)
            if handled:
                return
        await ctx.reply(welcome_text(ctx))

    async def _gated(self, ctx: CommandContext) -> bool:
        """The ``deep_link`` gate, before a payload's plugin runs: ``True`` when it refused (the refusal is shown)."""
        refusal = await ctx.app.gates.check(ctx.user, "deep_link")
        if refusal is None:
            return False
        await ctx.reply(refusal.text, keyboard=refusal.keyboard)
        return True

    async def help(self, ctx: CommandContext) -> None:
        await ctx.reply(help_text(ctx))

    @hookimpl
    def mediabot_commands(self) -> list[Command]:
        return [
            Command(name="start", description="Start the bot", handler=self.start),
            Command(name="help", description="List the commands", handler=self.help),
        ]
