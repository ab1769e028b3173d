"""The history jobs of one process: submit, claim, run (bounded), cancel, give back at shutdown.

The scheduler loop claims jobs while fewer than ``max_jobs`` run here: at
start (so unfinished jobs resume by themselves), when a job is submitted or
ends, and every ``job_poll`` seconds (jobs a stopped or dead process left,
paused jobs whose wait is over, jobs the CLI queued). Each claimed job runs
as a task owned by the plugin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from mediabot import honour_cancellation
from mediabot_indexer.config import IndexerConfig
from mediabot_indexer.history import HistoryRun
from mediabot_indexer.jobstore import Job, JobStore, new_job_id
from mediabot_indexer.live import MediaFilter
from mediabot_indexer.metrics import IndexerMetrics

__all__ = ["JobManager"]

log = logging.getLogger("mediabot.plugin.indexer")


class JobManager:
    """History jobs in this process.

    :param spawn: starts a task owned by the plugin (``ctx.spawn``).
    :param owner: this process's name in job leases.
    :param newest: the newest message id of a channel seen live here, if any.
    :param on_end: called with a job that ended (done, failed, cancelled).
    """

    def __init__(self, app: Any, config: IndexerConfig, store: JobStore, media: MediaFilter,
                 metrics: IndexerMetrics, *, spawn: Callable[..., asyncio.Task[Any]], owner: str,
                 newest: Callable[[int], int | None], on_end: Callable[[Job], Any]) -> None:
        self._app = app
        self._config = config
        self.store = store
        self._media = media
        self._metrics = metrics
        self._spawn = spawn
        self.owner = owner
        self._newest = newest
        self._on_end = on_end
        self._wake = asyncio.Event()
        self._closing = False
        #: job id -> (task, run) of the jobs running in this process
        self.running: dict[str, tuple[asyncio.Task[Any], HistoryRun]] = {}
        metrics.jobs_running.set_function(lambda: len(self.running))

    def _wall(self) -> float:
        return self._app.clock.wall().timestamp()

    async def submit(self, ref: str, *, job_id: str | None = None, chat_id: int | None, title: str | None, from_id: int,
                     to_id: int | None, requested_by: int | None = None, report_chat: int | None = None,
                     report_message: int | None = None) -> Job:
        """Queue a job; a scheduler (this process's or another's) starts it."""
        job = Job(id=job_id or new_job_id(), ref=ref, chat_id=chat_id, title=title, from_id=from_id, to_id=to_id,
                  next_id=from_id, requested_by=requested_by, report_chat=report_chat,
                  report_message=report_message, created_at=self._wall())
        await self.store.create(job)
        self._wake.set()
        return job

    async def cancel(self, job_id: str) -> Job | None:
        """Cancel a job that is not over (wherever it runs); returns it as it was, or ``None``."""
        job = await self.store.cancel(job_id, self._wall())
        if job is None:
            return None
        entry = self.running.get(job_id)
        if entry is not None:
            entry[1].lost = True  # its writes would not match anymore: stop it now
            entry[0].cancel()
        return job

    # -- scheduling ------------------------------------------------------------------
    async def run(self) -> None:
        """The scheduler loop (``ctx.spawn_loop``)."""
        while not self._closing:
            await self.fill()
            await self._wait(self._config.job_poll)

    async def fill(self) -> int:
        """Claim and start jobs while there is room; returns how many started."""
        started = 0
        while not self._closing and len(self.running) < self._config.max_jobs:
            job = await self.store.claim(self.owner, self._wall(), self._config.job_lease, list(self.running))
            if job is None:
                break
            self._start(job)
            started += 1
        return started

    def _start(self, job: Job) -> None:
        run = HistoryRun(self._app, self._config, self.store, job, self._media, self._metrics,
                         self._newest, self._on_end)
        log.info("indexer: job %s (%s) runs here from id %d (claim %d)", job.id, job.name, job.next_id, job.fence)
        task = self._spawn(run.run(), name=f"job:{job.id}")
        self.running[job.id] = (task, run)

        def done(t: asyncio.Task[Any], job_id: str = job.id) -> None:
            if self.running.get(job_id, (None,))[0] is t:
                del self.running[job_id]
            self._wake.set()  # a slot is free

        task.add_done_callback(done)

    async def _wait(self, seconds: float) -> None:
        # The clock's sleep runs in its own task here, so it cannot see a cancel of this loop
        # that a Redis call swallowed (Python 3.11): look for one ourselves.
        honour_cancellation()
        sleeper = asyncio.ensure_future(self._app.clock.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for f in (sleeper, waker):
                f.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await f
        self._wake.clear()

    async def close(self, timeout: float) -> None:
        """Stop the jobs running here and release their leases, so another process resumes them at once."""
        self._closing = True
        entries = list(self.running.values())
        for task, _ in entries:
            task.cancel()
        if entries:
            await asyncio.wait({t for t, _ in entries}, timeout=timeout)
        for _, run in entries:
            if run.lost:
                continue
            try:
                await self.store.release(run.job)
            except Exception as exc:  # noqa: BLE001 - the lease then runs out by itself
                log.warning("indexer: could not release job %s (%s); another process takes it after "
                            "the lease (%.0f s)", run.job.id, exc, self._config.job_lease)
