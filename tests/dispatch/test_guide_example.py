"""The example of "Commands, buttons and sessions" in docs/plugins.md works as written."""

from __future__ import annotations

import msgspec

from mediabot import Callback, Command, PluginMeta, hookimpl, parse_int


class Browse(msgspec.Struct):
    query: str
    page: int = 1


class Films:
    meta = PluginMeta(name="films", description="Film lookup.")

    def __init__(self, ctx):
        self.log = ctx.log

    @hookimpl
    def mediabot_commands(self):
        return [
            Command(name="year", description="Films of a year", usage="YEAR [GENRE]",
                    handler=self.year, rate_limit="5/min"),
            Command(name="purge", description="Empty the film cache", role="admin",
                    handler=self.purge, scopes=("private",)),
        ]

    @hookimpl
    def mediabot_callbacks(self):
        return [Callback("films.page", self.page)]

    async def year(self, ctx):
        year, *genre = ctx.argv
        parse_int(year, "YEAR", minimum=1888, maximum=2100)
        await ctx.save_session("films", Browse(query=ctx.args))
        await ctx.reply("Page 1", keyboard=[[ctx.button("Next", "films.page", 2)]])

    async def purge(self, ctx):
        await ctx.reply("Cache emptied.")

    async def page(self, ctx):
        n = int(ctx.args[0])
        state = await ctx.session("films", Browse)
        assert state is not None and state.query == "1999"
        await ctx.edit(f"Page {n}", keyboard=[[ctx.button("Next", "films.page", n + 1)]])
        await ctx.answer(f"page {n}")


async def test_paging(make_bot):
    bot = await make_bot(plugins=[Films], admins=[9])
    first = (await bot.send("/year 1999", user=1)).last
    assert (await bot.press(first, "Next", user=1)).texts == ["Page 2"]
    assert (await bot.send("/year", user=1)).texts == ["Usage: /year YEAR [GENRE]"]
    for bad in ("x", "²"):
        assert (await bot.send(f"/year {bad}", user=1)).texts == [
            f"YEAR must be a whole number from 1888 to 2100, not {bad!r}.\nUsage: /year YEAR [GENRE]"]
    assert (await bot.send("/purge", user=1)).texts == ["This command is for admins only."]
    assert (await bot.press(first, data="films.page|99", user=1)).answer.text == "This button has expired."
