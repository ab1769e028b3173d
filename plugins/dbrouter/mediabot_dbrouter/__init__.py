"""mediabot-dbrouter: the catalogue over several MongoDB databases.

List the databases in ``plugins.toml`` (URIs come from environment
variables), and the plugin replaces the kernel's single-database provider
with a :class:`~mediabot_dbrouter.router.DatabaseRouter`:

* a circuit breaker per database (:mod:`~mediabot_dbrouter.breaker`);
* capacity from ``dbStats`` measured in the background
  (:mod:`~mediabot_dbrouter.capacity`);
* writes to one active database that moves on when it fills or fails, back
  only by rule, pinnable by admins (:mod:`~mediabot_dbrouter.router`);
* no file stored twice across databases (:mod:`~mediabot_dbrouter.writes`,
  :mod:`~mediabot_dbrouter.reconcile`), batches cut to overlap claim and write
  when it pays (:mod:`~mediabot_dbrouter.cutting`);
* ``/dbstatus``, ``/dbswitch NAME|auto`` and ``mediabot db status``.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from mediabot import (
    App,
    Command,
    CommandContext,
    HealthReport,
    PluginContext,
    PluginMeta,
    UsageError,
    hookimpl,
)
from mediabot_dbrouter.alerts import Alerts
from mediabot_dbrouter.build import build_router
from mediabot_dbrouter.config import DatabaseEntry, DbRouterConfig
from mediabot_dbrouter.homes import check_home
from mediabot_dbrouter.reconcile import Reconciler
from mediabot_dbrouter.router import DatabaseRouter
from mediabot_dbrouter.status import format_status
from mediabot_dbrouter.views import ViewPublisher, deployment_name

__all__ = ["DatabaseEntry", "DbRouterConfig", "DbRouterPlugin"]


class DbRouterPlugin:
    meta = PluginMeta(
        name="dbrouter",
        description="Routes catalogue writes over several MongoDB databases with breakers and failover.",
        config=DbRouterConfig,
    )

    def __init__(self, ctx: PluginContext[DbRouterConfig]) -> None:
        self.config = ctx.config
        self.log = ctx.log
        self.router: DatabaseRouter | None = None
        self.reconciler: Reconciler | None = None

    # -- provider and lifecycle ------------------------------------------------------
    @hookimpl
    def mediabot_database_provider(self, app: App) -> DatabaseRouter | None:
        if not self.config.databases:
            # Enabled with nothing to route: the kernel's single database serves,
            # as without the plugin (a deployment template can enable it early).
            self.log.warning("no [[plugins.dbrouter.databases]] configured: the catalogue uses the single "
                             "database of MEDIABOT_MONGO_URI")
            return None
        alerts = Alerts(app.notices, interval=self.config.alert_interval)
        # A ConfigError (a missing or malformed URI variable) stops the start, exit 2.
        # A test's virtual clock stands still while these clients' commands are in flight, as for the app's.
        self.router = build_router(self.config, app.env, alerts=alerts, metrics=app.metrics,
                                   client_options=app.mongo_client_options())
        alerts.counter = self.router.counters.alerts
        self.router.views = ViewPublisher(self.router, deployment_name(app.section("bot").name))
        self.reconciler = Reconciler(self.router)
        return self.router

    @hookimpl
    async def mediabot_startup(self, app: App) -> None:
        router = self.router
        if router is None or self.reconciler is None:
            return
        await check_home(router)  # the users and the registry are where home says
        await router.monitor_once()  # capacities known before the first write
        app.supervisor.spawn_loop(router.run_monitor, name="dbrouter.monitor", owner="dbrouter")
        app.supervisor.spawn_loop(self.reconciler.run_forever, name="dbrouter.reconciler", owner="dbrouter")
        # The clients close when background tasks are cancelled: after every
        # shutdown hook, the kernel's last writes (user sightings) included.
        app.supervisor.spawn(self._close_at_exit(router), name="dbrouter.clients", owner="dbrouter")

    @staticmethod
    async def _close_at_exit(router: DatabaseRouter) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await router.close()

    @hookimpl
    def mediabot_health(self) -> list[HealthReport]:
        if self.router is None:
            return []
        reports = []
        for s in self.router.status():
            status = {"closed": "ok", "half_open": "degraded", "open": "down"}[s.state]
            reports.append(HealthReport(component=f"mongo:{s.name}", status=status,
                                        detail=f"{s.state}, {s.fraction:.0%} of quota"))
        writer = next((s.name for s in self.router.status() if s.takes_writes), None)
        reports.append(HealthReport(component="dbrouter.writes", status="ok" if writer else "down",
                                    detail=f"writes go to {writer}" if writer else "no database takes writes"))
        return reports

    # -- admin commands --------------------------------------------------------------
    @hookimpl
    def mediabot_commands(self) -> list[Command]:
        if self.router is None:
            return []
        return [
            Command(name="dbstatus", description="Databases: state, size, which one takes writes",
                    handler=self.dbstatus, role="admin"),
            Command(name="dbswitch", description="Pin writes to a database, or back to automatic",
                    handler=self.dbswitch, usage="NAME|auto", role="admin"),
        ]

    async def dbstatus(self, ctx: CommandContext) -> None:
        assert self.router is not None
        await ctx.reply(format_status(self.router.status()))

    async def dbswitch(self, ctx: CommandContext) -> None:
        router = self.router
        assert router is not None
        if len(ctx.argv) != 1:
            raise UsageError()
        name = ctx.argv[0]
        if name.lower() == "auto":
            was = router.unpin()
            active = router.active
            now = active.name if active else "no database"
            self.log.info("admin %d released the write pin", ctx.user.id)
            text = f"Automatic routing{f' (pin on {was.name} released)' if was else ''}: writes go to {now}."
        else:
            problem = router.pin(name)
            if problem is not None:
                await ctx.reply(f"Cannot pin {name}: {problem}.")
                return
            self.log.info("admin %d pinned writes to %s", ctx.user.id, name)
            text = f"Writes pinned to {name} until /dbswitch auto (or until it fails)."
        if await router.pins.publish(by=ctx.user.id):
            text += f" Other deployments follow within {router.settings.probe_interval:g}s."
        else:
            text += (" The home database did not answer, so this holds for this deployment only; "
                     "send it again once /dbstatus shows the home closed.")
        await ctx.reply(text)

    # -- command line ----------------------------------------------------------------
    @hookimpl
    def mediabot_cli(self, cli: Any) -> None:
        from mediabot_dbrouter.cli import db_group

        cli.add_command(db_group(self.config, os.environ))
