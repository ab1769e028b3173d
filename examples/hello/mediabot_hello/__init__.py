"""mediabot-hello: says hello, remembers how often, and offers a button to do it again."""

import msgspec

from mediabot import Callback, Command, PluginMeta, hookimpl


class HelloConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Settings of ``[plugins.hello]``.

    :param greeting: the first word of every greeting.
    """

    greeting: str = "Hello"


class Visits(msgspec.Struct):
    count: int = 0


class Hello:
    meta = PluginMeta(name="hello", description="Greets users.", config=HelloConfig)

    def __init__(self, ctx):
        self.greeting = ctx.config.greeting

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="hello", description="Say hello", usage="[NAME]", handler=self.hello)]

    @hookimpl
    def mediabot_callbacks(self):
        return [Callback("hello.again", self.again)]

    async def hello(self, ctx):
        name = ctx.args or ctx.user.first_name
        await ctx.reply(await self._greet(ctx, name),
                        keyboard=[[ctx.button("Again", "hello.again", name)]])

    async def again(self, ctx):
        name = ctx.args[0]
        await ctx.edit(await self._greet(ctx, name), keyboard=[[ctx.button("Again", "hello.again", name)]])
        await ctx.answer()

    async def _greet(self, ctx, name):
        visits = await ctx.session("hello", Visits) or Visits()
        visits.count += 1
        await ctx.save_session("hello", visits)
        return f"{self.greeting}, {name}! (greeting #{visits.count})"
