"""mediabot-watchlist: users keep a list of titles; the bot tells them when one reaches the catalogue.

Shows per-user data in MongoDB and Redis, paging buttons, an admin command,
a background loop on the app's clock, a health report, a CLI export and a
hook of its own (``watchlist_added``) that other plugins implement.
"""

import asyncio

import click
import msgspec

from mediabot import Callback, Command, HealthReport, PluginMeta, hookimpl, hookspec, open_app, search_tokens, tokenize


class WatchlistConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Settings of ``[plugins.watchlist]``.

    :param page_size: titles per page of ``/watchlist``.
    :param check_interval: seconds between two looks for watched titles in the catalogue.
    """

    page_size: int = 5
    check_interval: float = 600.0


class WatchlistHooks:
    @hookspec
    def watchlist_added(self, app, user_id: int, title: str) -> None:
        """*async* ``user_id`` started watching ``title``. Called by ``/watch``."""


class Watchlist:
    meta = PluginMeta(name="watchlist", description="Tells users when a title they watch arrives.",
                      config=WatchlistConfig, needs=("redis", "mongo"), hookspecs=WatchlistHooks)

    def __init__(self, ctx):
        self.ctx, self.config = ctx, ctx.config
        ctx.storage.declare_index("items", [("user", 1), ("_id", 1)], name="user_id")
        ctx.storage.declare_index("items", [("found", 1)], name="found")

    @property
    def items(self):
        return self.ctx.storage.collection("items")

    @hookimpl
    def mediabot_startup(self):
        self.ctx.spawn_loop(self.check_forever, name="watchlist.check")

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="watch", description="Watch a title", usage="TITLE", handler=self.watch),
                Command(name="watchlist", description="Your watched titles", handler=self.show),
                Command(name="watchstats", description="Watchlist numbers", handler=self.stats, role="admin")]

    @hookimpl
    def mediabot_callbacks(self):
        return [Callback("wl.page", self.page)]

    async def watch(self, ctx):
        title = " ".join(ctx.args.split())[:100]
        if not tokenize(title):
            await ctx.reply("Give a title with letters or digits.")
            return
        await self.items.insert_one({"user": ctx.user.id, "title": title, "found": False})
        storage = self.ctx.storage
        await storage.redis.incr(storage.key("added", ctx.user.id))
        await ctx.app.hooks.notify("watchlist_added", app=ctx.app, user_id=ctx.user.id, title=title)
        await ctx.reply(f"Watching “{title}”. I will tell you when it arrives.")

    async def show(self, ctx):
        text, keyboard = await self._page(ctx, 0)
        await ctx.reply(text, keyboard=keyboard)

    async def page(self, ctx):
        text, keyboard = await self._page(ctx, int(ctx.args[0]))
        await ctx.edit(text, keyboard=keyboard)

    async def _page(self, ctx, number):
        size = self.config.page_size
        docs = await self.items.find({"user": ctx.user.id}).sort("_id", 1).skip(number * size) \
            .limit(size + 1).to_list(None)
        if not docs:
            return "You watch nothing yet: /watch TITLE", None
        lines = [("✅ " if d["found"] else "⏳ ") + d["title"] for d in docs[:size]]
        nav = ([ctx.button("◀", "wl.page", number - 1)] if number else []) + \
              ([ctx.button("▶", "wl.page", number + 1)] if len(docs) > size else [])
        return f"Your watchlist, page {number + 1}:\n" + "\n".join(lines), [nav] if nav else None

    async def stats(self, ctx):
        total = await self.items.count_documents({})
        found = await self.items.count_documents({"found": True})
        await ctx.reply(f"{total} watched titles, {found} found.")

    async def check_forever(self):
        while True:
            await self.ctx.clock.sleep(self.config.check_interval)
            await self.check_once()

    async def check_once(self):
        """Tell users about watched titles that are in the catalogue now (tokens: equality, never a regex)."""
        app = self.ctx.app
        async for item in self.items.find({"found": False}):
            if not await app.files.count({"tokens": {"$all": search_tokens(item["title"])}}):
                continue
            await self.items.update_one({"_id": item["_id"]}, {"$set": {"found": True}})
            await app.telegram.send_text(item["user"], f"“{item['title']}” is here: search for it!")

    @hookimpl
    async def mediabot_health(self):
        waiting = await self.items.count_documents({"found": False})
        return [HealthReport(component="watchlist", status="ok", detail=f"{waiting} titles awaited")]

    @hookimpl
    def mediabot_cli(self, cli, config):
        @cli.command("watchlist-export")
        def export():
            """Print every watched title as USER<TAB>TITLE."""
            async def run():
                async with open_app(config) as app:
                    async for d in app.storage("watchlist").collection("items").find().sort("_id", 1):
                        click.echo(f"{d['user']}\t{d['title']}")
            asyncio.run(run())
