"""One run of a history job in the process that holds its lease.

The run reads the channel by ids, ``read_batch`` ids per Telegram call,
from the checkpoint (``next_id``) to the last id, writes the files it finds
through ``app.files.insert_batch`` and, after each batch, moves the
checkpoint and renews the lease in one fenced update. A crash between the
write and the checkpoint re-reads that one batch on resume: its files come
back as duplicates, never as copies, and no id is skipped.

What interrupts a run:

- ``FloodWaitTooLong``: the job is marked ``paused`` and the run sleeps
  (on the app clock) as long as Telegram asked, then goes on -- the lease is
  kept alive meanwhile;
- Telegram or database trouble that outlasts the kernel's retries: counted
  in ``errors`` and retried after a growing pause;
- ``PermanentTelegramError`` (channel private, bot not a member): the job
  fails with a message saying what to do;
- the lease is lost (another process took the job after this one hung) or
  an admin cancelled the job: the run stops without writing anything more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from mediabot import (
    FloodWaitTooLong,
    MediaFile,
    Message,
    PermanentTelegramError,
    TelegramError,
)
from mediabot_indexer.config import IndexerConfig
from mediabot_indexer.jobstore import Job, JobStore
from mediabot_indexer.live import MediaFilter
from mediabot_indexer.metrics import IndexerMetrics
from mediabot_indexer.probe import find_last_id
from mediabot_indexer.progress import Rate, describe, duration

__all__ = ["HistoryRun", "LeaseLost"]

log = logging.getLogger("mediabot.plugin.indexer")

_RETRY_MAX = 60.0


class LeaseLost(Exception):
    """The job is no longer this run's: another process owns it, or it was cancelled."""


def _why_permanent(exc: PermanentTelegramError, name: str) -> str:
    if exc.reason == "forbidden":
        return (f"The bot cannot read {name}: the channel is private to it or the bot is not a member. "
                f"Add the bot to the channel as an admin, then run /index again.")
    if exc.reason == "peer_invalid":
        return f"Telegram does not know {name} (wrong id, or the bot never was in it)."
    return f"Telegram refused to read {name}: {exc}."


class HistoryRun:
    """Runs ``job`` (just claimed: its ``fence`` is this run's) until it ends or is taken away.

    :param newest: the newest message id of a channel seen live by this process, if any.
    :param on_end: called with the job once it is done, failed or cancelled (alerts).
    """

    def __init__(self, app: Any, config: IndexerConfig, store: JobStore, job: Job, media: MediaFilter,
                 metrics: IndexerMetrics, newest: Callable[[int], int | None],
                 on_end: Callable[[Job], Any]) -> None:
        self._app = app
        self._config = config
        self._store = store
        self.job = job
        self._media = media
        self._metrics = metrics
        self._newest = newest
        self._on_end = on_end
        self._clock = app.clock
        self._rate = Rate(self._clock.now(), job.next_id)
        self._last_edit = float("-inf")
        self.lost = False
        self._over = False  # the job reached its end here: the heartbeat has nothing left to hold

    # -- the run ---------------------------------------------------------------------
    async def run(self) -> None:
        body = asyncio.ensure_future(self._body())
        beat = asyncio.ensure_future(self._heartbeat(body))
        try:
            await body
        except LeaseLost:
            await self._lost()
        except asyncio.CancelledError:
            if not self.lost:
                raise
            await self._lost()
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            for gauge in (self._metrics.job_done, self._metrics.job_total):
                with contextlib.suppress(KeyError):
                    gauge.remove(self.job.id)  # the job ended here or elsewhere: no stale series

    async def _heartbeat(self, body: asyncio.Future[Any]) -> None:
        """Renew the lease every third of it; on failure stop the body (the job is someone else's)."""
        period = self._config.job_lease / 3
        while True:
            await self._clock.sleep(period)
            if self._over:
                return
            try:
                ok = await self._store.update(self.job, lease_until=self._wall() + self._config.job_lease)
            except Exception as exc:  # noqa: BLE001 - a database hiccup: the next beat tries again
                log.warning("indexer: renewing the lease of job %s failed (%s)", self.job.id, exc)
                continue
            if not ok and not self._over:
                self.lost = True
                body.cancel()
                return

    async def _lost(self) -> None:
        current = await self._store.get(self.job.id)
        if current is not None and current.state == "cancelled":
            log.info("indexer: job %s cancelled", self.job.id)
            current.report_chat, current.report_message = self.job.report_chat, self.job.report_message
            await self._edit(current, force=True, note="Cancelled by an admin.")
            await self._call_end(current)
        else:
            log.warning("indexer: job %s was taken over by another process; this one stops", self.job.id)

    async def _body(self) -> None:
        job = self.job
        try:
            if job.chat_id is None:
                await self._resolve()
            if job.to_id is None:
                await self._find_last()
            await self._edit(job, force=True)
            while job.to_id is not None and job.next_id <= job.to_id:
                await self._batch(list(range(job.next_id, min(job.next_id + self._config.read_batch,
                                                              job.to_id + 1))))
            await self._finish("done")
        except PermanentTelegramError as exc:
            job.error = _why_permanent(exc, job.name)
            await self._finish("failed")

    async def _resolve(self) -> None:
        job = self.job
        try:
            chat = await self._app.telegram.resolve_chat(job.ref)
        except TelegramError as exc:
            if isinstance(exc, PermanentTelegramError):
                raise
            raise PermanentTelegramError("peer_invalid", exc, method="get_chat") from exc
        job.chat_id, job.title = chat.id, chat.title
        await self._save(chat_id=chat.id, title=chat.title)

    async def _find_last(self) -> None:
        job = self.job
        assert job.chat_id is not None
        newest = self._newest(job.chat_id)
        last = newest if newest is not None else await find_last_id(self._read, window=self._config.read_batch)
        job.to_id = max(last, job.from_id - 1)
        log.info("indexer: job %s: last id of %s is %d (%s)", job.id, job.name, last,
                 "newest live post" if newest is not None else "probed")
        await self._save(to_id=job.to_id)

    async def _batch(self, ids: list[int]) -> None:
        job = self.job
        messages = await self._read(ids)
        files: list[MediaFile] = []
        for message in messages:
            if self._media.post(message) is not None:
                files.append(MediaFile.from_message(message))
        inserted, duplicates = await self._write(files)
        job.seen += len(messages)
        job.skipped += len(messages) - len(files)
        job.indexed += inserted
        job.duplicates += duplicates
        job.next_id = ids[-1] + 1
        self._metrics.skipped.labels(source="history").inc(len(messages) - len(files))
        await self._save(next_id=job.next_id, lease_until=self._wall() + self._config.job_lease,
                         state="running", **job.counters())
        self._metrics.job_done.labels(job=job.id).set(job.next_id - job.from_id)
        if job.to_id is not None:
            self._metrics.job_total.labels(job=job.id).set(job.to_id - job.from_id + 1)
        await self._edit(job)

    async def _read(self, ids: Sequence[int]) -> list[Message]:
        job = self.job
        assert job.chat_id is not None
        delay = 1.0
        while True:
            try:
                return await self._app.telegram.read_channel(job.chat_id, ids)
            except FloodWaitTooLong as exc:
                await self._pause(exc.seconds)
            except PermanentTelegramError:
                raise
            except TelegramError as exc:
                await self._error("read", exc, delay)
                delay = min(delay * 2, _RETRY_MAX)

    async def _write(self, files: list[MediaFile]) -> tuple[int, int]:
        inserted = duplicates = 0
        delay = 1.0
        while files:
            try:
                report = await self._app.files.insert_batch(files)
            except Exception as exc:  # noqa: BLE001 - DatabaseUnavailable, or the driver's own timeout
                # Retried like the live consumer does: ending the run here would leave the job
                # idle until its lease runs out. A write that timed out may still land; the
                # retry then finds its files as duplicates, never as copies.
                await self._error("write", exc, delay)
                delay = min(delay * 2, _RETRY_MAX)
                continue
            self._metrics.batch(len(files), report, source="history")
            inserted += report.inserted
            duplicates += report.duplicates
            deferred = set(report.deferred)
            files = [f for f in files if f.file_unique_id in deferred]
            if files:
                await self._clock.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX)
        return inserted, duplicates

    async def _error(self, what: str, exc: Exception, delay: float) -> None:
        self.job.errors += 1
        self._metrics.errors.labels(what=f"history_{what}").inc()
        log.warning("indexer: job %s: %s failed (%s); retrying in %s", self.job.id, what, exc, duration(delay))
        await self._clock.sleep(delay)

    async def _pause(self, seconds: float) -> None:
        job = self.job
        job.state = "paused"
        resume = self._wall() + seconds
        await self._save(state="paused", resume_at=resume)
        await self._edit(job, force=True, note=f"Telegram asked to wait {duration(seconds)}; "
                                               f"the job goes on by itself after that.")
        log.info("indexer: job %s paused %.0fs by Telegram", job.id, seconds)
        await self._clock.sleep(seconds)
        job.state = "running"
        await self._save(state="running")

    async def _finish(self, state: str) -> None:
        job = self.job
        self._over = True
        job.state = state  # type: ignore[assignment]
        job.finished_at = self._wall()
        await self._save(state=state, finished_at=job.finished_at, owner=None, lease_until=0.0, error=job.error)
        await self._edit(job, force=True)
        log.info("indexer: job %s %s: %s", job.id, state, job.counters())
        await self._call_end(job)

    async def _call_end(self, job: Job) -> None:
        try:
            await self._on_end(job)
        except Exception:
            log.exception("indexer: reporting the end of job %s failed", job.id)

    # -- helpers ---------------------------------------------------------------------
    def _wall(self) -> float:
        return self._clock.wall().timestamp()

    async def _save(self, **fields: Any) -> None:
        if not await self._store.update(self.job, **fields):
            raise LeaseLost(self.job.id)

    async def _edit(self, job: Job, *, force: bool = False, note: str | None = None) -> None:
        """Edit the progress message, at most once per ``progress_interval`` unless ``force``."""
        if job.report_chat is None or job.report_message is None:
            return
        now = self._clock.now()
        if not force and now - self._last_edit < self._config.progress_interval:
            return
        self._last_edit = now
        text = describe(job, rate=self._rate.per_second(now, job.next_id), eta=self._rate.eta(now, job), note=note)
        try:
            await self._app.telegram.edit_text(job.report_chat, job.report_message, text)
        except TelegramError as exc:
            log.info("indexer: progress of job %s not shown (%s)", job.id, exc)
