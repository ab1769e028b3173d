"""One process running the broadcast job it holds the lease of.

A producer reads the audience ahead from the catalogue (ids in order, after
the cursor; reading claims nobody), claims users in small batches and
queues them; ``concurrency`` workers copy the message to each, paced by
:class:`~.pace.StepRate` and the kernel's bulk send budget; one settler
records the outcomes, all that are ready in one write per kind of outcome. A user counts
against ``window`` from the claim until the outcome is recorded, so
claimed-but-unsettled users never exceed ``window``: that is all a crash
can leave in doubt. A heartbeat renews the lease; a lost lease (``fenced``),
a pause or a cancel stops the runner at the next batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from mediabot import FloodWaitTooLong, JobProgress, PermanentTelegramError, RedisWatch, TelegramError
from mediabot_broadcast.config import BroadcastConfig
from mediabot_broadcast.pace import StepRate
from mediabot_broadcast.store import Claim, Job, JobStore, Outcome

__all__ = ["Runner"]

log = logging.getLogger("mediabot.plugin.broadcast")

# Reasons a runner stops before the audience is exhausted.
STOPS_THAT_GIVE_BACK = ("paused", "cancelled", "source_gone", "unauthorized", "shutdown")
# Audience ids read from the catalogue per query, ahead of the claims: one
# query per page instead of one per claim batch. Reading claims nobody (the
# cursor in the job moves only with claims), so a page costs memory only. The
# next page is read in the background once half of this one is left, so the
# workers do not wait for it (a window of 24 drains in 24 ms at 1,000/s); a
# read slower than a quarter of the time its page lasts at the current rate
# doubles the next page, up to READ_AHEAD_MAX.
READ_AHEAD = 1000
# Seconds the settler waits for more outcomes before recording them (less when half a
# window is ready): outcomes still unrecorded are in flight, so this only costs window room.
SETTLE_GATHER = 0.5
READ_AHEAD_MAX = 16_000


class Runner:
    """Runs ``job`` while this process holds its lease (``token``).

    :param app: the application (``telegram``, ``users``, ``clock``).
    :param store: the job store.
    :param config: the plugin's settings.
    :param job: the job as loaded when the lease was taken.
    :param token: the fencing token of the lease.
    :param on_progress: called with the job from time to time (progress message).
    """

    def __init__(self, app: Any, store: JobStore, config: BroadcastConfig, job: Job, token: int, *,
                 on_progress: Callable[[Job], Awaitable[None]] | None = None) -> None:
        self.app = app
        self.store = store
        self.config = config
        self.job = job
        self.token = token
        self.clock = app.clock
        self.rate = StepRate(self.clock, top=config.rate, floor=config.min_rate, step_down=config.step_down,
                             recover_every=config.recover_every)
        self._on_progress = on_progress
        self.stop_reason: str | None = None
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        # Claimed users not yet settled in the database (queued, sending, or waiting for the settler).
        self._inflight = 0
        self._ahead: deque[int] = deque()
        self._read_after = job.cursor
        self._read_all = False
        self._reading: asyncio.Task[tuple[int, list[int]]] | None = None
        self._page = READ_AHEAD
        # Only the owner gives users back; a previous owner may have left some.
        self._maybe_retries = True
        self._given_back = 0
        self._outcomes: list[tuple[int, Outcome]] = []
        self._outcome_ready = asyncio.Event()
        self._half_ready = asyncio.Event()
        self._room = asyncio.Event()
        self._hold_until = 0.0
        self._floods_seen = app.telegram.send_flood_waits
        # Edits of the progress message, at most every ``progress_every`` s (the first one waits too).
        self.progress = JobProgress(app, config.progress_every, wait_first=True)
        self.redis_watch = RedisWatch(app, "broadcast")
        # The progress edit runs beside the settler, so outcomes keep being recorded meanwhile.
        self._progress: asyncio.Task[None] | None = None
        self.sent_here = 0
        self._closing = False
        # Workers waiting for their send slot (or a FloodWait hold): a drain interrupts
        # them, since nothing was sent yet and their users can go back at once.
        self._waiting: set[asyncio.Task[Any]] = set()

    # -- the run ---------------------------------------------------------------------
    async def run(self) -> str:
        """Run until the audience is done or something stops it; return ``done`` or the stop reason."""
        workers = [asyncio.create_task(self._worker(), name=f"broadcast-send-{i}")
                   for i in range(self.config.concurrency)]
        helpers = (asyncio.create_task(self._heartbeat(), name="broadcast-heartbeat"),
                   asyncio.create_task(self._settler(), name="broadcast-settle"))
        try:
            await self._produce()
            await self._queue.join()
        finally:
            self._closing = True
            for task in (self._reading, self._progress):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(Exception, asyncio.CancelledError):
                        await task
            for task in (*workers, *helpers):
                task.cancel()
            for task in (*workers, *helpers):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return self.stop_reason or "done"

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
            log.info("broadcast %s: stopping (%s)", self.job.id, reason)
        self._room.set()
        self._half_ready.set()

    def drain(self) -> None:
        """Stop for a graceful shutdown: sends under way finish and are recorded, every other user is given back.

        :meth:`run` then returns ``shutdown`` with nobody left in doubt, so the
        next owner sends to all of them; without it a stop leaves up to
        ``window`` users unknown, as a crash does.
        """
        self.stop("shutdown")
        for task in list(self._waiting):
            task.cancel()

    async def _produce(self) -> None:
        while self.stop_reason is None:
            if self._cancelled():
                raise asyncio.CancelledError
            room = await self._wait_room()
            if room == 0:
                return
            claim = await self._claim_next(room)
            if claim is None:
                # Everyone is claimed and no one was given back. With sends in flight,
                # one may still be given back (FloodWait): wait, look again.
                if self._inflight == 0:
                    return
                await self._queue.join()
                continue
            if claim.status != "ok":
                self.stop(claim.status)
                return
            for user in claim.users:
                self._inflight += 1
                self._queue.put_nowait(user)

    async def _claim_next(self, room: int) -> Claim | None:
        """Claim up to ``room`` users: given back ones first, then the audience; ``None`` when none is left."""
        if self._maybe_retries:
            retried = await self._retries(room)
            if retried.status != "ok" or retried.users:
                return retried
        fresh = await self._fresh(room)
        if not fresh:
            return None
        claim = await self.store.claim(self.job.id, self.token, fresh, fresh[-1])
        if claim.status == "ok":
            for _ in fresh:
                self._ahead.popleft()
        return claim

    async def _wait_room(self) -> int:
        """Wait until half the window is free (a claim per half window, not per user); return the room."""
        batch = max(1, self.config.window // 2)
        while self.config.window - self._inflight < batch and self.stop_reason is None:
            self._room.clear()
            await self._room.wait()
        if self.stop_reason is not None:
            return 0
        return batch

    async def _retries(self, count: int) -> Claim:
        given_back = self._given_back
        taken = await self.store.take_retries(self.job.id, self.token, count)
        # Fewer than asked: the set is empty now, and only this runner refills it
        # (a give-back that finished meanwhile may have landed after the read).
        self._maybe_retries = len(taken.users) == count or self._given_back != given_back
        return taken

    async def _fresh(self, count: int) -> list[int]:
        """The next ``count`` users of the audience (fewer at its end), read ahead, not claimed.

        The next page is read in the background while the current one is sent.
        """
        if self._reading is None and not self._read_all and len(self._ahead) < max(count, self._page // 2):
            self._reading = asyncio.create_task(self._read_page(self._page), name="broadcast-read-audience")
        if len(self._ahead) < count and self._reading is not None:
            reading, self._reading = self._reading, None
            asked, more = await reading  # a failed read fails the run here, as before
            self._read_all = len(more) < asked
            self._ahead.extend(more)
            if more:
                self._read_after = more[-1]
            return await self._fresh(count)
        return list(itertools.islice(self._ahead, count))

    async def _read_page(self, size: int) -> tuple[int, list[int]]:
        """Read ``size`` ids; grow the next page when this read was slow for the rate."""
        started = self.clock.now()
        ids = await self._read_audience(size)
        if self.clock.now() - started > size / self.rate.rate / 4:
            self._page = min(READ_AHEAD_MAX, self._page * 2)
        return size, ids

    async def _read_audience(self, count: int) -> list[int]:
        spec = self.job.spec
        since = None
        if spec.days:
            since = datetime.fromtimestamp(self.job.created, UTC) - timedelta(days=spec.days)
        out: list[int] = []
        ids = self.app.users.iter_active_ids(batch=count, after=self._read_after, seen_since=since)
        try:
            async for uid in ids:
                out.append(int(uid))
                if len(out) >= count:
                    break
        finally:
            await ids.aclose()
        return out

    # -- one user --------------------------------------------------------------------
    async def _worker(self) -> None:
        while not self._cancelled():
            user = await self._queue.get()
            outcome: Outcome | None = None
            try:
                outcome = await self._one(user)
            except Exception:
                log.exception("broadcast %s: user %s", self.job.id, user)
            finally:
                if outcome is None:
                    self._release(1)
                else:
                    self._outcomes.append((user, outcome))
                    self._outcome_ready.set()
                    if len(self._outcomes) >= self.config.window // 2:
                        self._half_ready.set()

    def _release(self, users: int) -> None:
        """``users`` claimed users are settled (or given back): room for more."""
        self._inflight -= users
        self._room.set()
        for _ in range(users):
            self._queue.task_done()

    async def _settler(self) -> None:
        """Record the outcomes the workers produced: every one ready, in one call."""
        while not self._cancelled():
            if not self._outcomes:
                self._outcome_ready.clear()
                await self._outcome_ready.wait()
                continue
            await self._gather()
            batch, self._outcomes = self._outcomes, []
            try:
                if not await self.store.settle_many(self.job.id, self.token, batch):
                    self.stop("fenced")
                else:
                    self.sent_here += sum(1 for _, outcome in batch if outcome == "sent")
            except Exception as exc:  # noqa: BLE001 - left pending: in doubt for the next owner, never re-sent
                log.warning("broadcast %s: %d outcomes not recorded: %s", self.job.id, len(batch), exc)
            finally:
                self._release(len(batch))
            self._maybe_progress()

    async def _gather(self) -> None:
        """Let outcomes pile up for a moment before they are written.

        At 20-30 sends/s a database write per outcome would cost more than the
        sends. Half a window is written at once (the producer waits for that
        room), and so is everything once the runner is stopping.
        """
        half = max(1, self.config.window // 2)
        if self.stop_reason is not None or len(self._outcomes) >= half:
            return
        self._half_ready.clear()
        waits = (asyncio.ensure_future(self.clock.sleep(SETTLE_GATHER)),
                 asyncio.ensure_future(self._half_ready.wait()))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def _one(self, user: int) -> Outcome | None:
        """Send to ``user``: the outcome to record, or ``None`` when the user was given back."""
        if self.stop_reason is not None:
            await self._give_back(user)
            return None
        task = asyncio.current_task()
        assert task is not None
        self._waiting.add(task)
        try:
            await self._wait_hold()
            await self.rate.wait()
        except asyncio.CancelledError:
            if self.stop_reason != "shutdown" or self._closing:
                raise
            task.uncancel()  # the drain's own cancel: nothing was sent, the user goes back
        finally:
            self._waiting.discard(task)
        if self.stop_reason is not None:
            await self._give_back(user)
            return None
        outcome: Outcome
        try:
            await self._deliver(user)
            outcome = "sent"
        except FloodWaitTooLong as exc:
            # Nothing was sent: the user goes back in line, the whole job waits.
            self.rate.on_flood()
            self._hold_until = max(self._hold_until, self.clock.now() + exc.seconds)
            log.warning("broadcast %s: FloodWait of %.0fs, holding", self.job.id, exc.seconds)
            await self._give_back(user)
            return None
        except PermanentTelegramError as exc:
            if exc.reason in ("message_empty", "unauthorized"):
                self.stop("source_gone" if exc.reason == "message_empty" else "unauthorized")
                await self._give_back(user)
                return None
            outcome = await self._unreachable(user, exc.reason)
        except TelegramError as exc:  # transient failures outlasted the gateway's retries
            log.info("broadcast %s: user %s failed: %s", self.job.id, user, exc)
            outcome = "failed"
        self._note_floods()
        return outcome

    async def _deliver(self, user: int) -> None:
        spec, tg = self.job.spec, self.app.telegram
        if spec.album:
            copies = await tg.copy_album(user, spec.chat_id, spec.message_id, size=spec.album,
                                         silent=spec.silent, priority="bulk")
            first = copies[0].id if copies else None
        else:
            copy = await tg.copy_message(user, spec.chat_id, spec.message_id, keep_keyboard=True,
                                         silent=spec.silent, priority="bulk")
            first = copy.id
        if spec.pin and first is not None:
            try:
                await tg.pin(user, first, silent=True, priority="bulk")
            except TelegramError as exc:  # the message arrived: a failed pin does not make it unsent
                log.info("broadcast %s: could not pin for %s: %s", self.job.id, user, exc)

    async def _unreachable(self, user: int, reason: str) -> Outcome:
        users = self.app.users
        try:
            if reason == "blocked":
                await users.mark_blocked(user)
                return "blocked"
            if reason == "deactivated":
                await users.mark_deactivated(user)
                return "deactivated"
        except Exception as exc:  # noqa: BLE001 - counted all the same; the next broadcast tries again
            log.warning("broadcast %s: could not mark user %s %s: %s", self.job.id, user, reason, exc)
            return "blocked" if reason == "blocked" else "deactivated"
        return "failed"

    async def _give_back(self, user: int) -> None:
        if self.stop_reason == "fenced":
            return  # not ours any more: the new owner counted them as in doubt
        if not await self.store.give_back(self.job.id, self.token, user):
            self.stop("fenced")
        self._given_back += 1
        self._maybe_retries = True

    async def _wait_hold(self) -> None:
        while (left := self._hold_until - self.clock.now()) > 0 and self.stop_reason is None:
            await self.clock.sleep(left)

    def _note_floods(self) -> None:
        seen = self.app.telegram.send_flood_waits
        if seen > self._floods_seen:
            self._floods_seen = seen
            self.rate.on_flood()

    # -- lease and progress -----------------------------------------------------------
    async def _heartbeat(self) -> None:
        every = self.config.lease / 3
        while not self._cancelled():
            await self.clock.sleep(every)
            try:
                state = await self.store.renew(self.job.id, self.token, self.config.lease)
            except Exception as exc:  # noqa: BLE001 - MongoDB away: keep going, the lease says how long
                log.warning("broadcast %s: heartbeat failed: %s", self.job.id, exc)
                continue
            if state != "running":
                self.stop(state)
                return
            if self.job.record is not None:
                await self.redis_watch.check(self.job.record, self.progress, what=f"broadcast {self.job.id}")

    def _cancelled(self) -> bool:
        # redis-py's timeouts (asyncio.wait_for on Python 3.11) can swallow a
        # cancellation that arrives with a reply: look at the flag ourselves.
        task = asyncio.current_task()
        return self._closing or (task is not None and task.cancelling() > 0)

    def _maybe_progress(self) -> None:
        if self._on_progress is None or (self._progress is not None and not self._progress.done()):
            return
        if not self.progress.due():
            return
        self.progress.mark()
        self._progress = asyncio.create_task(self._show_progress(self._on_progress), name="broadcast-progress")

    async def _show_progress(self, show: Callable[[Job], Awaitable[None]]) -> None:
        try:
            await self.store.recount(self.job.id, self.token)
            job = await self.store.load()
            if job is not None and job.id == self.job.id:
                await show(job)
        except Exception as exc:  # noqa: BLE001 - progress is a courtesy
            log.debug("broadcast %s: progress not shown: %s", self.job.id, exc)
