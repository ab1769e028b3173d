"""mediabot-watchlist: users keep a list of titles; the bot tells them when one reaches the catalogue.

Shows per-user data in MongoDB and Redis, paging buttons, an admin command,
a periodic job on the app's clock (its health reported by the kernel), a
health report of its own, a CLI export and a hook of its own
(``watchlist_added``) that other plugins implement.
"""

from typing import Annotated

import click
import msgspec

from mediabot import Callback, Command, HealthReport, PluginMeta, hookimpl, hookspec, search_tokens, tokenize


class WatchlistConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Settings of ``[plugins.watchlist]``.

    :param page_size: titles per page of ``/watchlist``.
    :param check_interval: seconds between two looks for watched titles in the catalogue.
    """

    page_size: Annotated[int, msgspec.Meta(ge=1, le=50)] = 5
    check_interval: Annotated[float, msgspec.Meta(ge=10, le=86_400)] = 600.0


class WatchlistHooks:
    @hookspec
    def watchlist_added(self, app, user_id: int, title: str) -> None:
        """*async* ``user_id`` started watching ``title``. Called by ``/watch``."""


class Watchlist:
    meta = PluginMeta(name="watchlist", description="Tells users when a title they watch arrives.",
                      config=WatchlistConfig, needs=("redis", "mongo"), hookspecs=WatchlistHooks)

    def __init__(self, ctx):
        self.ctx, self.config, self.storage = ctx, ctx.config, ctx.storage
        self.items = ctx.storage.collection("items")  # resolved on first use, once the app has opened MongoDB
        ctx.storage.declare_index("items", [("user", 1), ("_id", 1)], name="user_id")
        ctx.storage.declare_index("items", [("found", 1)], name="found")
        ctx.every(self.config.check_interval, self.check_once, name="check")

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
        await self.storage.redis.incr(self.storage.key("added", ctx.user.id))
        await ctx.app.hooks.notify("watchlist_added", app=ctx.app, user_id=ctx.user.id, title=title)
        await ctx.reply(f"Watching “{title}”. I will tell you when it arrives.")

    async def show(self, ctx):
        await ctx.reply(**await self._page(ctx, 0))

    async def page(self, ctx):
        await ctx.edit(**await self._page(ctx, int(ctx.args[0])))

    async def _page(self, ctx, number):  # what reply() and edit() take
        size = self.config.page_size
        docs = await self.items.find({"user": ctx.user.id}).sort("_id", 1).skip(number * size) \
            .limit(size + 1).to_list(None)
        if not docs:
            return {"text": "You watch nothing yet: /watch TITLE"}
        lines = [("✅ " if d["found"] else "⏳ ") + d["title"] for d in docs[:size]]
        nav = ([ctx.button("◀", "wl.page", number - 1)] if number else []) + \
              ([ctx.button("▶", "wl.page", number + 1)] if len(docs) > size else [])
        return {"text": f"Your watchlist, page {number + 1}:\n" + "\n".join(lines), "keyboard": [nav] if nav else None}

    async def stats(self, ctx):
        total = await self.items.count_documents({})
        found = await self.items.count_documents({"found": True})
        await ctx.reply(f"{total} watched titles, {found} found.")

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
    def mediabot_cli(self, cli):
        @cli.command("watchlist-export")
        @self.ctx.app_command
        async def export(ctx):
            """Print every watched title as USER<TAB>TITLE."""
            async for d in ctx.storage.collection("items").find().sort("_id", 1):
                click.echo(f"{d['user']}\t{d['title']}")
