"""A plugin with one command of each kind the dispatcher must handle, and helpers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
import pytest

from mediabot import Callback, Command, PluginMeta, UsageError, hookimpl

# Who is who in every bot the ``tools_bot`` fixture makes (tests use the numbers).
ADMIN = 100
OWNER = 200


class Note(msgspec.Struct):
    text: str


class Tools:
    """Commands for every path through the dispatcher; ``ran`` records what handlers ran."""

    meta = PluginMeta(name="tools", description="Dispatcher test tools.")

    def __init__(self, ctx):
        self.ran: list[tuple[str, int, tuple[str, ...]]] = []

    @hookimpl
    def mediabot_commands(self):
        return [
            Command(name="echo", description="Repeat the text", usage="TEXT", handler=self.echo,
                    aliases=("say",)),
            Command(name="sum", description="Add two numbers", usage="A B", handler=self.sum),
            Command(name="kick", description="Kick a user", usage="USER_ID", role="admin", handler=self.kick),
            Command(name="shutdown", description="Stop the bot", role="owner", handler=self.shutdown),
            Command(name="boom", description="Always fails", handler=self.boom),
            Command(name="dm", description="Private only", scopes=("private",), handler=self.dm),
            Command(name="slow", description="Rate limited", rate_limit="2/min", handler=self.slow),
            Command(name="secret", description="Not listed", hidden=True, handler=self.secret),
            Command(name="counter", description="A counter with buttons", handler=self.counter),
            Command(name="remember", description="Keep a note", usage="TEXT", handler=self.remember),
            Command(name="recall", description="Show the note", handler=self.recall),
        ]

    @hookimpl
    def mediabot_callbacks(self):
        return [
            Callback("tools.count", self.count),
            Callback("tools.quiet", self.quiet),
            Callback("tools.nuke", self.nuke, role="admin"),
            Callback("tools.crash", self.crash),
        ]

    def _ran(self, what: str, user: int, args: tuple[str, ...] = ()) -> None:
        self.ran.append((what, user, args))

    async def echo(self, ctx):
        self._ran("echo", ctx.user.id, tuple(ctx.argv))
        await ctx.reply(ctx.args)

    async def sum(self, ctx):
        try:
            a, b = (int(x) for x in ctx.argv)
        except ValueError:
            raise UsageError("A and B must be two numbers.") from None
        await ctx.reply(str(a + b))

    async def kick(self, ctx):
        self._ran("kick", ctx.user.id)
        await ctx.reply(f"kicked {ctx.args}")

    async def shutdown(self, ctx):
        self._ran("shutdown", ctx.user.id)
        await ctx.reply("shutting down (not really)")

    async def boom(self, ctx):
        raise RuntimeError("the handler broke")

    async def dm(self, ctx):
        await ctx.reply("just between us")

    async def slow(self, ctx):
        await ctx.reply("slow ok")

    async def secret(self, ctx):
        await ctx.reply("found it")

    async def counter(self, ctx):
        await ctx.reply("count 0", keyboard=[[ctx.button("+1", "tools.count", 1)],
                                            [ctx.button("Nuke", "tools.nuke"), ctx.button("Crash", "tools.crash")],
                                            [ctx.button("Quiet", "tools.quiet"),
                                             ctx.button("Anyone", "tools.count", 5, bound=False)]])

    async def count(self, ctx):
        self._ran("count", ctx.user.id, ctx.args)
        n = int(ctx.args[0])
        await ctx.edit(f"count {n}", keyboard=[[ctx.button("+1", "tools.count", n + 1)]])
        await ctx.answer(f"now {n}")

    async def quiet(self, ctx):
        self._ran("quiet", ctx.user.id)

    async def nuke(self, ctx):
        self._ran("nuke", ctx.user.id)
        await ctx.answer("nuked")

    async def crash(self, ctx):
        raise ValueError("button handler broke")

    async def remember(self, ctx):
        await ctx.save_session("notes", Note(ctx.args))
        await ctx.reply("noted")

    async def recall(self, ctx):
        note = await ctx.session("notes", Note)
        await ctx.reply(note.text if note else "nothing noted")


@pytest.fixture
def tools_bot(make_bot) -> Callable[..., Awaitable]:
    """``await tools_bot(config="...", **make_bot_kwargs)``: a bot with Tools, an admin and an owner."""

    async def make(**kw):
        kw.setdefault("admins", [ADMIN])
        kw.setdefault("owner", OWNER)
        return await make_bot(plugins=[Tools], **kw)

    return make
