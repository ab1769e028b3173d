"""mediabot-trending: counts what people watch, through the watchlist plugin's hook.

It never imports the watchlist plugin: it implements the hook that plugin
publishes (``optionalhook=True``: without the watchlist plugin enabled the
implementation is simply never called).
"""

from mediabot import Command, PluginMeta, hookimpl, tokenize


class Trending:
    meta = PluginMeta(name="trending", description="The most watched titles.", needs=("redis",))

    def __init__(self, ctx):
        self.storage = ctx.storage

    @hookimpl(optionalhook=True)
    async def watchlist_added(self, title):
        await self.storage.redis.zincrby(self.storage.key("titles"), 1, " ".join(tokenize(title)))

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="trending", description="Most watched titles", handler=self.top)]

    async def top(self, ctx):
        top = await self.storage.redis.zrevrange(self.storage.key("titles"), 0, 4, withscores=True)
        lines = [f"{int(score)} × {title.decode()}" for title, score in top]
        await ctx.reply("\n".join(lines) or "Nothing watched yet.")
