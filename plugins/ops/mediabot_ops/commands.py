"""The admins' commands: ``/health``, ``/stats``, ``/plugins``, ``/cache_stats``, ``/cache_analyze``,
``/cache_cleanup``, ``/logs``, ``/releases``; the owner's ``/restart``, ``/update`` and ``/rollback``.

The kernel refuses them (and logs the attempt) for anyone below their role.
Nothing here runs code, a shell or a query an admin typed: ``/update``
starts the updater (``mediabot ops update TAG``) with an argument list, and
the tag is checked before it gets there.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from mediabot import App, Callback, CallbackContext, Command, CommandContext, UsageError, parse_int
from mediabot_ops.cache import OTHER, RATE_LIMITS, SESSIONS, CacheInspector, CacheReport, glob_escape
from mediabot_ops.composition import composition_lines
from mediabot_ops.config import OpsConfig, valid_tag
from mediabot_ops.deploy import audit_path, spawn_updater, update_settings
from mediabot_ops.health import Snapshot, render_lines
from mediabot_ops.logring import LogRing
from mediabot_ops.releases import AuditLog, ReleaseStore, older_than
from mediabot_ops.stats import gather_stats

__all__ = ["AdminCommands", "cache_summary", "keys", "render_cache_report", "stale_patterns"]

log = logging.getLogger("mediabot.plugin.ops")

_PLUGIN_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,32}$")
# Namespaces that hold state, not cache: deleting them loses data other processes need.
_NOT_A_CACHE = {"catalog": "the catalogue's change stream is how other processes learn of new files"}
_KERNEL_NAMESPACES = {"catalog", SESSIONS, RATE_LIMITS, OTHER}
_ALLOW_DOWNGRADE = "--allow-downgrade"
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
                 uptime: Callable[[], float], token: str | None = None) -> None:
        self._app = app
        self._config = config
        self._ring = ring
        self._check = check
        self._uptime = uptime
        self._token = token

    def commands(self) -> list[Command]:
        return [
            Command(name="health", description="Health of every component, worst first", handler=self.health,
                    role="admin"),
            Command(name="stats", description="Users, catalogue, updates and errors", handler=self.stats,
                    role="admin"),
            Command(name="plugins", description="Enabled plugins, their versions and where they come from",
                    handler=self.plugins, role="admin"),
            Command(name="cache_stats", description="Redis memory, hit rate and key count (quick)",
                    handler=self.cache_stats, role="admin"),
            Command(name="cache_analyze", description="Redis keys and memory per namespace and plugin",
                    handler=self.cache_analyze, role="admin"),
            Command(name="cache_cleanup", description="Delete stale Redis keys, or one plugin's (asks first)",
                    usage="[PLUGIN]", handler=self.cache_cleanup, role="admin"),
            Command(name="logs", description="The last log lines (secrets masked)", usage="[N]",
                    handler=self.logs, role="admin"),
            Command(name="releases", description="Current release, history and the last update steps",
                    handler=self.releases, role="admin"),
            Command(name="restart", description="Stop gracefully; the supervisor starts the bot again",
                    handler=self.restart, role="owner"),
            Command(name="update", description="Apply a signed release tag (verify, build, switch, restart)",
                    usage="TAG [--allow-downgrade]", handler=self.update, role="owner"),
            Command(name="rollback", description="Go back to the previous release", handler=self.rollback,
                    role="owner"),
        ]

    def callbacks(self) -> list[Callback]:
        return [Callback("ops.clean", self.confirm_cleanup, role="admin"),
                Callback("ops.keep", self.cancel_cleanup, role="admin"),
                Callback("ops.downgrade", self.confirm_downgrade, role="owner"),
                Callback("ops.nodowngrade", self.cancel_downgrade, role="owner")]

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
            if len(ctx.argv) != 1:
                raise UsageError()
            n = parse_int(ctx.argv[0], "N", minimum=1, maximum=MAX_LOG_LINES, what="a number of lines")
        lines = self._ring.tail(n)
        if not lines:
            await ctx.reply("No log lines yet.")
            return
        # A document: log lines are long and many, and a file keeps them whole and searchable.
        await ctx.reply_document(("\n".join(lines) + "\n").encode(), "mediabot-logs.txt",
                                 caption=f"The last {len(lines)} log line{'' if len(lines) == 1 else 's'} "
                                         "(secrets masked).")

    # -- cache ----------------------------------------------------------------------
    def _inspector(self) -> CacheInspector | None:
        if self._app.redis is None:
            return None
        return CacheInspector(self._app.redis, self._app.section("redis").key_prefix,
                              batch=self._config.scan_batch, samples=self._config.memory_samples)

    async def cache_stats(self, ctx: CommandContext) -> None:
        if self._app.redis is None:
            await ctx.reply("This deployment has no Redis.")
            return
        await ctx.reply(await cache_summary(self._app.redis))

    async def cache_analyze(self, ctx: CommandContext) -> None:
        inspector = self._inspector()
        if inspector is None:
            await ctx.reply("This deployment has no Redis.")
            return
        report = await inspector.analyze()
        await ctx.reply(render_cache_report(report, enabled=set(self._app.started),
                                            prefix=self._app.section("redis").key_prefix))

    async def cache_cleanup(self, ctx: CommandContext) -> None:
        inspector = self._inspector()
        if inspector is None:
            await ctx.reply("This deployment has no Redis.")
            return
        if ctx.argv:
            if len(ctx.argv) != 1 or not _PLUGIN_NAME.match(ctx.argv[0]):
                raise UsageError("PLUGIN is a plugin's name, as /cache_analyze shows it.")
            name = ctx.argv[0]
            if name in _NOT_A_CACHE:
                await ctx.reply(f"{name} is not a cache: {_NOT_A_CACHE[name]}.")
                return
            found = await inspector.count([inspector.namespace_pattern(name)])
            if not found:
                await ctx.reply(self._no_keys_of(name))
                return
            warning = (f"\n{name} is running here: it loses what it keeps in Redis."
                       if name in self._app.started else "\nCheck that no other deployment uses it.")
            what = f"all {keys(found)}" if found != 1 else "the 1 key"
            await ctx.reply(f"Delete {what} of {name}?{warning}",
                            keyboard=[[ctx.button("Confirm", "ops.clean", "ns", name),
                                       ctx.button("Cancel", "ops.keep")]])
            return
        patterns = await stale_patterns(self._app)
        found = await inspector.count([p for _, p in patterns])
        if not found:
            await ctx.reply("Nothing stale found. /cache_cleanup PLUGIN deletes one plugin's keys.")
            return
        owners = ", ".join(sorted({plugin for plugin, _ in patterns}))
        await ctx.reply(f"{keys(found, 'stale')} (of {owners}). Delete {'them' if found != 1 else 'it'}?",
                        keyboard=[[ctx.button("Confirm", "ops.clean", "stale"), ctx.button("Cancel", "ops.keep")]])

    async def confirm_cleanup(self, ctx: CallbackContext) -> None:
        inspector = self._inspector()
        if inspector is None or not ctx.args:
            await ctx.answer()
            return
        if ctx.args[0] == "ns" and len(ctx.args) == 2:
            stale, of, patterns = "", f" of {ctx.args[1]}", [inspector.namespace_pattern(ctx.args[1])]
        else:
            # Asked again now: what is stale may have changed since the dry run.
            stale, of, patterns = "stale", "", [p for _, p in await stale_patterns(self._app)]
        deleted = await inspector.delete(patterns)
        log.info("admin %d deleted %s%s from Redis", ctx.user.id, keys(deleted, stale), of)
        await ctx.edit(f"Deleted {keys(deleted, stale)}{of}.")
        await ctx.answer()

    def _no_keys_of(self, name: str) -> str:
        enabled = sorted(self._app.composition.names)
        if name in enabled:
            return f"{name} has no keys in Redis: nothing to delete."
        # A typo, most likely: say which names the command takes.
        return (f"No plugin {name} in this deployment, and no keys of it in Redis. Plugins here: "
                f"{', '.join(enabled) or 'none'} (/cache_analyze shows every namespace with keys).")

    async def cancel_cleanup(self, ctx: CallbackContext) -> None:
        await ctx.edit("Nothing deleted.")
        await ctx.answer()

    # -- composition, releases, restart ----------------------------------------------
    async def plugins(self, ctx: CommandContext) -> None:
        await ctx.reply("\n".join(composition_lines(self._app)))

    async def releases(self, ctx: CommandContext) -> None:
        if not self._config.releases_dir:
            await ctx.reply(_UPDATES_OFF)
            return
        await ctx.reply("\n".join(releases_lines(self._app, self._config, self._token)))

    async def restart(self, ctx: CommandContext) -> None:
        log.info("owner %d asked for a restart", ctx.user.id)
        await ctx.reply("Restarting: in-flight work finishes, then the bot stops and its supervisor starts it "
                        "again.")
        # What SIGTERM does: a graceful stop; `mediabot run` then exits 0 and the
        # supervisor (systemd Restart=always, a container restart policy) starts it.
        self._app.request_stop()

    async def update(self, ctx: CommandContext) -> None:
        argv = list(ctx.argv)
        allow_downgrade = _ALLOW_DOWNGRADE in argv
        if allow_downgrade:
            argv.remove(_ALLOW_DOWNGRADE)
        if len(argv) != 1 or not valid_tag(argv[0]):
            raise UsageError("TAG is a release tag: letters, digits, . _ + -, not starting with - or .; "
                             f"add {_ALLOW_DOWNGRADE} to apply one older than the current release.")
        if not self._config.releases_dir:
            await ctx.reply(_UPDATES_OFF)
            return
        tag = argv[0]
        if not allow_downgrade:
            store = ReleaseStore(update_settings(self._app, self._config, self._token).releases_dir)
            current = await asyncio.to_thread(store.current)
            if current is not None and older_than(tag, current):
                # Asked here, before anything is fetched: a downgrade is the owner's explicit choice.
                await ctx.reply(f"{tag} is older than the current release {current}. Downgrade to {tag}?",
                                keyboard=[[ctx.button(f"Downgrade to {tag}", "ops.downgrade", tag),
                                           ctx.button("Cancel", "ops.nodowngrade")]])
                return
        await self._start_update(ctx.reply, ctx.user.id, tag, allow_downgrade=allow_downgrade)

    async def _start_update(self, reply: Callable[[str], Awaitable[Any]], user_id: int, tag: str, *,
                            allow_downgrade: bool) -> None:
        args = ["update", tag, *([_ALLOW_DOWNGRADE] if allow_downgrade else [])]
        pid = await asyncio.to_thread(spawn_updater, self._app, args, by=f"telegram:{user_id}")
        log.info("owner %d started the update to %s%s (updater pid %d)", user_id, tag,
                 " (a downgrade)" if allow_downgrade else "", pid)
        what = "Downgrading" if allow_downgrade else "Updating"
        await reply(f"{what} to {tag}: the updater (pid {pid}) verifies the tag's signature, builds, checks, "
                    "switches and restarts the bot, and rolls back by itself if the new release is not ready. "
                    "You will be told how it ended; /releases shows its steps.")

    async def confirm_downgrade(self, ctx: CallbackContext) -> None:
        await ctx.answer()
        if len(ctx.args) != 1 or not valid_tag(str(ctx.args[0])) or not self._config.releases_dir:
            return
        await self._start_update(ctx.edit, ctx.user.id, str(ctx.args[0]), allow_downgrade=True)

    async def cancel_downgrade(self, ctx: CallbackContext) -> None:
        await ctx.edit("Nothing changed.")
        await ctx.answer()

    async def rollback(self, ctx: CommandContext) -> None:
        if not self._config.releases_dir:
            await ctx.reply(_UPDATES_OFF)
            return
        store = ReleaseStore(update_settings(self._app, self._config, self._token).releases_dir)
        if await asyncio.to_thread(store.previous) is None:  # said now, not after announcing a rollback (the updater checks again)
            await ctx.reply(NO_PREVIOUS)
            return
        pid = await asyncio.to_thread(spawn_updater, self._app, ["rollback"], by=f"telegram:{ctx.user.id}")
        log.info("owner %d started a rollback (updater pid %d)", ctx.user.id, pid)
        await ctx.reply(f"Rolling back to the previous release: the updater (pid {pid}) switches and restarts the "
                        "bot. You will be told how it ended; /releases shows its steps.")


NO_PREVIOUS = "There is no previous release to go back to: /releases shows the history."
_UPDATES_OFF = "Updates are off in this deployment: [plugins.ops] releases_dir is not set."
# The last audit lines /releases shows: enough for one update (about ten steps).
_AUDIT_SHOWN = 12


def releases_lines(app: Any, config: OpsConfig, token: str | None) -> list[str]:
    """Current release, history (newest first), installed releases, the last audit steps."""
    settings = update_settings(app, config, token)
    store = ReleaseStore(settings.releases_dir)
    history = store.history()
    lines = [f"Current: {store.current() or 'none'}",
             "History: " + (", ".join(reversed(history)) if history else "none"),
             "Installed: " + (", ".join(store.installed()) or "none")]
    entries = AuditLog(audit_path(app)).entries()[-_AUDIT_SHOWN:]
    if entries:
        lines.append("Last steps:")
        lines.extend(f"{e.time} {e.action} {e.step} {e.outcome} {e.tag}" + (f" — {e.detail}" if e.detail else "")
                     for e in entries)
    return lines


async def cache_summary(redis: Any) -> str:
    """Memory, hit rate and key count from ``INFO`` and ``DBSIZE`` (constant time: no key is walked)."""
    info = await redis.info("memory")
    stats = await redis.info("stats")
    keys = int(await redis.dbsize())
    used, limit = int(info.get("used_memory", 0)), int(info.get("maxmemory", 0))
    hits, misses = int(stats.get("keyspace_hits", 0)), int(stats.get("keyspace_misses", 0))
    rate = f"{hits / (hits + misses):.0%}" if hits + misses else "no lookups yet"
    evicted = int(stats.get("evicted_keys", 0))
    return "\n".join([
        f"Redis: {_size(used)} used" + (f" of {_size(limit)}" if limit else " (no maxmemory)"),
        f"Hit rate: {rate}; evicted keys: {evicted:,}",
        f"Keys in this database: {keys:,} (all prefixes)",
        "/cache_analyze shows keys and memory per namespace and plugin."])


def render_cache_report(report: CacheReport, *, enabled: set[str], prefix: str) -> str:
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
        lines.append(f"{ns.name}: {keys(ns.keys)}, ~{_size(ns.estimated_bytes)}{never}{note}")
    return "\n".join(lines)


async def stale_patterns(app: Any) -> list[tuple[str, str]]:
    """``(plugin, pattern)`` from ``ops_stale_keys``, each kept only inside its plugin's namespace."""
    out: list[tuple[str, str]] = []
    for plugin, patterns in await app.hooks.collect("ops_stale_keys", app=app):
        own = glob_escape(app.storage(plugin).key_prefix)
        for pattern in patterns or ():
            if isinstance(pattern, str) and pattern.startswith(own) and len(pattern) > len(own):
                out.append((plugin, pattern))
            else:
                log.warning("ignoring stale-key pattern %r of plugin %s: it must start with %r",
                            pattern, plugin, own)
    return out


def keys(n: int, kind: str = "") -> str:
    """``1 key``, ``1,200 keys``, ``1 stale key``."""
    return f"{n:,} {kind + ' ' if kind else ''}key{'' if n == 1 else 's'}"


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover - the loop always returns
