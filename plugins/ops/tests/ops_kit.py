"""What the ops tests share: the Films plugin, user ids and URLs."""

from __future__ import annotations

from typing import Any

from mediabot import Command, HealthReport, PluginMeta, hookimpl

ADMIN, USER, OWNER = 9, 1, 7


class Films:
    """A plugin as ops sees any other: its own metric, a logger, Redis keys and stale cache versions."""

    meta = PluginMeta(name="films", description="Film lookups (ops tests).")

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.lookups = ctx.app.metrics.counter("films_lookups_total", "Film lookups")
        self.current_version = 2
        self.health: list[HealthReport] = []

    @hookimpl
    def mediabot_commands(self) -> list[Command]:
        return [Command(name="film", description="Look a film up", handler=self.film),
                Command(name="crash", description="Fail on purpose", handler=self.crash)]

    async def film(self, ctx: Any) -> None:
        self.lookups.inc()
        # A careless line with a secret in it: /logs must never show the value.
        self.ctx.log.warning("looked up %r with token %s via %s", ctx.args,
                             self.ctx.app.env.get("MEDIABOT_OPS_TOKEN"), self.ctx.app.env.get("MEDIABOT_REDIS_URL"))
        await ctx.reply("Found it.")

    async def crash(self, ctx: Any) -> None:
        raise RuntimeError("boom")

    @hookimpl
    def mediabot_health(self) -> list[HealthReport]:
        return list(self.health)

    @hookimpl(optionalhook=True)
    async def ops_stale_keys(self, app: Any) -> list[str]:
        storage = app.storage("films")
        return [f"{storage.key_prefix}cache:v{v}:*" for v in range(1, self.current_version)]

    @hookimpl(optionalhook=True)
    async def ops_stats(self, app: Any) -> list[str]:
        return [f"films: cache v{self.current_version}"]


def url(bot: Any, path: str) -> str:
    return f"http://127.0.0.1:{bot.plugin('ops').port}{path}"
