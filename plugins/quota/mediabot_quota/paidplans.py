"""Paid plans on the ledger: a payment's days granted once, a refund's days taken back once.

Each change is a compare-and-set on the user's ledger document (the
document :mod:`mediabot_quota.pipelines` describes), in plain update
operators: read the plan, compute the new end, write it only if the plan,
its end and the user's override are still what was read and the charge is
not yet applied; on a lost race, read again. Two more fields make it
exactly once, whatever the number of processes and deliveries::

    paid:        [charge id]  payments whose days are in plan_until (applied once)
    refunds:     [charge id]  refunds whose days were taken off (taken once)
    plan_notice: "warn" | "end"   the next notice the plan-end pass owes the user

The payment record (:mod:`mediabot_quota.payments`) is written first; the
grant is then applied idempotently, so a process killed between the two is
finished by the next delivery of the update or the next recovery pass.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec
import pymongo
from pymongo.errors import DuplicateKeyError, PyMongoError

from mediabot_quota.models import QuotaUnavailable
from mediabot_quota.plans import Plans

__all__ = ["ActivePlan", "Applied", "PlanGrants", "Revoked"]

_ATTEMPTS = 50


class ActivePlan(msgspec.Struct, frozen=True, kw_only=True):
    """A user's granted plan as of now: ``None`` from :meth:`PlanGrants.active` for the default plan.

    :param until: when it ends (``None``: a grant without end).
    :param override: the daily limit an admin set for the user, if any.
    """

    plan: str
    until: datetime | None
    override: int | None = None


class Applied(msgspec.Struct, frozen=True, kw_only=True):
    """What a payment did to the plan.

    :param outcome: ``granted`` (just now), ``already`` (an earlier delivery did it) or ``conflict``
        (another plan was active: nothing granted).
    :param plan: the plan now (for a conflict, the active other plan).
    :param until: when it ends now.
    :param cleared: the admin's daily limit this grant removed, if any.
    """

    outcome: Literal["granted", "already", "conflict"]
    plan: str | None
    until: datetime | None
    cleared: int | None = None


class Revoked(msgspec.Struct, frozen=True, kw_only=True):
    """What a refund did: ``taken`` (its days off the plan, never below now), ``already`` or ``none`` (not granted)."""

    outcome: Literal["taken", "already", "none"]
    plan: str | None
    until: datetime | None


class PlanGrants:
    """Grants and revokes of paid plans on the ``ledger`` collection.

    :param collection: the plugin's ``ledger`` collection (pymongo ``AsyncCollection``).
    :param plans: the configured plans.
    :param timeout: seconds each database call may take before :class:`QuotaUnavailable`.
    """

    def __init__(self, collection: Any, *, plans: Plans, timeout: float = 5.0) -> None:
        self._collection = collection
        self._plans = plans
        self._timeout = timeout

    async def active(self, user_id: int, now: datetime, *, timeout: float | None = None) -> ActivePlan | None:
        """``user_id``'s granted plan still running at ``now``, or ``None`` (default plan)."""
        doc = await self._call("reading a plan", self._collection.find_one(
            {"_id": user_id}, {"plan": 1, "plan_until": 1, "limit": 1}), timeout=timeout)
        override = (doc or {}).get("limit")
        if not self._running(doc, now):
            return ActivePlan(plan=self._plans.default, until=None, override=override) if override is not None \
                else None
        assert doc is not None
        return ActivePlan(plan=doc["plan"], until=doc.get("plan_until"), override=override)

    async def apply(self, user_id: int, *, plan: str, days: int, paid_at: datetime, charge_id: str) -> Applied:
        """Add ``days`` of ``plan`` for payment ``charge_id``, once however often it is called.

        The plan runs from ``paid_at``, or from the end of the same plan when
        that was still running then (durations add up). The user's own daily
        limit (``/setlimit``) is removed: they paid for the plan's. Another
        plan running at ``paid_at`` is a ``conflict``: nothing is granted.
        """
        await self._ensure(user_id)
        for _attempt in range(_ATTEMPTS):
            doc = await self._read(user_id)
            if charge_id in (doc.get("paid") or []):
                return Applied(outcome="already", plan=doc.get("plan"), until=doc.get("plan_until"))
            running = self._running(doc, paid_at)
            if running and (doc["plan"] != plan or doc.get("plan_until") is None):
                return Applied(outcome="conflict", plan=doc["plan"], until=doc.get("plan_until"))
            until = (doc["plan_until"] if running else paid_at) + timedelta(days=days)
            update = {"$set": {"plan": plan, "plan_until": until, "plan_notice": "warn"},
                      "$push": {"paid": charge_id}, "$unset": {"limit": ""}}
            if await self._swap(doc, {"paid": {"$ne": charge_id}}, update, "granting a paid plan"):
                return Applied(outcome="granted", plan=plan, until=until, cleared=doc.get("limit"))
        raise QuotaUnavailable(f"the plan of user {user_id} changed {_ATTEMPTS} times while granting")

    async def revoke(self, user_id: int, *, plan: str, days: int, charge_id: str, now: datetime) -> Revoked:
        """Take the ``days`` of refunded payment ``charge_id`` off the plan (never before ``now``), once.

        Nothing is taken when the plan is no longer that payment's plan or has
        ended: what remains of it is then nothing.
        """
        await self._ensure(user_id)
        for _attempt in range(_ATTEMPTS):
            doc = await self._read(user_id)
            if charge_id in (doc.get("refunds") or []):
                return Revoked(outcome="already", plan=doc.get("plan"), until=doc.get("plan_until"))
            if charge_id not in (doc.get("paid") or []):
                return Revoked(outcome="none", plan=doc.get("plan"), until=doc.get("plan_until"))
            until = doc.get("plan_until")
            update: dict[str, Any] = {"$push": {"refunds": charge_id}}
            if doc.get("plan") == plan and until is not None and until > now:
                until = max(now, until - timedelta(days=days))
                update["$set"] = {"plan_until": until}
                if until <= now:  # ended by the refund: the refund's message says so, no end notice
                    update["$unset"] = {"plan_notice": ""}
            if await self._swap(doc, {"refunds": {"$ne": charge_id}}, update, "revoking a refunded plan"):
                return Revoked(outcome="taken", plan=doc.get("plan"), until=until)
        raise QuotaUnavailable(f"the plan of user {user_id} changed {_ATTEMPTS} times while revoking")

    # -- plan-end notices ---------------------------------------------------------

    async def due_notices(self, kind: Literal["warn", "end"], before: datetime, *,
                          limit: int = 200) -> list[dict[str, Any]]:
        """Users owed notice ``kind`` whose plan ends at or before ``before``."""
        return list(await self._call("looking for plans that end", self._collection.find(
            {"plan_notice": kind, "plan_until": {"$lte": before}},
            {"plan": 1, "plan_until": 1}).limit(limit).to_list()))

    async def take_notice(self, doc: dict[str, Any], kind: Literal["warn", "end"]) -> bool:
        """Claim notice ``kind`` for the plan end in ``doc``; True for the one process that gets it."""
        update = {"$set": {"plan_notice": "end"}} if kind == "warn" else {"$unset": {"plan_notice": ""}}
        result = await self._call("claiming a plan notice", self._collection.update_one(
            {"_id": doc["_id"], "plan_notice": kind, "plan_until": doc["plan_until"]}, update))
        return bool(result.modified_count)

    # -- internals ------------------------------------------------------------------

    def _running(self, doc: dict[str, Any] | None, at: datetime) -> bool:
        if not doc or doc.get("plan") not in self._plans.others():
            return False
        until = doc.get("plan_until")
        return until is None or until > at

    async def _ensure(self, user_id: int) -> None:
        try:
            await self._call("creating a ledger entry", self._collection.update_one(
                {"_id": user_id}, {"$setOnInsert": {"used": 0}}, upsert=True))
        except DuplicateKeyError:
            pass  # another process created it first: it exists

    async def _read(self, user_id: int) -> dict[str, Any]:
        doc = await self._call("reading a plan", self._collection.find_one(
            {"_id": user_id}, {"plan": 1, "plan_until": 1, "limit": 1, "paid": 1, "refunds": 1}))
        return doc or {"_id": user_id}

    async def _swap(self, doc: dict[str, Any], guard: dict[str, Any], update: dict[str, Any], what: str) -> bool:
        # Equality with None also matches a missing field: "no plan" read is "no plan" written over.
        expected = {"_id": doc["_id"], "plan": doc.get("plan"), "plan_until": doc.get("plan_until"),
                    "limit": doc.get("limit"), **guard}
        result = await self._call(what, self._collection.update_one(expected, update))
        return bool(result.modified_count)

    async def _call(self, what: str, operation: Any, *, timeout: float | None = None) -> Any:
        try:
            with pymongo.timeout(timeout if timeout is not None else self._timeout):
                return await operation
        except DuplicateKeyError:
            raise
        except PyMongoError as exc:
            raise QuotaUnavailable(f"quota database failed while {what}: {exc}") from exc
