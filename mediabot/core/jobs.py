"""Jobs: long, single-owner, resumable work under a fenced lease, kept in MongoDB.

A plugin's jobs are documents of its collection ``<plugin>.jobs`` on the home
database (``ctx.jobs``). Whatever a job must not lose -- its state, its
parameters, its checkpoint and its counters -- is in that document, so a
Redis that loses its data loses no job; Redis is not used for jobs at all,
only watched (:class:`RedisWatch`) so the starter hears when the send budget
falls back to per-process pacing.

**Lease with fencing.** :meth:`Jobs.claim` is one ``find_one_and_update``:
it takes a job whose lease has run out (or was given up) and increments its
``token``. Every later write of the holder (renew, checkpoint, counters) is
filtered on that token, so a process that lost the job -- it hung past its
lease and someone else took over -- has its late writes refused, and learns
it (``False`` / ``"fenced"``). Lease times are the app clock's wall time, so
tests drive them virtually; keep the clocks of a deployment's hosts in sync.

**Exactly one current job per slot.** :meth:`Jobs.create` with a ``slot``
(say the job's kind) refuses to start while the slot's job is running or
paused; the slot document names the current (or last) job, so a status
command finds it after any restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import msgspec

if TYPE_CHECKING:
    from pymongo.asynchronous.collection import AsyncCollection

    from mediabot.core.app import App

__all__ = ["JOB_ACTIVE", "JobLease", "JobProgress", "JobRecord", "JobState", "Jobs", "RedisWatch"]

log = logging.getLogger("mediabot.jobs")

JobState = Literal["running", "paused", "cancelled", "done", "failed"]
JOB_ACTIVE: tuple[JobState, ...] = ("running", "paused")


class JobRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A snapshot of one job's document.

    :param id: the job's id.
    :param kind: what it does (``broadcast``, ``history``...), chosen by the plugin.
    :param slot: the slot it was started in (at most one active job per slot), if any.
    :param slot_seq: its number in the slot (the newest is the current one).
    :param state: ``running`` (wants an owner), ``paused``, or finished: ``done``, ``cancelled``, ``failed``.
    :param params: what the job was started with (the plugin's own fields, fixed at creation).
    :param started_by: the user who started it.
    :param report_to: the chat that gets progress and the final report.
    :param progress_message: the message in ``report_to`` edited with progress (0: none).
    :param token: the fencing token of the current (or last) lease; 0 before the first claim.
    :param owner: the process that holds (or last held) the lease.
    :param lease_until: the lease runs out then (wall clock, s); 0 when given up.
    :param beat: how many times the lease was renewed (a dead owner stops counting).
    :param checkpoint: where the work is (the plugin's own fields).
    :param counters: counts the holder adds to (sent, failed...).
    """

    id: str
    kind: str
    state: JobState
    slot: str | None = None
    slot_seq: int = 0
    params: dict[str, Any] = {}
    started_by: int = 0
    report_to: int = 0
    progress_message: int = 0
    reason: str = ""
    token: int = 0
    owner: str = ""
    lease_until: float = 0.0
    beat: int = 0
    checkpoint: dict[str, Any] = {}
    counters: dict[str, int] = {}
    created: float = 0.0
    finished: float = 0.0
    reported: bool = False
    reporter: str = ""
    report_until: float = 0.0

    @property
    def active(self) -> bool:
        return self.state in JOB_ACTIVE

    def lease_live(self, now: float) -> bool:
        return self.lease_until > now

    def report_due(self, now: float) -> bool:
        """Finished, its report not sent, and nobody is sending it now."""
        return not self.active and not self.reported and self.report_until <= now


class JobLease(msgspec.Struct, frozen=True):
    """Proof of holding a job: pass it to every write; a stale one is refused."""

    job_id: str
    token: int
    owner: str


def _record(doc: Mapping[str, Any] | None) -> JobRecord | None:
    if doc is None:
        return None
    fields = {k: v for k, v in doc.items() if k != "_id"}
    return msgspec.convert({"id": doc["_id"], **fields}, JobRecord, strict=False)


class Jobs:
    """The jobs of one plugin (``ctx.jobs``).

    :param collection: returns the collection holding them (resolved at each
        call, so the handle can be taken before the database is open).
    :param wall: the clock's wall time in seconds (lease times are compared with it).
    """

    def __init__(self, collection: Callable[[], AsyncCollection[dict[str, Any]]],
                 wall: Callable[[], float]) -> None:
        self._collection = collection
        self._wall = wall

    # -- reading ---------------------------------------------------------------------
    async def get(self, job_id: str) -> JobRecord | None:
        return _record(await self._collection().find_one({"_id": job_id}))

    async def current(self, slot: str) -> JobRecord | None:
        """The slot's current (or last) job; ``None`` when none was ever started."""
        # One read (status commands poll it): the newest job started in the slot.
        return _record(await self._collection().find_one({"slot": slot}, sort=[("slot_seq", -1)]))

    async def active(self, kind: str) -> list[JobRecord]:
        """Running and paused jobs of ``kind``, oldest first."""
        cursor = self._collection().find({"kind": kind, "state": {"$in": list(JOB_ACTIVE)}}).sort("created", 1)
        return [r for r in [_record(doc) async for doc in cursor] if r is not None]

    # -- starting --------------------------------------------------------------------
    async def create(self, kind: str, params: Mapping[str, Any], *, started_by: int, report_to: int,
                     slot: str | None = None, counters: tuple[str, ...] = (),
                     checkpoint: Mapping[str, Any] | None = None) -> JobRecord | None:
        """Record a new ``running`` job (nobody holds it yet: :meth:`claim` it).

        :param slot: at most one running or paused job per slot: ``None`` while
            the slot's job is active (the slot is taken in one atomic write).
        :param counters: counters that start at 0.
        """
        job_id = f"{int(self._wall()):x}{secrets.token_hex(3)}"
        seq = 0
        if slot is not None:
            seq = await self._take_slot(slot, job_id)
            if not seq:
                return None
        doc = {"_id": job_id, "kind": kind, "slot": slot, "slot_seq": seq, "state": "running", "params": dict(params),
               "started_by": started_by, "report_to": report_to, "progress_message": 0, "reason": "",
               "token": 0, "owner": "", "lease_until": 0.0, "beat": 0, "checkpoint": dict(checkpoint or {}),
               "counters": dict.fromkeys(counters, 0), "created": self._wall(), "finished": 0.0,
               "reported": False, "reporter": "", "report_until": 0.0}
        await self._collection().insert_one(doc)
        return _record(doc)

    async def _take_slot(self, slot: str, job_id: str) -> int:
        """Make ``job_id`` the slot's job: its number in the slot (1, 2...), or 0 when the slot is busy."""
        from pymongo import ReturnDocument
        from pymongo.errors import DuplicateKeyError

        pointer = await self._collection().find_one({"_id": _slot(slot)})
        seen = pointer.get("job") if pointer else None
        if seen is not None:
            job = await self.get(seen)
            if job is not None and job.active:
                return 0
            # Taken a moment ago, the job not written yet: its create is under way. Taken
            # long ago without a job: that create died between the two writes.
            if job is None and pointer is not None and pointer.get("since", 0.0) > self._wall() - _CREATING:
                return 0
        # Compare-and-set on what was seen: a concurrent create changed it (no match, the
        # upsert's insert collides on _id) or inserted it first (same): only one wins.
        try:
            taken = await self._collection().find_one_and_update(
                {"_id": _slot(slot), "job": seen}, {"$set": {"job": job_id, "since": self._wall()},
                                                    "$inc": {"seq": 1}},
                upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:
            return 0
        return 0 if taken is None else int(taken["seq"])  # (an upsert returning the document: never None)

    async def set_progress_message(self, job_id: str, message_id: int) -> None:
        """The message edited with progress (written once by the starter, before any holder reads it)."""
        await self._collection().update_one({"_id": job_id}, {"$set": {"progress_message": message_id}})

    # -- the lease -------------------------------------------------------------------
    async def claim(self, job_id: str, owner: str, lease: float, *, beat: int | None = None,
                    state: JobState = "running") -> JobLease | None:
        """Take the job if nobody holds it: a new token, or ``None``.

        :param beat: take it only if its renewal count is still this (its owner
            missed every renewal since it was seen), not only because the clock says so.
        :param state: the state it must be in (``cancelled``: to close the books of a
            job whose owner died before reporting it).
        """
        from pymongo import ReturnDocument

        now = self._wall()
        query: dict[str, Any] = {"_id": job_id, "state": state, "lease_until": {"$lte": now}}
        if beat is not None:
            query["beat"] = beat
        doc = await self._collection().find_one_and_update(
            query, {"$inc": {"token": 1}, "$set": {"owner": owner, "lease_until": now + lease}},
            return_document=ReturnDocument.AFTER)
        return None if doc is None else JobLease(job_id, int(doc["token"]), owner)

    async def claim_next(self, kind: str, owner: str, lease: float, *,
                         where: Mapping[str, Any] | None = None) -> tuple[JobLease, JobRecord] | None:
        """Take the oldest running job of ``kind`` nobody holds (and matching ``where``), or ``None``."""
        from pymongo import ReturnDocument

        now = self._wall()
        doc = await self._collection().find_one_and_update(
            {**(where or {}), "kind": kind, "state": "running", "lease_until": {"$lte": now}},
            {"$inc": {"token": 1}, "$set": {"owner": owner, "lease_until": now + lease}},
            sort=[("created", 1)], return_document=ReturnDocument.AFTER)
        record = _record(doc)
        return None if record is None else (JobLease(record.id, record.token, owner), record)

    async def renew(self, lease: JobLease, seconds: float) -> str:
        """Extend the lease: the job's state, or ``fenced`` when someone took it over."""
        doc = await self._collection().find_one_and_update(
            {"_id": lease.job_id, "token": lease.token},
            {"$set": {"lease_until": self._wall() + seconds}, "$inc": {"beat": 1}}, projection={"state": 1})
        return "fenced" if doc is None else str(doc["state"])

    async def release(self, lease: JobLease) -> None:
        """Give the lease up (shutdown, pause): another process may take it at once."""
        await self._collection().update_one({"_id": lease.job_id, "token": lease.token},
                                            {"$set": {"lease_until": 0.0}})

    async def write(self, lease: JobLease, *, checkpoint: Mapping[str, Any] | None = None,
                    add: Mapping[str, int] | None = None, counters: Mapping[str, int] | None = None,
                    while_state: JobState | None = None) -> bool:
        """Save progress as the holder: ``False`` (nothing written) when the lease is stale.

        :param checkpoint: checkpoint fields to set.
        :param add: counters to add to.
        :param counters: counters to set (a recount).
        :param while_state: write only while the job is in this state (``running``: not
            after a pause or cancel); ``False`` otherwise.
        """
        update: dict[str, Any] = {}
        sets = {f"checkpoint.{k}": v for k, v in (checkpoint or {}).items()}
        sets.update({f"counters.{k}": v for k, v in (counters or {}).items()})
        if sets:
            update["$set"] = sets
        if add:
            update["$inc"] = {f"counters.{k}": v for k, v in add.items() if v}
            if not update["$inc"]:
                del update["$inc"]
        query: dict[str, Any] = {"_id": lease.job_id, "token": lease.token}
        if while_state is not None:
            query["state"] = while_state
        if not update:
            return await self._collection().count_documents(query) == 1
        result = await self._collection().update_one(query, update)
        return result.matched_count == 1

    async def holds(self, lease: JobLease) -> bool:
        """Whether ``lease`` is still the job's current one."""
        return await self._collection().count_documents({"_id": lease.job_id, "token": lease.token}) == 1

    # -- pause, resume, cancel, the end -------------------------------------------------
    async def transition(self, job_id: str, from_states: tuple[JobState, ...], to: JobState,
                         reason: str = "") -> str:
        """Move the job to ``to`` if it is in one of ``from_states``, in one write; return the state before.

        Anyone may call it (an admin's command in any process): the holder sees
        the new state at its next renewal and stops. A pause gives the lease up.
        """
        from pymongo import ReturnDocument

        sets: dict[str, Any] = {"state": to, "reason": reason}
        if to == "paused":
            sets["lease_until"] = 0.0
        if to not in JOB_ACTIVE:
            sets["finished"] = self._wall()
        doc = await self._collection().find_one_and_update(
            {"_id": job_id, "state": {"$in": list(from_states)}}, {"$set": sets},
            projection={"state": 1}, return_document=ReturnDocument.BEFORE)
        if doc is not None:
            return str(doc["state"])
        job = await self.get(job_id)
        return "" if job is None else job.state

    async def claim_report(self, job_id: str, caller: str, lease: float) -> bool:
        """``True`` when ``caller`` should send the final report now.

        Claimed, sent, then :meth:`mark_reported`: a claimant that dies in
        between leaves the claim to lapse and the next caller sends it (at
        least once, never lost); asking again while one's claim lasts says yes
        again, so a retried call gives the same answer.
        """
        now = self._wall()
        result = await self._collection().update_one(
            {"_id": job_id, "reported": False,
             "$or": [{"reporter": caller}, {"report_until": {"$lte": now}}]},
            {"$set": {"reporter": caller, "report_until": now + lease}})
        return result.matched_count == 1

    async def mark_reported(self, job_id: str) -> None:
        await self._collection().update_one({"_id": job_id}, {"$set": {"reported": True}})


# Seconds a slot taken by a create whose job document is not written yet stays taken.
_CREATING = 60.0


def _slot(name: str) -> str:
    return f"slot:{name}"


class JobProgress:
    """Progress of one job told to its starter: the progress message edited at most every ``every`` s.

    :param app: the application (its gateway and clock).
    :param every: seconds between two edits; :meth:`show` with ``force`` edits at once.
    :param wait_first: the first edit is due ``every`` s from now too (the starter was just told).
    """

    def __init__(self, app: App, every: float, *, wait_first: bool = False) -> None:
        self._app = app
        self.every = every
        self._last: float | None = app.clock.now() if wait_first else None

    def due(self) -> bool:
        """Whether an edit is due now (``every`` s since the last one)."""
        return self._last is None or self._app.clock.now() - self._last >= self.every

    def mark(self) -> None:
        """Count an edit as made now (for a caller that makes it in the background)."""
        self._last = self._app.clock.now()

    async def show(self, job: JobRecord, text: str, *, force: bool = False) -> bool:
        """Edit the job's progress message with ``text`` if an edit is due; ``True`` when edited."""
        if not job.progress_message or not (force or self.due()):
            return False
        self.mark()
        try:
            await self._app.telegram.edit_text(job.report_to, job.progress_message, text)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a deleted progress message is no reason to stop
            log.debug("job %s: progress not shown: %s", job.id, exc)
            return False
        return True

    async def tell(self, job: JobRecord, text: str) -> bool:
        """Send ``text`` to the job's ``report_to`` chat; ``False`` when it could not be sent."""
        try:
            await self._app.telegram.send_text(job.report_to, text)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the job goes on whether or not its starter hears
            log.warning("job %s: could not tell %s: %s", job.id, job.report_to, exc)
            return False
        return True


class RedisWatch:
    """Notices, for a running job, that the deployment's Redis went away or came back.

    Jobs keep nothing in Redis, but what they use beside it does (the shared
    send budget paces per process while Redis is away): the operators and the
    job's starter are told once when it goes, once when it is back.

    :param app: the application.
    :param source: the plugin telling (for the notice).
    """

    def __init__(self, app: App, source: str) -> None:
        self._app = app
        self._source = source
        self.down = False

    async def check(self, job: JobRecord, progress: JobProgress, *, what: str) -> None:
        """Probe Redis once (a ping with a short timeout); tell on a change. ``what`` names the job."""
        redis = self._app.redis
        if redis is None:
            return
        ok = True
        try:
            async with asyncio.timeout(2.0):
                await redis.ping()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - any failure means unreachable for this purpose
            ok = False
        if ok == (not self.down):
            return
        self.down = not ok
        if self.down:
            text = (f"Redis is unreachable: {what} goes on, its state is in MongoDB; "
                    "sends are paced per process until Redis is back.")
        else:
            text = f"Redis is back: {what} goes on."
        with contextlib.suppress(Exception):
            await self._app.notices.tell(f"jobs:{job.id}:redis:{'down' if self.down else 'up'}", text,
                                         interval=0, source=self._source)
        # The starter hears it too, unless the notice already went to them (no log channel, they are an admin).
        if job.report_to not in self._app.notices.recipients(private=True):
            await progress.tell(job, text)
