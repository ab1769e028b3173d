"""One process running the broadcast job it holds the lease of.

A producer claims users in small batches (audience order, by id cursor)
and queues them; ``concurrency`` workers copy the message to each, paced by
:class:`~.pace.StepRate` and the kernel's bulk send budget, and record the
outcome. Claimed-but-unsettled users never exceed ``window``: that is all a
crash can leave in doubt. A heartbeat renews the lease; a lost lease
(``fenced``), a pause or a cancel stops the runner at the next batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from mediabot import FloodWaitTooLong, PermanentTelegramError, TelegramError
from mediabot_broadcast.config import BroadcastConfig
from mediabot_broadcast.pace import StepRate
from mediabot_broadcast.store import Job, JobStore, Outcome

__all__ = ["Runner"]

log = logging.getLogger("mediabot.plugin.broadcast")

# Reasons a runner stops before the audience is exhausted.
STOPS_THAT_GIVE_BACK = ("paused", "cancelled", "source_gone", "unauthorized")


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
        self._inflight = 0
        self._room = asyncio.Event()
        self._hold_until = 0.0
        self._floods_seen = app.telegram.send_flood_waits
        self._last_progress = self.clock.now()
        self._progressing = False
        self.sent_here = 0
        self._closing = False

    # -- the run ---------------------------------------------------------------------
    async def run(self) -> str:
        """Run until the audience is done or something stops it; return ``done`` or the stop reason."""
        workers = [asyncio.create_task(self._worker(), name=f"broadcast-send-{i}")
                   for i in range(self.config.concurrency)]
        heartbeat = asyncio.create_task(self._heartbeat(), name="broadcast-heartbeat")
        try:
            await self._produce()
            await self._queue.join()
        finally:
            self._closing = True
            for task in (*workers, heartbeat):
                task.cancel()
            for task in (*workers, heartbeat):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return self.stop_reason or "done"

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
            log.info("broadcast %s: stopping (%s)", self.job.id, reason)
        self._room.set()

    async def _produce(self) -> None:
        cursor = self.job.cursor
        exhausted = False
        while self.stop_reason is None:
            if self._cancelled():
                raise asyncio.CancelledError
            room = await self._wait_room()
            if room == 0:
                return
            users, retried = await self._retries(room)
            if not users and not exhausted:
                fresh = await self._next_audience(cursor, room)
                if fresh:
                    claim = await self.store.claim(self.job.id, self.token, fresh, fresh[-1])
                    if claim.status != "ok":
                        self.stop(claim.status)
                        return
                    cursor = fresh[-1]
                    users = claim.users
                else:
                    exhausted = True
            elif retried:
                claim = await self.store.claim(self.job.id, self.token, users, None)
                if claim.status != "ok":
                    self.stop(claim.status)
                    return
                users = claim.users
            if exhausted and not users:
                # Everyone is claimed and no one was given back (just checked). With
                # sends in flight, one may still be given back (FloodWait): wait, look again.
                if self._inflight == 0:
                    return
                await self._queue.join()
                continue
            for user in users:
                self._inflight += 1
                self._queue.put_nowait(user)

    async def _wait_room(self) -> int:
        while self._inflight >= self.config.window and self.stop_reason is None:
            self._room.clear()
            await self._room.wait()
        if self.stop_reason is not None:
            return 0
        return min(self.config.window - self._inflight, max(1, self.config.window // 2))

    async def _retries(self, count: int) -> tuple[list[int], bool]:
        taken = await self.store.take_retries(self.job.id, self.token, count)
        if taken.status != "ok":
            self.stop(taken.status)
            return [], False
        return taken.users, bool(taken.users)

    async def _next_audience(self, cursor: int | None, count: int) -> list[int]:
        spec = self.job.spec
        since = None
        if spec.days:
            since = datetime.fromtimestamp(self.job.created, UTC) - timedelta(days=spec.days)
        out: list[int] = []
        ids = self.app.users.iter_active_ids(batch=count, after=cursor, seen_since=since)
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
            try:
                await self._one(user)
            except Exception:
                log.exception("broadcast %s: user %s", self.job.id, user)
            finally:
                self._inflight -= 1
                self._room.set()
                self._queue.task_done()

    async def _one(self, user: int) -> None:
        if self.stop_reason is not None:
            await self._give_back(user)
            return
        await self._wait_hold()
        await self.rate.wait()
        if self.stop_reason is not None:
            await self._give_back(user)
            return
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
            return
        except PermanentTelegramError as exc:
            if exc.reason in ("message_empty", "unauthorized"):
                self.stop("source_gone" if exc.reason == "message_empty" else "unauthorized")
                await self._give_back(user)
                return
            outcome = await self._unreachable(user, exc.reason)
        except TelegramError as exc:  # transient failures outlasted the gateway's retries
            log.info("broadcast %s: user %s failed: %s", self.job.id, user, exc)
            outcome = "failed"
        self._note_floods()
        if not await self.store.settle(self.job.id, self.token, user, outcome):
            self.stop("fenced")
            return
        if outcome == "sent":
            self.sent_here += 1
        await self._maybe_progress()

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
                state = await self.store.renew(self.job.id, self.token, _wall(self.clock), self.config.lease)
            except Exception as exc:  # noqa: BLE001 - Redis away: keep going, the lease says how long
                log.warning("broadcast %s: heartbeat failed: %s", self.job.id, exc)
                continue
            if state != "running":
                self.stop(state)
                return

    def _cancelled(self) -> bool:
        # redis-py's timeouts (asyncio.wait_for on Python 3.11) can swallow a
        # cancellation that arrives with a reply: look at the flag ourselves.
        task = asyncio.current_task()
        return self._closing or (task is not None and task.cancelling() > 0)

    async def _maybe_progress(self) -> None:
        if self._on_progress is None or self._progressing:
            return
        if self.clock.now() - self._last_progress < self.config.progress_every:
            return
        self._progressing = True
        self._last_progress = self.clock.now()
        try:
            job = await self.store.load()
            if job is not None and job.id == self.job.id:
                await self._on_progress(job)
        except Exception as exc:  # noqa: BLE001 - progress is a courtesy
            log.debug("broadcast %s: progress not shown: %s", self.job.id, exc)
        finally:
            self._progressing = False


def _wall(clock: Any) -> float:
    return float(clock.wall().timestamp())
