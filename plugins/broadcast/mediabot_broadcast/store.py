"""The broadcast's state in MongoDB: the job (on the kernel's jobs facility) and who was sent it.

The job is a document of ``broadcast.jobs`` (``ctx.jobs``, slot ``broadcast``:
one running or paused at a time): its spec, lease, cursor and counters.
Every user the job reached for is a document of ``broadcast.deliveries``,
``_id`` ``<job>:<user>``, whose ``status`` says where they are:

    pending      claimed: the message was (or is being) sent to them, no outcome yet
    sent | blocked | deactivated | failed    the outcome
    doubt        left pending by an owner that died: they may have it (counted ``unknown``)
    retry        given back unsent (FloodWait too long): claimed again later in this job

Nothing is in Redis, so a Redis that loses its data loses neither the job
nor the record of who was served.

**At most once.** A user's document is inserted *before* the send; the
insert of an existing ``_id`` fails, so nobody is claimed twice. A claim
returns a user already pending under the caller's own token too (a retried
call whose first reply was lost), so no user is claimed and then forgotten.
When an owner dies, the next one moves the users its predecessors left
``pending`` to ``doubt`` and does not send to them again.

**Fencing.** Each owner holds the job under a lease token (the kernel's
:class:`mediabot.Jobs`). Claims, outcomes and counters are written with it:
a pending document carries the token of the owner that claimed it, an
outcome is only recorded on a document pending under the caller's token, and
the cursor and counters are written only while the token is current. The
counters are recounted from the deliveries at every progress edit, every
stop, every takeover and before the final report: they are never wrong for
long, and final when the report goes out.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from mediabot import JOB_ACTIVE, JobLease, JobRecord, Jobs, JobState

if TYPE_CHECKING:
    from pymongo.asynchronous.collection import AsyncCollection

__all__ = ["ACTIVE", "SLOT", "Claim", "Job", "JobSpec", "JobStore", "Outcome"]

State = JobState
ACTIVE: tuple[State, ...] = JOB_ACTIVE
Outcome = Literal["sent", "blocked", "deactivated", "failed"]
OUTCOMES: tuple[Outcome, ...] = ("sent", "blocked", "deactivated", "failed")
COUNTERS = ("sent", "blocked", "deactivated", "failed", "unknown")
SLOT = "broadcast"


class JobSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What to send to whom: fixed when the admin confirms.

    :param chat_id: the chat holding the message to copy (the admin's private chat).
    :param message_id: the message (for an album: any of its messages).
    :param album: how many messages the album holds; 0 for a single message.
    :param silent: deliver without a notification sound.
    :param pin: pin the copy in each user's chat.
    :param days: only users seen in the last ``days`` days; 0 for every active user.
    :param admin: who started it (gets progress and the report).
    :param audience: the audience size when it was confirmed (for ETA and progress).
    """

    chat_id: int
    message_id: int
    album: int = 0
    silent: bool = False
    pin: bool = False
    days: int = 0
    admin: int
    audience: int = 0


class Job(msgspec.Struct, frozen=True, kw_only=True):
    """The broadcast's view of its job document."""

    id: str
    spec: JobSpec
    state: State
    reason: str = ""
    fence: int = 0
    owner: str = ""
    lease_until: float = 0.0
    beat: int = 0
    cursor: int | None = None
    sent: int = 0
    blocked: int = 0
    deactivated: int = 0
    failed: int = 0
    unknown: int = 0
    created: float = 0.0
    finished: float = 0.0
    progress_message: int = 0
    reported: bool = False
    reporter: str = ""
    report_until: float = 0.0
    record: JobRecord | None = None

    @classmethod
    def of(cls, record: JobRecord) -> Job:
        cursor = record.checkpoint.get("cursor")
        return cls(id=record.id, spec=msgspec.convert(record.params, JobSpec), state=record.state,
                   reason=record.reason, fence=record.token, owner=record.owner, lease_until=record.lease_until,
                   beat=record.beat, cursor=None if cursor is None else int(cursor), created=record.created,
                   finished=record.finished, progress_message=record.progress_message, reported=record.reported,
                   reporter=record.reporter, report_until=record.report_until, record=record,
                   **{c: int(record.counters.get(c, 0)) for c in COUNTERS})

    @property
    def processed(self) -> int:
        return self.sent + self.blocked + self.deactivated + self.failed + self.unknown

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def lease_live(self, now: float) -> bool:
        return self.lease_until > now

    def report_due(self, now: float) -> bool:
        """Finished, its report not sent, and nobody is sending it now."""
        return not self.active and not self.reported and self.report_until <= now


class Claim(msgspec.Struct, frozen=True):
    """The answer to a claim: ``ok`` with the users now owned, or why not (``fenced``, ``paused``...)."""

    status: str
    users: list[int]


class JobStore:
    """The broadcast job, its deliveries and drafts.

    :param jobs: the plugin's jobs (``ctx.jobs``).
    :param collection: the plugin's collections by name (``ctx.storage.collection``).
    :param wall: the app clock's wall time, in seconds.
    """

    def __init__(self, jobs: Jobs, collection: Callable[[str], AsyncCollection[dict[str, Any]]],
                 wall: Callable[[], float]) -> None:
        self.jobs = jobs
        self._collection = collection
        self._wall = wall

    @property
    def _deliveries(self) -> AsyncCollection[dict[str, Any]]:
        return self._collection("deliveries")

    # -- drafts ----------------------------------------------------------------------
    async def save_draft(self, spec: JobSpec, ttl: float = 3600.0) -> str:
        draft = secrets.token_hex(4)
        await self._collection("drafts").insert_one({"_id": draft, "spec": msgspec.to_builtins(spec),
                                                     "expires": self._wall() + ttl})
        return draft

    async def take_draft(self, draft: str) -> JobSpec | None:
        doc = await self._collection("drafts").find_one_and_delete({"_id": draft})
        if doc is None or doc["expires"] <= self._wall():
            return None
        return msgspec.convert(doc["spec"], JobSpec)

    async def drop_draft(self, draft: str) -> None:
        await self._collection("drafts").delete_many({"$or": [{"_id": draft}, {"expires": {"$lte": self._wall()}}]})

    # -- the job ---------------------------------------------------------------------
    async def load(self) -> Job | None:
        record = await self.jobs.current(SLOT)
        return None if record is None else Job.of(record)

    async def create(self, spec: JobSpec) -> str | None:
        """Start a job; ``None`` while another one is running or paused."""
        record = await self.jobs.create("broadcast", msgspec.to_builtins(spec), started_by=spec.admin,
                                        report_to=spec.chat_id, slot=SLOT, counters=COUNTERS)
        return None if record is None else record.id

    async def set_progress_message(self, job_id: str, message_id: int) -> None:
        await self.jobs.set_progress_message(job_id, message_id)

    async def acquire(self, job_id: str, owner: str, lease: float, beat: int | None = None,
                      state: State = "running") -> tuple[int, int]:
        """Take the job's lease: ``(token, users newly in doubt)``; token < 0 when it cannot be taken.

        The previous owner is fenced out: its later writes are refused, and the
        users it left in flight move to ``doubt`` (counted ``unknown``).

        :param beat: take it only if the owner's renewal count is still this.
        :param state: the state the job must be in (``cancelled``: to close the
            books of a job whose owner died before reporting it).
        """
        taken = await self.jobs.claim(job_id, owner, lease, beat=beat, state=state)
        if taken is None:
            return -1, 0
        return taken.token, await self.close_books(job_id, taken.token)

    async def close_books(self, job_id: str, token: int) -> int:
        """Move users left pending by earlier owners to ``doubt`` and recount: how many moved."""
        moved = await self._deliveries.update_many({"job": job_id, "status": "pending", "token": {"$lt": token}},
                                                   {"$set": {"status": "doubt"}})
        await self.recount(job_id, token)
        return int(moved.modified_count)

    async def renew(self, job_id: str, token: int, lease: float) -> str:
        """Extend the lease: the job's state, or ``fenced``."""
        return await self.jobs.renew(_lease(job_id, token), lease)

    async def _check(self, job_id: str, token: int) -> str:
        """``ok`` when the caller holds the running job, else ``gone``/``fenced``/its state."""
        record = await self.jobs.get(job_id)
        if record is None:
            return "gone"
        if record.token != token:
            return "fenced"
        return "ok" if record.state == "running" else record.state

    async def claim(self, job_id: str, token: int, users: list[int], cursor: int | None) -> Claim:
        from pymongo.errors import BulkWriteError

        ids = [f"{job_id}:{u}" for u in users]
        docs = [{"_id": i, "job": job_id, "user": u, "status": "pending", "token": token}
                for i, u in zip(ids, users, strict=True)]
        taken = set(users)
        try:
            await self._deliveries.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            clashed = {users[e["index"]] for e in errors if e.get("code") == 11000}
            if len(clashed) != len(errors):
                raise
            # Already there: claimed before, unless by this same call run twice (still ours, pending).
            again = {d["user"] async for d in self._deliveries.find(
                {"_id": {"$in": [f"{job_id}:{u}" for u in clashed]}, "status": "pending", "token": token})}
            taken -= clashed - again
        # The cursor is written with the token, only while the job runs: a claim that lost
        # the job, or came after a pause, is undone (nothing was sent to these users yet).
        if await self.jobs.write(_lease(job_id, token), checkpoint={} if cursor is None else {"cursor": cursor},
                                 while_state="running"):
            return Claim("ok", [u for u in users if u in taken])
        await self._deliveries.delete_many({"_id": {"$in": [f"{job_id}:{u}" for u in taken]},
                                            "status": "pending", "token": token})
        status = await self._check(job_id, token)
        return Claim(status, []) if status != "ok" else await self.claim(job_id, token, users, cursor)

    async def settle(self, job_id: str, token: int, user: int, outcome: Outcome) -> bool:
        """Record one user's outcome; ``False`` when the caller no longer owns the job."""
        return await self.settle_many(job_id, token, [(user, outcome)])

    async def settle_many(self, job_id: str, token: int, outcomes: list[tuple[int, Outcome]]) -> bool:
        """Record outcomes (one write per kind of outcome); ``False`` when fenced out.

        Only a user still pending under the caller's token changes: an outcome
        is recorded once, whoever reports it and however often. The job's
        counters follow in :meth:`recount` (every progress edit and every stop):
        one write per batch instead of two, at 30 sends a second.
        """
        changed = 0
        for outcome in OUTCOMES:
            ids = [f"{job_id}:{u}" for u, o in outcomes if o == outcome]
            if ids:
                result = await self._deliveries.update_many(
                    {"_id": {"$in": ids}, "status": "pending", "token": token}, {"$set": {"status": outcome}})
                changed += int(result.modified_count)
        # All changed: they were pending under our token, so the token was ours a moment ago.
        return changed == len(outcomes) or await self.jobs.holds(_lease(job_id, token))

    async def recount(self, job_id: str, token: int) -> bool:
        """Set the job's counters from its deliveries; ``False`` when fenced out."""
        cursor = await self._deliveries.aggregate([{"$match": {"job": job_id}},
                                                   {"$group": {"_id": "$status", "n": {"$sum": 1}}}])
        found = {row["_id"]: int(row["n"]) async for row in cursor}
        counts: dict[str, int] = {c: found.get(c, 0) for c in OUTCOMES}
        counts["unknown"] = found.get("doubt", 0)
        return await self.jobs.write(_lease(job_id, token), counters=counts)

    async def give_back(self, job_id: str, token: int, user: int) -> bool:
        """The user was not sent to (FloodWait too long): retry them later in this job."""
        await self._deliveries.update_one({"_id": f"{job_id}:{user}", "status": "pending", "token": token},
                                          {"$set": {"status": "retry"}})
        return await self.jobs.holds(_lease(job_id, token))

    async def take_retries(self, job_id: str, token: int, count: int) -> Claim:
        """Claim again up to ``count`` users given back earlier (as :meth:`claim` does)."""
        users = [d["user"] async for d in self._deliveries.find({"job": job_id, "status": "retry"}).limit(count)]
        return await self.reclaim(job_id, token, users) if users else Claim("ok", [])

    async def reclaim(self, job_id: str, token: int, users: list[int]) -> Claim:
        """Claim again these users given back earlier (those still given back, or moved by this same call)."""
        ids = [f"{job_id}:{u}" for u in users]
        await self._deliveries.update_many({"_id": {"$in": ids}, "status": "retry"},
                                           {"$set": {"status": "pending", "token": token}})
        mine = [d["user"] async for d in self._deliveries.find({"_id": {"$in": ids}, "status": "pending",
                                                                 "token": token})]
        if await self.jobs.write(_lease(job_id, token), while_state="running"):
            return Claim("ok", [u for u in users if u in set(mine)])
        # Not ours to send now (paused, cancelled, fenced): given back again, unsent.
        await self._deliveries.update_many({"_id": {"$in": [f"{job_id}:{u}" for u in mine]}, "status": "pending",
                                            "token": token}, {"$set": {"status": "retry"}})
        status = await self._check(job_id, token)
        return Claim(status, []) if status != "ok" else await self.reclaim(job_id, token, users)

    async def transition(self, job_id: str, from_states: tuple[str, ...], to: State, reason: str = "") -> str:
        """Move the job to ``to`` if it is in one of ``from_states``; returns the state it was in."""
        return await self.jobs.transition(job_id, from_states, to, reason)  # type: ignore[arg-type]

    async def release_lease(self, job_id: str, token: int) -> None:
        await self.jobs.release(_lease(job_id, token))

    async def claim_report(self, job_id: str, caller: str, lease: float) -> bool:
        """``True`` when ``caller`` should send the final report now."""
        return await self.jobs.claim_report(job_id, caller, lease)

    async def mark_reported(self, job_id: str) -> None:
        await self.jobs.mark_reported(job_id)

    async def claimed_count(self, job_id: str) -> int:
        return int(await self._deliveries.count_documents({"job": job_id, "status": {"$ne": "retry"}}))

    async def was_claimed(self, job_id: str, user: int) -> bool:
        return bool(await self._deliveries.count_documents({"_id": f"{job_id}:{user}", "status": {"$ne": "retry"}}))

    async def in_doubt(self, job_id: str) -> set[int]:
        """Users an owner that died left in flight: they may or may not have the message (``unknown``)."""
        return {int(d["user"]) async for d in self._deliveries.find({"job": job_id, "status": "doubt"})}


def _lease(job_id: str, token: int) -> JobLease:
    return JobLease(job_id, token, "")
