"""QuotaLedger: per-user daily file quotas in MongoDB, reserved atomically, settled exactly, leased.

How a delivery uses it::

    grant = await ledger.reserve(user_id, len(files))       # one atomic update
    for i, f in enumerate(files[:grant.granted]):
        await ledger.progress(grant.reservation_id, i + 1)  # commit, then send
        ok = await send(f)
        ...
    await ledger.settle(grant.reservation_id, delivered)    # the rest goes back

**Guarantees.** Concurrent reserves from any number of processes never
charge more than the limit: each is one ``find_one_and_update`` whose
pipeline (:mod:`mediabot_quota.pipelines`) decides the day, the limit and
the grant on the server. A lease is closed exactly once, by ``settle`` or by
``reap``, whichever comes first; the other finds nothing to do.

**On a crash** (the process dies between reserve and settle) the lease
expires and :meth:`reap` returns ``n - sent`` files, where ``sent`` is the
last count given to :meth:`progress`. Call ``progress`` *before* each send
(commit, then send): a file whose send had begun is then never refunded, so
a crash can never let a user exceed the limit; the price is that a file
whose send was cut short by the crash stays charged (at most the files in
flight at the crash). A delivery that never calls ``progress`` is refunded
in full when its lease is reaped. ``progress`` also extends the lease, and
raises :class:`LeaseLost` once the lease is gone, so a process that stalled
past its lease stops sending instead of sending refunded files.

**When the database does not answer** (down, paused), ``reserve`` raises
:class:`QuotaUnavailable` within ``timeout``. The request may still be
executed later (a paused server runs what was buffered once it resumes), so
the ledger remembers the reservation id and cancels it at its next call
that reaches the database (:func:`~mediabot_quota.pipelines.cancel_pipeline`);
if this process dies first, the lease expires like any other. Nothing stays
charged for a reserve that raised.

A reservation counts against the day it was made on: files sent after
midnight under a lease opened before it are yesterday's, and releasing it
after midnight does not add to the new day.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

import pymongo
from pymongo import ReturnDocument
from pymongo.errors import (
    ConnectionFailure,
    DuplicateKeyError,
    ExecutionTimeout,
    PyMongoError,
    WriteConcernError,
)

from mediabot_quota.days import day_key, load_zone, next_reset
from mediabot_quota.models import Grant, LeaseLost, QuotaStatus, QuotaUnavailable, Release
from mediabot_quota.pipelines import cancel_pipeline, release_pipeline, reserve_pipeline, today_stages
from mediabot_quota.plans import Plans

__all__ = ["LEDGER_INDEXES", "QuotaLedger"]

log = logging.getLogger(__name__)

# For the storage handle's index declaration: the reaper looks for expired
# leases and stale cancel marks, the plan-end pass for notices owed, without
# scanning every user.
LEDGER_INDEXES: dict[str, tuple[list[tuple[str, int]], dict[str, Any]]] = {
    "lease_expiry": ([("leases.exp", pymongo.ASCENDING)], {}),
    "void_expiry": ([("void.exp", pymongo.ASCENDING)], {}),
    # The plan-end pass looks for the notices owed (mediabot_quota.paidplans).
    "plan_notice": ([("plan_notice", pymongo.ASCENDING), ("plan_until", pymongo.ASCENDING)], {}),
}

Partial = Literal["grant_what_is_left", "refuse"]
# name, amount: "reservations" 1, "granted" n, "refused" n, "released" n, "expired" 1.
MetricsCallback = Callable[[str, int], None]


def _unavailable(exc: PyMongoError) -> bool:
    """True for failures where the server may or may not have applied the write."""
    return isinstance(exc, (ConnectionFailure, ExecutionTimeout, WriteConcernError)) or bool(
        getattr(exc, "timeout", False)
    )


def user_of(reservation_id: str) -> int:
    """The user a reservation id belongs to (ids are ``"<user id>:<random hex>"``).

    :raises ValueError: not an id this ledger made.
    """
    user, sep, token = reservation_id.rpartition(":")
    try:
        if not sep or not token:
            raise ValueError
        return int(user)
    except ValueError:
        raise ValueError(f"{reservation_id!r} is not a quota reservation id") from None


class QuotaLedger:
    """Daily file quotas of every user, one document per user (schema: :mod:`mediabot_quota.pipelines`).

    :param collection: a pymongo ``AsyncCollection`` (the plugin's ``ledger`` collection on the home database).
    :param clock: ``wall()`` (aware UTC) decides days, leases and grant expiries.
    :param plans: daily limit per plan name.
    :param default_plan: the plan of a user without an active grant.
    :param timezone: IANA zone whose local midnight starts a new quota day.
    :param lease_seconds: how long a reservation stays open without ``settle`` or ``progress``.
    :param partial: a request larger than what is left is granted what is left, or refused entirely.
    :param timeout: seconds each database call may take before :class:`QuotaUnavailable`.
    :param metrics: optional ``callback(name, amount)``; see :data:`MetricsCallback`.
    :raises ValueError: bad plans, zone, lease or mode.
    """

    def __init__(
        self,
        collection: Any,
        *,
        clock: Any,
        plans: Mapping[str, int],
        default_plan: str = "free",
        timezone: str = "UTC",
        lease_seconds: float = 600.0,
        partial: Partial = "grant_what_is_left",
        timeout: float = 5.0,
        metrics: MetricsCallback | None = None,
    ) -> None:
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be positive, not {lease_seconds!r}")
        if partial not in ("grant_what_is_left", "refuse"):
            raise ValueError(f"partial must be 'grant_what_is_left' or 'refuse', not {partial!r}")
        self._collection = collection
        self._clock = clock
        self.plans = Plans(plans, default_plan)
        self.zone = load_zone(timezone)
        self._lease = timedelta(seconds=lease_seconds)
        self._partial = partial == "grant_what_is_left"
        self._timeout = timeout
        self._metrics = metrics
        # Reserves that raised QuotaUnavailable and may still be applied:
        # reservation id -> lease expiry. Cancelled at the next call that gets through.
        self._in_doubt: dict[str, datetime] = {}

    # -- setup ------------------------------------------------------------------

    async def ensure_indexes(self) -> None:
        """Create :data:`LEDGER_INDEXES` (idempotent)."""
        for name, (keys, options) in LEDGER_INDEXES.items():
            await self._call("creating indexes", self._collection.create_index(keys, name=name, **options))

    # -- reserving and settling -------------------------------------------------

    async def reserve(self, user_id: int, count: int, *, unlimited: bool = False) -> Grant:
        """Reserve up to ``count`` files of ``user_id``'s quota today, in one atomic update.

        :param unlimited: grant all ``count`` whatever the limit (admins); still counted as used.
        :returns: the grant; ``granted`` may be less than ``count`` (what is left) or 0.
        :raises QuotaUnavailable: the database did not answer in time; nothing stays charged.
        :raises ValueError: ``count`` < 1.
        """
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count!r}")
        await self._resolve_in_doubt()
        now = self._clock.wall()
        reservation_id = f"{user_id}:{secrets.token_hex(8)}"
        expires = now + self._lease
        pipeline = reserve_pipeline(
            self.plans, today=day_key(now, self.zone), now=now, reservation_id=reservation_id, count=count,
            expires=expires, partial=self._partial, unlimited=unlimited,
        )  # fmt: skip
        try:
            doc = await self._upsert(user_id, pipeline, "reserving quota")
        except QuotaUnavailable:
            self._in_doubt[reservation_id] = expires
            raise
        last = doc["last"]
        granted = int(last["n"])
        self._count("reservations", 1)
        self._count("granted", granted)
        self._count("refused", count - granted)
        return Grant(
            reservation_id=reservation_id if granted else None,
            user_id=user_id,
            requested=count,
            granted=granted,
            left=max(0, int(last["limit"]) - int(doc["used"])),
            limit=int(last["limit"]),
            plan=str(last["plan"]),
            resets_at=next_reset(doc["day"], self.zone, after=now),
            lease_expires=expires if granted else None,
        )

    async def progress(self, reservation_id: str, committed: int) -> None:
        """Commit the first ``committed`` files of a reservation as spent, and extend its lease.

        Call it before each send (or each group sent at once): committed files
        are never refunded, even if this process dies before ``settle``.

        :raises LeaseLost: the reservation is settled, or expired (reaped or not): send nothing more.
        :raises ValueError: ``committed`` is negative or more than was granted.
        :raises QuotaUnavailable: the database did not answer in time.
        """
        user_id = user_of(reservation_id)
        if committed < 0:
            raise ValueError(f"committed must be >= 0, not {committed!r}")
        now = self._clock.wall()
        # arrayFilters, not the positional "$": the test server rejects "$" in findAndModify.
        doc = await self._call("recording delivery progress", self._collection.find_one_and_update(
            {"_id": user_id,
             "leases": {"$elemMatch": {"id": reservation_id, "exp": {"$gt": now}, "n": {"$gte": committed}}}},
            {"$max": {"leases.$[l].sent": committed}, "$set": {"leases.$[l].exp": now + self._lease}},
            array_filters=[{"l.id": reservation_id}],
            projection={"_id": 1},
        ))  # fmt: skip
        if doc is not None:
            return
        lease = await self._lease_of(user_id, reservation_id)
        if lease is not None and int(lease["n"]) < committed:
            raise ValueError(f"committed {committed} is more than the {lease['n']} files reserved")
        raise LeaseLost(f"reservation {reservation_id} is settled or its lease expired")

    async def settle(self, reservation_id: str, delivered: int) -> int:
        """Close a reservation: exactly ``delivered`` files stay spent, the rest returns to the user.

        Idempotent: a second settle, or a settle after the reaper closed the
        lease, changes nothing and returns 0.

        :returns: how many files went back to today's quota (0 when the reservation's day is over).
        :raises ValueError: ``delivered`` < 0. More than reserved is logged and counted as all reserved.
        :raises QuotaUnavailable: the database did not answer in time; settle again later (or let the lease expire).
        """
        user_id = user_of(reservation_id)
        if delivered < 0:
            raise ValueError(f"delivered must be >= 0, not {delivered!r}")
        released, lease = await self._release(user_id, reservation_id, delivered, {})
        if lease is not None and delivered > int(lease["n"]):
            log.warning("quota: reservation %s settled with %d delivered, but only %s were reserved",
                        reservation_id, delivered, lease["n"])
        return released

    async def reap(self, now: datetime | None = None) -> list[Release]:
        """Close every lease expired at ``now`` (default: the clock), returning its unsent files.

        Safe to run in several processes at once: each release is guarded on
        the lease still being there and still expired, so each lease is
        released once, and one extended by ``progress`` meanwhile is left alone.
        """
        await self._resolve_in_doubt()
        now = now if now is not None else self._clock.wall()
        docs = await self._call("looking for expired leases", self._collection.find(
            {"leases.exp": {"$lte": now}}, {"leases": 1}).to_list())
        closed: list[Release] = []
        for doc in docs:
            for lease in doc.get("leases", []):
                if lease["exp"] > now:
                    continue
                released, found = await self._release(doc["_id"], lease["id"], "$_l.sent", {"exp": {"$lte": now}})
                if found is not None:
                    self._count("expired", 1)
                    closed.append(Release(user_id=doc["_id"], reservation_id=lease["id"], released=released))
        await self._call("dropping old cancel marks", self._collection.update_many(
            {"void.exp": {"$lte": now}}, {"$pull": {"void": {"exp": {"$lte": now}}}}))
        return closed

    # -- plans and limits -------------------------------------------------------

    async def set_limit(self, user_id: int, limit: int | None) -> None:
        """Give ``user_id`` a daily limit of its own (``None``: back to the plan's)."""
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ValueError(f"a limit is a whole number >= 0, not {limit!r}")
        update = {"$set": {"limit": limit}} if limit is not None else {"$unset": {"limit": ""}}
        await self._call("setting a limit", self._collection.update_one({"_id": user_id}, update, upsert=True))

    async def grant(self, user_id: int, plan: str, until: datetime | None) -> None:
        """Put ``user_id`` on ``plan`` until ``until`` (aware; ``None``: no end), replacing any grant."""
        self.plans.require(plan)
        if until is not None and until.tzinfo is None:
            raise ValueError("until must be timezone-aware")
        # plan_notice: the plan-end pass owes the user a notice a day before, then one at the end.
        update: dict[str, Any] = {"$set": {"plan": plan, "plan_until": until, "plan_notice": "warn"}} \
            if until is not None else {"$set": {"plan": plan, "plan_until": None}, "$unset": {"plan_notice": ""}}
        await self._call("granting a plan", self._collection.update_one({"_id": user_id}, update, upsert=True))

    async def revoke(self, user_id: int) -> bool:
        """End ``user_id``'s grant now; False if there was none."""
        result = await self._call("revoking a plan", self._collection.update_one(
            {"_id": user_id, "plan": {"$exists": True}}, {"$unset": {"plan": "", "plan_until": "", "plan_notice": ""}}))
        return bool(result.modified_count)

    async def status(self, user_id: int) -> QuotaStatus:
        """``user_id``'s quota today, by the same rules a reserve applies."""
        now = self._clock.wall()
        today = day_key(now, self.zone)
        stages = today_stages(self.plans, today, now)
        cursor = await self._call("reading quota", self._collection.aggregate([{"$match": {"_id": user_id}}, *stages]))
        docs = await self._call("reading quota", cursor.to_list())
        doc = docs[0] if docs else {"_day": today, "_used": 0, "_plan": self.plans.default,
                                    "_limit": self.plans.limit(self.plans.default)}
        used, limit, day = int(doc["_used"]), int(doc["_limit"]), str(doc["_day"])
        reserved = sum(int(lease["n"]) for lease in doc.get("leases", []) if lease.get("day") == day)
        return QuotaStatus(
            user_id=user_id, used=used, reserved=min(reserved, used), left=max(0, limit - used), limit=limit,
            plan=str(doc["_plan"]), plan_until=doc.get("plan_until") if doc["_plan"] != self.plans.default else None,
            override=doc.get("limit"), day=day, resets_at=next_reset(day, self.zone, after=now),
        )  # fmt: skip

    # -- internals ----------------------------------------------------------------

    async def _release(self, user_id: int, reservation_id: str, delivered: Any,
                       guard: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        """Close one lease if it is still open (and matches ``guard``); (files returned, the lease or None)."""
        before = await self._call("releasing a reservation", self._collection.find_one_and_update(
            {"_id": user_id, "leases": {"$elemMatch": {"id": reservation_id, **guard}}},
            release_pipeline(reservation_id, delivered),
            return_document=ReturnDocument.BEFORE,
        ))  # fmt: skip
        if before is None:
            return 0, None
        lease = next(lease for lease in before["leases"] if lease["id"] == reservation_id)
        n = int(lease["n"])
        spent = int(lease.get("sent", 0)) if isinstance(delivered, str) else delivered
        released = n - max(0, min(n, spent)) if lease.get("day") == before.get("day") else 0
        self._count("released", released)
        return released, lease

    async def _lease_of(self, user_id: int, reservation_id: str) -> dict[str, Any] | None:
        doc = await self._call("reading a reservation", self._collection.find_one(
            {"_id": user_id}, {"leases": {"$elemMatch": {"id": reservation_id}}}))
        leases = (doc or {}).get("leases") or []
        return leases[0] if leases else None

    async def _resolve_in_doubt(self) -> None:
        """Cancel the reserves that raised QuotaUnavailable (see the module docstring)."""
        for reservation_id, expires in list(self._in_doubt.items()):
            doc = await self._upsert(user_of(reservation_id), cancel_pipeline(reservation_id, expires),
                                     "cancelling an unanswered reservation", ReturnDocument.BEFORE)
            lease = next((x for x in (doc or {}).get("leases", []) if x["id"] == reservation_id), None)
            if lease is not None and lease.get("day") == doc.get("day"):
                self._count("released", int(lease["n"]))
            # Concurrent calls may cancel the same id; the cancel is harmless twice.
            self._in_doubt.pop(reservation_id, None)

    async def _upsert(self, user_id: int, pipeline: list[dict[str, Any]], what: str,
                      returned: ReturnDocument = ReturnDocument.AFTER) -> Any:
        # The first writes for a new user can race to create its document: a
        # loser gets a duplicate key error (nothing applied) and finds the
        # document on the next attempt. The test server may also answer an
        # upsert that raced with no document at all (observed, though it was
        # applied): every pipeline here is idempotent, so asking again gives
        # the outcome without applying anything twice.
        for _attempt in range(5):
            try:
                doc = await self._call(what, self._collection.find_one_and_update(
                    {"_id": user_id}, pipeline, upsert=True, return_document=returned))
            except DuplicateKeyError:
                continue
            if doc is not None or returned is ReturnDocument.BEFORE:
                return doc
        raise QuotaUnavailable(f"quota database gave no answer while {what} for user {user_id}")

    async def _call(self, what: str, operation: Any) -> Any:
        """Await one database operation within ``timeout``; unanswered becomes QuotaUnavailable."""
        try:
            with pymongo.timeout(self._timeout):
                return await operation
        except PyMongoError as exc:
            if not _unavailable(exc):
                raise
            raise QuotaUnavailable(f"quota database did not answer while {what}: {exc}") from exc

    def _count(self, name: str, amount: int) -> None:
        if self._metrics is not None and amount:
            self._metrics(name, amount)
