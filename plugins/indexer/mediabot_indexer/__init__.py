"""mediabot-indexer: fill the catalogue from Telegram channels, live and from their history.

The plugin wires small parts together:

- :mod:`~mediabot_indexer.sources`: which channels are indexed (config seed + admin changes);
- :mod:`~mediabot_indexer.live`: channel updates -> bounded buffer -> Redis Stream -> catalogue
  (:mod:`.buffer`, :mod:`.queue`, :mod:`.consumer`, :mod:`.gaps`);
- :mod:`~mediabot_indexer.backfill`: ids recorded as gaps are read again;
- :mod:`~mediabot_indexer.jobs` and :mod:`~mediabot_indexer.history`: resumable history jobs
  with checkpoints and leases (:mod:`.jobstore`);
- :mod:`~mediabot_indexer.commands`, :mod:`~mediabot_indexer.cli`: what admins and operators type;
- :mod:`~mediabot_indexer.alerts`, :mod:`~mediabot_indexer.metrics`: what they are told.

See ``docs/indexer.md`` for operators.
"""

from __future__ import annotations

import logging
from typing import Any

from mediabot import (
    Command,
    HealthReport,
    Message,
    MessageEdited,
    MessagesDeleted,
    PluginContext,
    PluginMeta,
    hookimpl,
)
from mediabot_indexer.alerts import Alerts, Monitor
from mediabot_indexer.backfill import Backfill
from mediabot_indexer.commands import IndexerCommands
from mediabot_indexer.config import IndexerConfig
from mediabot_indexer.jobs import JobManager
from mediabot_indexer.jobstore import Job, JobStore
from mediabot_indexer.live import LiveIngest
from mediabot_indexer.metrics import IndexerMetrics
from mediabot_indexer.progress import describe
from mediabot_indexer.sources import Sources

__all__ = ["IndexerConfig", "IndexerPlugin"]

log = logging.getLogger("mediabot.plugin.indexer")

# Seconds the shutdown gives the buffer, the consumer and the jobs each.
_STOP_TIMEOUT = 5.0


class IndexerPlugin:
    meta = PluginMeta(
        name="indexer",
        description="Channel ingestion: live posts on a durable queue, resumable history jobs, gap backfill.",
        config=IndexerConfig,
        needs=("redis", "mongo"),
    )

    def __init__(self, ctx: PluginContext[IndexerConfig]) -> None:
        self.ctx = ctx
        self.config = ctx.config
        #: start live ingestion and the loops at startup (a CLI command that only queues jobs turns it off)
        self.autostart = True
        self.metrics = IndexerMetrics(ctx.app.metrics)
        self.sources = Sources(ctx.app, lambda: ctx.storage.collection("sources"), self.config.channels)
        self.store = JobStore(lambda: ctx.storage.collection("jobs"))
        ctx.storage.declare_index("jobs", [("state", 1), ("created_at", 1)], name="state_created")
        self.live: LiveIngest | None = None
        self.jobs: JobManager | None = None
        self.alerts: Alerts | None = None
        self.monitor: Monitor | None = None
        self.backfill: Backfill | None = None

    # -- lifecycle -------------------------------------------------------------------
    @hookimpl
    async def mediabot_startup(self, app: Any) -> None:
        storage = self.ctx.storage
        self.alerts = Alerts(app, self.config, storage.key)
        live = self.live = LiveIngest(app, self.config, self.sources, storage.key_prefix, self.metrics)
        self.jobs = JobManager(app, self.config, self.store, live.filter, self.metrics, spawn=self.ctx.spawn,
                               owner=live.consumer.name, newest=live.newest, on_end=self._job_ended)
        self.monitor = Monitor(app, self.config, live, self.alerts)
        self.backfill = Backfill(app, live, self.metrics, storage.key, self.config.backfill_interval)
        if not self.autostart:
            return
        try:
            await self.sources.reload()
        except Exception as exc:  # noqa: BLE001 - the refresh loop tries again
            log.warning("indexer: could not load the sources yet (%s)", exc)
        await live.start()
        self.ctx.spawn_loop(self._refresh_sources, name="sources")
        self.ctx.spawn_loop(self.jobs.run, name="jobs")
        self.ctx.spawn_loop(self.backfill.run, name="backfill")
        self.ctx.spawn_loop(self.monitor.run, name="monitor")

    @hookimpl
    async def mediabot_shutdown(self, app: Any) -> None:
        # The loops are cancelled already; jobs give their leases back, then
        # the buffer goes to Redis and the consumer finishes its batch.
        if self.jobs is not None:
            await self.jobs.close(_STOP_TIMEOUT)
        if self.live is not None and self.autostart:
            await self.live.stop(_STOP_TIMEOUT)

    async def _refresh_sources(self) -> None:
        while True:
            await self.ctx.clock.sleep(self.config.sources_refresh)
            await self.sources.reload()

    async def _job_ended(self, job: Job) -> None:
        if self.alerts is None:
            return
        if job.state == "done":
            text = f"Indexer: job {job.id} ({job.name}) finished: {job.indexed:,} files indexed."
        elif job.state == "failed":
            text = f"Indexer: job {job.id} ({job.name}) failed. {job.error or ''}".rstrip()
        else:
            return
        await self.alerts.send(f"job:{job.id}", text, limited=False)

    # -- updates ---------------------------------------------------------------------
    @hookimpl
    async def mediabot_update(self, app: Any, update: Any) -> None:
        live = self.live
        if live is None or not self.autostart:
            return
        kind = type(update)
        if kind is Message:
            if update.is_channel_post:
                live.on_post(update)
        elif kind is MessageEdited:
            await live.on_edit(update)
        elif kind is MessagesDeleted:
            await live.on_delete(update)

    @hookimpl
    def mediabot_commands(self, app: Any) -> list[Command]:
        # Callable on an unstarted plugin (listing commands must not need Redis or Mongo).
        return IndexerCommands(app, self.sources, self._job_manager).commands()

    def _job_manager(self) -> JobManager:
        if self.jobs is None:
            raise RuntimeError("the indexer plugin is not started")
        return self.jobs

    @hookimpl
    async def mediabot_health(self, app: Any) -> list[HealthReport]:
        live = self.live
        if live is None:
            return [HealthReport(component="indexer", status="down", detail="not started")]
        buffer, stats = live.buffer, live.consumer.stats
        if buffer.redis_down:
            return [HealthReport(component="indexer", status="degraded",
                                 detail=f"Redis down: {buffer.depth:,}/{buffer.capacity:,} posts held in memory")]
        detail = (f"{len(self.sources.list())} sources; backlog {stats.backlog:,}; "
                  f"{len(self.jobs.running) if self.jobs else 0} jobs running here")
        status = "degraded" if self.config.backlog_alert and stats.backlog >= self.config.backlog_alert else "ok"
        return [HealthReport(component="indexer", status=status, detail=detail)]

    @hookimpl
    def mediabot_cli(self, cli: Any, config: Any) -> None:
        from mediabot_indexer.cli import index_command

        cli.add_command(index_command(config))

    # -- for tests and tools ---------------------------------------------------------
    async def job(self, job_id: str) -> Job | None:
        """A history job as stored now."""
        return await self.store.get(job_id)

    def describe(self, job: Job) -> str:
        return describe(job)
