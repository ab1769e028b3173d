"""History jobs in MongoDB: the job document, its checkpoint, and the lease that makes one process its owner.

One document per job in ``indexer.jobs``. A process *claims* a job with one
guarded ``find_one_and_update``: only a job whose lease has run out (or was
released) can be claimed, and the claim increments ``fence``. Every later
write of the owner -- checkpoint, lease renewal, the end -- is filtered on
that fence, so a process that lost the job (it hung past its lease and
another took over) finds its writes matching nothing and stops. Catalogue
writes need no fence: they are idempotent by ``file_unique_id``.

Times are Unix seconds from the app clock's ``wall()``: comparable between
the processes of a deployment (keep their clocks in sync, as for any lease).
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

import msgspec
from pymongo import ReturnDocument

__all__ = ["ACTIVE", "Job", "JobStore", "State", "new_job_id"]

State = Literal["queued", "running", "paused", "done", "failed", "cancelled"]
#: states of a job that is not over
ACTIVE: tuple[State, ...] = ("queued", "running", "paused")


class Job(msgspec.Struct, kw_only=True):
    """A history job and its checkpoint.

    :param id: short id admins type (``/index_cancel a1b2c3``).
    :param ref: the channel as the admin wrote it.
    :param chat_id: the channel; ``None`` until the job resolved ``ref`` (a job queued from the CLI).
    :param title: the channel's title, for messages.
    :param from_id: first message id of the range.
    :param to_id: last message id; ``None`` until the job found it (newest live post or probing).
    :param next_id: the checkpoint: every id below it is done.
    :param state: ``queued``, ``running``, ``paused`` (Telegram asked to wait), ``done``, ``failed``, ``cancelled``.
    :param seen: messages found in the range (deleted ids are not).
    :param indexed: files stored by this job.
    :param duplicates: files the catalogue already had.
    :param skipped: messages without a file of the configured kinds and size.
    :param errors: failed attempts, each retried (Telegram or database trouble).
    :param owner: the process running it (its consumer name).
    :param lease_until: the owner's lease ends then; 0 when released.
    :param fence: incremented by every claim; the owner's writes carry it.
    :param resume_at: not before this time (a job paused by Telegram).
    :param requested_by: the admin who asked (``None``: the CLI).
    :param report_chat: where the progress message is.
    :param report_message: the progress message.
    :param created_at: when it was asked for.
    :param finished_at: when it ended.
    :param error: why it failed, in words for the admin.
    """

    id: str = msgspec.field(name="_id")
    ref: str
    chat_id: int | None = None
    title: str | None = None
    from_id: int = 1
    to_id: int | None = None
    next_id: int = 1
    state: State = "queued"
    seen: int = 0
    indexed: int = 0
    duplicates: int = 0
    skipped: int = 0
    errors: int = 0
    owner: str | None = None
    lease_until: float = 0.0
    fence: int = 0
    resume_at: float = 0.0
    requested_by: int | None = None
    report_chat: int | None = None
    report_message: int | None = None
    created_at: float = 0.0
    finished_at: float | None = None
    error: str | None = None

    @property
    def name(self) -> str:
        return self.title or str(self.chat_id or self.ref)

    def counters(self) -> dict[str, int]:
        return {"seen": self.seen, "indexed": self.indexed, "duplicates": self.duplicates,
                "skipped": self.skipped, "errors": self.errors}


def new_job_id() -> str:
    return secrets.token_hex(3)


class JobStore:
    """The ``indexer.jobs`` collection.

    :param collection: a callable returning the ``AsyncCollection`` (it exists once the app started).
    """

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    @staticmethod
    def _job(doc: dict[str, Any] | None) -> Job | None:
        return None if doc is None else msgspec.convert(doc, Job, from_attributes=False)

    async def create(self, job: Job) -> Job:
        await self._collection().insert_one(msgspec.to_builtins(job))
        return job

    async def get(self, job_id: str) -> Job | None:
        return self._job(await self._collection().find_one({"_id": job_id}))

    async def active(self) -> list[Job]:
        cursor = self._collection().find({"state": {"$in": list(ACTIVE)}}).sort("created_at", 1)
        return [j for doc in await cursor.to_list(length=None) if (j := self._job(doc)) is not None]

    async def recent(self, limit: int) -> list[Job]:
        cursor = self._collection().find({"state": {"$nin": list(ACTIVE)}}).sort("finished_at", -1).limit(limit)
        return [j for doc in await cursor.to_list(length=None) if (j := self._job(doc)) is not None]

    async def claim(self, owner: str, now: float, lease: float, exclude: list[str]) -> Job | None:
        """Take the oldest job nobody holds (lease over or released, not paused past now), or ``None``."""
        doc = await self._collection().find_one_and_update(
            {"state": {"$in": list(ACTIVE)}, "lease_until": {"$lt": now}, "resume_at": {"$lte": now},
             "_id": {"$nin": exclude}},
            {"$set": {"owner": owner, "lease_until": now + lease, "state": "running"}, "$inc": {"fence": 1}},
            sort=[("created_at", 1)], return_document=ReturnDocument.AFTER)
        return self._job(doc)

    async def update(self, job: Job, **fields: Any) -> bool:
        """Write ``fields`` if ``job`` (its ``fence``) still owns the document and it is not over.

        ``False``: another process took the job over, or an admin cancelled it.
        """
        result = await self._collection().update_one(
            {"_id": job.id, "fence": job.fence, "state": {"$in": list(ACTIVE)}}, {"$set": fields})
        return result.matched_count == 1

    async def release(self, job: Job) -> bool:
        """Give the job up (shutdown): another process may claim it at once."""
        return await self.update(job, owner=None, lease_until=0.0)

    async def cancel(self, job_id: str, now: float) -> Job | None:
        """Cancel a job that is not over; returns it as it was, or ``None`` (unknown or over already)."""
        doc = await self._collection().find_one_and_update(
            {"_id": job_id, "state": {"$in": list(ACTIVE)}},
            {"$set": {"state": "cancelled", "finished_at": now, "owner": None, "lease_until": 0.0}})
        return self._job(doc)
