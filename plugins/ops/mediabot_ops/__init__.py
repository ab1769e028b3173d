"""mediabot-ops: what operators wire into their infrastructure, and what admins use from chat.

- HTTP, in the bot's event loop (aiohttp): ``/healthz`` (alive), ``/readyz``
  (Telegram connected, Redis reachable, no component down; 503 with the
  reasons otherwise), ``/metrics`` (the app's Prometheus registry).
- Admin commands: ``/health``, ``/stats``, ``/plugins``, ``/cache_stats``,
  ``/cache_analyze``, ``/cache_cleanup``, ``/logs``, ``/releases``; the
  owner's ``/restart``, ``/update TAG`` and ``/rollback``. There is no
  shell, eval or exec command.
- Signed update and rollback of ``releases/<tag>`` behind a ``current``
  symlink, by an updater process of its own (:mod:`mediabot_ops.updater`).
- ``mediabot health`` and ``mediabot ops ...``: the same from the command line.
- Hooks for other plugins: ``ops_stats`` and ``ops_stale_keys`` (:mod:`mediabot_ops.hooks`).

See docs/ops.md.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mediabot import App, Callback, Command, HealthReport, PluginContext, PluginMeta, Secret, hookimpl
from mediabot_ops.announce import Announcer
from mediabot_ops.commands import AdminCommands
from mediabot_ops.config import TOKEN_ENV, OpsConfig, require_token
from mediabot_ops.deploy import audit_path, pid_path, remove_pid, spawn_updater, update_settings, write_pid
from mediabot_ops.health import Snapshot, collect, own_reports
from mediabot_ops.hooks import OpsHooks
from mediabot_ops.logring import LogRing, SecretMasker
from mediabot_ops.releases import ReleaseStore
from mediabot_ops.server import OpsServer

__all__ = ["OpsConfig", "OpsHooks", "OpsPlugin"]


class OpsPlugin:
    meta = PluginMeta(
        name="ops",
        description="/healthz, /readyz and Prometheus /metrics over HTTP, admin health, stats, cache and logs.",
        config=OpsConfig,
        secrets=(Secret(env=TOKEN_ENV,
                        description="bearer token of /metrics and /readyz; required when listen is not a "
                                    "loopback address",
                        required=False),),
        hookspecs=OpsHooks,
        # Monitoring must never be the reason the bot is down: a port already taken
        # disables ops with a warning (and /readyz is then missing, which probes notice).
        optional=True,
    )

    def __init__(self, ctx: PluginContext[OpsConfig]) -> None:
        self.config = ctx.config
        self.ctx = ctx
        require_token(self.config, ctx.secrets, file=ctx.app.config.file_label)
        self._token = ctx.secrets.get(TOKEN_ENV)
        app = ctx.app
        self.ring = LogRing(self.config.log_lines,
                            SecretMasker.from_env(app.env, declared=[*app.secrets, TOKEN_ENV]))
        self.server: OpsServer | None = None
        self.announcer: Announcer | None = None
        self._started_at: float | None = None
        self.admin = AdminCommands(app, self.config, self.ring, check=self.snapshot, uptime=self.uptime,
                                   token=self._token)

    @property
    def port(self) -> int | None:
        """The port the HTTP server is bound to (``None`` when it is off or not started)."""
        return self.server.port if self.server is not None else None

    def uptime(self) -> float:
        return 0.0 if self._started_at is None else self.ctx.clock.now() - self._started_at

    async def snapshot(self) -> Snapshot:
        """The app's health now: what ``/health`` and ``/readyz`` show."""
        return await collect(self.ctx.app, timeout=self.config.probe_timeout)

    # -- lifecycle --------------------------------------------------------------------
    @hookimpl
    async def mediabot_startup(self, app: App) -> None:
        self._started_at = self.ctx.clock.now()
        self.ring.attach()
        if self.config.releases_dir:
            # The updater sends SIGTERM to this pid, and knows a restart happened when it changes.
            write_pid(pid_path(app))
            await self._recover_interrupted_update(app)
            if app.redis is not None:  # one process of the deployment tells the owner how it ended
                self.announcer = Announcer(app, self.ctx.storage, audit_path(app))
                self.ctx.spawn_loop(self.announcer.run, name="ops-announce")
        address = self.config.address
        if address is None:
            return
        server = OpsServer(app, address, token=self._token, check=self.snapshot,
                           header_timeout=self.config.header_timeout, max_connections=self.config.max_connections)
        try:
            await server.start()
        except BaseException:
            self.ring.detach()
            raise
        self.server = server

    async def _recover_interrupted_update(self, app: App) -> None:
        """An updater that died after switching ``current`` left pending.json: finish or undo its update.

        The recovering updater is a process of its own, as ``/update`` starts it: it
        waits for this very process to be ready (then the update is complete) and
        otherwise switches back. While a live updater holds the lock (the normal
        restart of an update), there is nothing to do.
        """
        store = ReleaseStore(update_settings(app, self.config, self._token).releases_dir)
        if await asyncio.to_thread(store.pending) is None or await asyncio.to_thread(store.updater_running):
            return
        pid = await asyncio.to_thread(spawn_updater, app, ["recover"], by="startup")
        self.ctx.log.warning("an update was left unconcluded by an updater that stopped; the updater (pid %d) "
                             "finishes or undoes it", pid)

    @hookimpl
    async def mediabot_shutdown(self) -> None:
        # The endpoints stay up through the drain: /readyz says 503 ("the app is
        # stopping") while in-flight work finishes, and goes away last.
        if self.server is not None:
            await self.server.stop()
            self.server = None
        self.ring.detach()
        if self.config.releases_dir:
            remove_pid(pid_path(self.ctx.app))

    # -- hooks ------------------------------------------------------------------------
    @hookimpl
    async def mediabot_health(self, app: App) -> list[HealthReport]:
        return await own_reports(app, timeout=self.config.probe_timeout)

    @hookimpl
    def mediabot_commands(self) -> list[Command]:
        return self.admin.commands()

    @hookimpl
    def mediabot_callbacks(self) -> list[Callback]:
        return self.admin.callbacks()

    @hookimpl
    def mediabot_cli(self, cli: Any, config: Any) -> None:
        from mediabot_ops.cli import health_command, ops_group

        cli.add_command(health_command(config, self.config, self._token))
        cli.add_command(ops_group(config, self.ctx.app, self.config, self._token))
