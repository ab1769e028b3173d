"""The admins' commands: ``/health``, ``/stats``, ``/cache_stats``, ``/cache_cleanup``, ``/logs``.

All are ``role="admin"``: the kernel refuses them (and logs the attempt)
for anyone else. Nothing here runs code, a shell or a query an admin typed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from mediabot import App, Callback, CallbackContext, Command, CommandContext, UsageError
from mediabot_ops.cache import OTHER, RATE_LIMITS, SESSIONS, CacheInspector, CacheReport, glob_escape
from mediabot_ops.config import OpsConfig
from mediabot_ops.health import Snapshot, render_lines
from mediabot_ops.logring import LogRing
from mediabot_ops.stats import gather_stats

__all__ = ["AdminCommands"]

log = logging.getLogger("mediabot.plugin.ops")

_PLUGIN_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,32}$")
# Namespaces that hold state, not cache: deleting them loses data other processes need.
_NOT_A_CACHE = {"catalog": "the catalogue's change stream is how other processes learn of new files"}
_KERNEL_NAMESPACES = {"catalog", SESSIONS, RATE_LIMITS, OTHER}
DEFAULT_LOG_LINES = 30
# A chat message holds 4,096 characters: 200 lines already arrive as several messages.
MAX_LOG_LINES = 200


class AdminCommands:
    """Handlers of the ops commands and of the cleanup's Confirm button.

    :param app: the bot.
    :param config: ``[plugins.ops]``.
    :param ring: the log lines ``/logs`` shows.
    :param check: the current health.
    :param uptime: seconds since ops started.
    """

    def __init__(self, app: App, config: OpsConfig, ring: LogRing, *, check: Callable[[], Awaitable[Snapshot]],
                 uptime: Callable[[], float]) -> None:
        self._app = app
        self._config = config
        self._ring = ring
        self._check = check
        self._uptime = uptime

    def commands(self) -> list[Command]:
        return [
            Command(name="health", description="Health of every component, worst first", handler=self.health,
                    role="admin"),
            Command(name="stats", description="Users, catalogue, updates and errors", handler=self.stats,
                    role="admin"),
            Command(name="cache_stats", description="Redis memory by plugin", handler=self.cache_stats,
                    role="admin"),
            Command(name="cache_cleanup", description="Delete stale Redis keys, or one plugin's (asks first)",
                    usage="[PLUGIN]", handler=self.cache_cleanup, role="admin"),
            Command(name="logs", description="The last log lines (secrets masked)", usage="[N]",
                    handler=self.logs, role="admin"),
        ]

    def callbacks(self) -> list[Callback]:
        return [Callback("ops.clean", self.confirm_cleanup, role="admin"),
                Callback("ops.keep", self.cancel_cleanup, role="admin")]

    # -- health, stats, logs --------------------------------------------------------
    async def health(self, ctx: CommandContext) -> None:
        snapshot = await self._check()
        head = f"Health: {snapshot.status}" + ("" if snapshot.ready else " (not ready)")
        await ctx.reply("\n".join([head, *render_lines(snapshot)]))

    async def stats(self, ctx: CommandContext) -> None:
        await ctx.reply(await gather_stats(self._app, uptime=self._uptime(), timeout=self._config.probe_timeout))

    async def logs(self, ctx: CommandContext) -> None:
        n = DEFAULT_LOG_LINES
        if ctx.argv:
            if len(ctx.argv) != 1 or not ctx.argv[0].isdigit() or int(ctx.argv[0]) < 1:
                raise UsageError("N is a number of lines, 1 or more.")
            n = min(int(ctx.argv[0]), MAX_LOG_LINES)
        lines = self._ring.tail(n)
        await ctx.reply("\n".join(lines) if lines else "No log lines yet.")

    # -- cache ----------------------------------------------------------------------
    def _inspector(self) -> CacheInspector | None:
        if self._app.redis is None:
            return None
        return CacheInspector(self._app.redis, self._app.section("redis").key_prefix,
                              batch=self._config.scan_batch, samples=self._config.memory_samples)

    async def cache_stats(self, ctx: CommandContext) -> None:
        inspector = self._inspector()
        if inspector is None:
            await ctx.reply("This deployment has no Redis.")
            return
        await ctx.reply(self._render(await inspector.analyze()))

    def _render(self, report: CacheReport) -> str:
        enabled = set(self._app.started)
        prefix = self._app.section("redis").key_prefix
        limit = f" of {_size(report.maxmemory)}" if report.maxmemory else " (no maxmemory)"
        hits = f"{report.hit_rate:.0%}" if report.hit_rate is not None else "no lookups yet"
        lines = [f"Redis: {_size(report.used_memory)} used{limit}; hit rate {hits}",
                 f"Keys under {prefix}: by namespace ({report.scan_calls} SCAN calls, sizes estimated):"]
        if not report.namespaces:
            lines.append("(none)")
        for ns in report.namespaces:
            note = ""
            if ns.name not in enabled and ns.name not in _KERNEL_NAMESPACES:
                note = " · not enabled here"
            never = f" · {ns.without_ttl_share:.0%} never expire" if ns.sampled else ""
            lines.append(f"{ns.name}: {ns.keys:,} keys, ~{_size(ns.estimated_bytes)}{never}{note}")
        return "\n".join(lines)

    async def cache_cleanup(self, ctx: CommandContext) -> None:
        inspector = self._inspector()
        if inspector is None:
            await ctx.reply("This deployment has no Redis.")
            return
        if ctx.argv:
            if len(ctx.argv) != 1 or not _PLUGIN_NAME.match(ctx.argv[0]):
                raise UsageError("PLUGIN is a plugin's name, as /cache_stats shows it.")
            name = ctx.argv[0]
            if name in _NOT_A_CACHE:
                await ctx.reply(f"{name} is not a cache: {_NOT_A_CACHE[name]}.")
                return
            found = await inspector.count([inspector.namespace_pattern(name)])
            if not found:
                await ctx.reply(f"No keys of {name}.")
                return
            warning = (f"\n{name} is running here: it loses what it keeps in Redis."
                       if name in self._app.started else "\nCheck that no other deployment uses it.")
            await ctx.reply(f"Delete all {found:,} keys of {name}?{warning}",
                            keyboard=[[ctx.button("Confirm", "ops.clean", "ns", name),
                                       ctx.button("Cancel", "ops.keep")]])
            return
        patterns = await self._stale_patterns()
        found = await inspector.count([p for _, p in patterns])
        if not found:
            await ctx.reply("Nothing stale found. /cache_cleanup PLUGIN deletes one plugin's keys.")
            return
        owners = ", ".join(sorted({plugin for plugin, _ in patterns}))
        await ctx.reply(f"{found:,} stale keys (of {owners}). Delete them?",
                        keyboard=[[ctx.button("Confirm", "ops.clean", "stale"), ctx.button("Cancel", "ops.keep")]])

    async def confirm_cleanup(self, ctx: CallbackContext) -> None:
        inspector = self._inspector()
        if inspector is None or not ctx.args:
            await ctx.answer()
            return
        if ctx.args[0] == "ns" and len(ctx.args) == 2:
            what, patterns = f"keys of {ctx.args[1]}", [inspector.namespace_pattern(ctx.args[1])]
        else:
            # Asked again now: what is stale may have changed since the dry run.
            what, patterns = "stale keys", [p for _, p in await self._stale_patterns()]
        deleted = await inspector.delete(patterns)
        log.info("admin %d deleted %d %s from Redis", ctx.user.id, deleted, what)
        await ctx.edit(f"Deleted {deleted:,} {what}.")
        await ctx.answer()

    async def cancel_cleanup(self, ctx: CallbackContext) -> None:
        await ctx.edit("Nothing deleted.")
        await ctx.answer()

    async def _stale_patterns(self) -> list[tuple[str, str]]:
        """``(plugin, pattern)`` from ``ops_stale_keys``, each kept only inside its plugin's namespace."""
        out: list[tuple[str, str]] = []
        for plugin, patterns in await self._app.hooks.collect("ops_stale_keys", app=self._app):
            own = glob_escape(self._app.storage(plugin).key_prefix)
            for pattern in patterns or ():
                if isinstance(pattern, str) and pattern.startswith(own) and len(pattern) > len(own):
                    out.append((plugin, pattern))
                else:
                    log.warning("ignoring stale-key pattern %r of plugin %s: it must start with %r",
                                pattern, plugin, own)
        return out


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover - the loop always returns
