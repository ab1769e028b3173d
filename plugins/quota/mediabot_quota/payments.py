"""The record of every Stars payment: collection ``quota.payments``, one document per charge.

``_id`` is Telegram's ``telegram_payment_charge_id``, so a payment delivered
twice (or to two processes) is recorded once: the second insert is a
duplicate key. A record moves ``recorded`` -> ``granted`` (or ``refused``,
when another plan was running and the payment was given back) by
conditional updates, so exactly one process sends the receipt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec
import pymongo
from pymongo.errors import DuplicateKeyError, PyMongoError

from mediabot_quota.models import QuotaUnavailable

__all__ = ["PAYMENT_INDEXES", "OfferTotal", "PaymentBook", "PaymentRecord"]

PAYMENT_INDEXES: dict[str, tuple[list[tuple[str, int]], dict[str, Any]]] = {
    "recent": ([("paid_at", pymongo.DESCENDING)], {}),
    "pending": ([("state", pymongo.ASCENDING)], {}),
}

State = Literal["recorded", "granted", "refused"]


class PaymentRecord(msgspec.Struct, kw_only=True):
    """One payment.

    :param charge_id: Telegram's charge id (what ``/refund`` names).
    :param user_id: who paid.
    :param offer: the plan bought.
    :param stars: what was paid.
    :param days: the days the invoice promised.
    :param paid_at: when the payment reached the bot.
    :param state: ``recorded`` (grant not confirmed yet), ``granted``, ``refused`` (given back at once).
    :param granted_until: the plan's end once granted.
    :param refunded: the owner refunded it (``refunded_at``).
    """

    charge_id: str
    user_id: int
    offer: str
    stars: int
    days: int
    paid_at: datetime
    state: State = "recorded"
    granted_until: datetime | None = None
    refunded: bool = False
    refunded_at: datetime | None = None


class OfferTotal(msgspec.Struct, frozen=True, kw_only=True):
    """Payments of one offer: how many and how many Stars, and of those, refunded."""

    offer: str
    count: int
    stars: int
    refunded: int
    refunded_stars: int


def _document(record: PaymentRecord) -> dict[str, Any]:
    doc = msgspec.to_builtins(record, builtin_types=(datetime,))
    doc["_id"] = doc.pop("charge_id")
    return doc


def _record(doc: dict[str, Any]) -> PaymentRecord:
    fields = {k: v for k, v in doc.items() if k != "_id"}
    return msgspec.convert({"charge_id": doc["_id"], **fields}, PaymentRecord, builtin_types=(datetime,))


class PaymentBook:
    """Payments in the plugin's ``payments`` collection.

    :param collection: a pymongo ``AsyncCollection``.
    :param timeout: seconds each call may take before :class:`QuotaUnavailable`.
    """

    def __init__(self, collection: Any, *, timeout: float = 5.0) -> None:
        self._collection = collection
        self._timeout = timeout

    async def record(self, record: PaymentRecord) -> bool:
        """Store a new payment; False when this charge is recorded already (a repeated delivery)."""
        try:
            await self._call("recording a payment", self._collection.insert_one(_document(record)))
        except DuplicateKeyError:
            return False
        return True

    async def get(self, charge_id: str) -> PaymentRecord | None:
        doc = await self._call("reading a payment", self._collection.find_one({"_id": charge_id}))
        return _record(doc) if doc is not None else None

    async def settle(self, charge_id: str, state: Literal["granted", "refused"], until: datetime | None) -> bool:
        """Move a ``recorded`` payment to ``state``; True for the one caller that did."""
        result = await self._call("settling a payment", self._collection.update_one(
            {"_id": charge_id, "state": "recorded"}, {"$set": {"state": state, "granted_until": until}}))
        return bool(result.modified_count)

    async def mark_refunded(self, charge_id: str, at: datetime) -> bool:
        """Note the owner's refund; True the first time."""
        result = await self._call("recording a refund", self._collection.update_one(
            {"_id": charge_id, "refunded": False}, {"$set": {"refunded": True, "refunded_at": at}}))
        return bool(result.modified_count)

    async def pending(self, limit: int = 100) -> list[PaymentRecord]:
        """Payments recorded but not granted, or refused but not given back (a process stopped in between)."""
        docs = await self._call("looking for unfinished payments", self._collection.find(
            {"$or": [{"state": "recorded"}, {"state": "refused", "refunded": False}]}).limit(limit).to_list())
        return [_record(d) for d in docs]

    async def recent(self, limit: int = 10) -> list[PaymentRecord]:
        docs = await self._call("reading payments", self._collection.find().sort(
            "paid_at", pymongo.DESCENDING).limit(limit).to_list())
        return [_record(d) for d in docs]

    async def totals(self) -> list[OfferTotal]:
        """Per offer, every payment kept (refused ones, given back at once, are not counted)."""
        cursor = await self._call("adding up payments", self._collection.aggregate([
            {"$match": {"state": {"$ne": "refused"}}},
            {"$group": {"_id": "$offer", "count": {"$sum": 1}, "stars": {"$sum": "$stars"},
                        "refunded": {"$sum": {"$cond": ["$refunded", 1, 0]}},
                        "refunded_stars": {"$sum": {"$cond": ["$refunded", "$stars", 0]}}}},
            {"$sort": {"_id": 1}},
        ]))
        docs = await self._call("adding up payments", cursor.to_list())
        return [OfferTotal(offer=str(d["_id"]), count=int(d["count"]), stars=int(d["stars"]),
                           refunded=int(d["refunded"]), refunded_stars=int(d["refunded_stars"])) for d in docs]

    async def _call(self, what: str, operation: Any) -> Any:
        try:
            with pymongo.timeout(self._timeout):
                return await operation
        except DuplicateKeyError:
            raise
        except PyMongoError as exc:
            raise QuotaUnavailable(f"payments database failed while {what}: {exc}") from exc
