"""The ledger's update pipelines: each change to a user's quota is one atomic document update.

The document of one user (collection ``ledger``, ``_id`` = user id)::

    day:        "2026-03-08"  quota day `used` counts (local ISO date); only ever moves forward
    used:       int           files charged on `day`: delivered + held by open leases of that day
    leases:     [{id, n, sent, day, exp}]   open reservations: n files reserved on `day`, the
                              first `sent` of them committed (never refunded), open until `exp`
    void:       [{id, exp}]   reservations cancelled before they were seen (outcome unknown):
                              a late-arriving reserve with such an id grants nothing
    limit:      int           per-user override (absent: the plan's limit)
    plan:       str           granted plan; with plan_until (datetime, or null for no end)
    last:       {id, n, limit, plan}   outcome of the latest reserve, read back by that reserve

Everything a reserve decides -- the day rollover, the effective limit, how
much is left, the lease -- is computed by the server inside one
``find_one_and_update``, so concurrent reserves from any number of processes
serialize on the document and can never spend more than the limit. The
temporary fields (``_day``, ``_used``...) are removed in the last stage.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mediabot_quota.plans import Plans

__all__ = ["cancel_pipeline", "release_pipeline", "reserve_pipeline", "today_stages"]

Expr = Any
_TEMPORARY = ["_day", "_plan", "_used", "_limit", "_known", "_grant", "_mine", "_l", "_has"]


def _array(field: str) -> Expr:
    return {"$ifNull": [field, []]}


def _ids(field: str) -> Expr:
    # Not "$leases.id": the test server evaluates a path through an array
    # to nothing, where mongod gives the array of values. $map works on both.
    return {"$map": {"input": _array(field), "in": "$$this.id"}}


def today_stages(plans: Plans, today: str, now: datetime) -> list[dict[str, Any]]:
    """Stages adding ``_day``, ``_plan``, ``_used`` and ``_limit``: the user's day as of ``now``.

    ``_day`` is the later of the stored day and ``today``: two processes whose
    clocks disagree around midnight cannot reset the counter twice (the one
    behind charges the day already begun). Shared by reserve and status, so
    both apply one rule for the limit.
    """
    # A grant of a plan no longer configured counts as no grant.
    grant_active = {"$and": [
        {"$in": [{"$ifNull": ["$plan", None]}, list(plans.others())]},
        {"$or": [{"$eq": [{"$ifNull": ["$plan_until", None]}, None]}, {"$gt": ["$plan_until", now]}]},
    ]}  # fmt: skip
    branches = [{"case": {"$eq": ["$_plan", name]}, "then": limit} for name, limit in plans.others().items()]
    default_limit = plans.limit(plans.default)
    plan_limit = {"$switch": {"branches": branches, "default": default_limit}} if branches else default_limit
    return [
        {"$set": {
            "_day": {"$max": [{"$ifNull": ["$day", today]}, today]},
            "_plan": {"$cond": [grant_active, "$plan", plans.default]},
        }},
        {"$set": {
            "_used": {"$cond": [{"$eq": ["$day", "$_day"]}, {"$ifNull": ["$used", 0]}, 0]},
            "_limit": {"$ifNull": ["$limit", plan_limit]},
        }},
    ]  # fmt: skip


def reserve_pipeline(
    plans: Plans,
    *,
    today: str,
    now: datetime,
    reservation_id: str,
    count: int,
    expires: datetime,
    partial: bool,
    unlimited: bool,
) -> list[dict[str, Any]]:
    """Charge up to ``count`` files to today and open a lease for them, or charge nothing.

    Idempotent per ``reservation_id``: a retried request (the driver retries a
    write once after a network error) or one cancelled beforehand (``void``)
    grants nothing more; ``last.n`` then reports the lease already open.
    """
    left = {"$max": [0, {"$subtract": ["$_limit", "$_used"]}]}
    if unlimited:
        wanted: Expr = count
    elif partial:
        wanted = {"$min": [count, left]}
    else:
        wanted = {"$cond": [{"$lte": [count, left]}, count, 0]}
    mine = {"$filter": {"input": _array("$leases"), "cond": {"$eq": ["$$this.id", reservation_id]}}}
    lease = {"id": reservation_id, "n": "$_grant", "sent": 0, "day": "$_day", "exp": expires}
    return [
        *today_stages(plans, today, now),
        {"$set": {
            "_known": {"$in": [reservation_id, {"$concatArrays": [_ids("$leases"), _ids("$void")]}]},
            "_mine": {"$sum": {"$map": {"input": mine, "in": "$$this.n"}}},
        }},
        {"$set": {"_grant": {"$cond": ["$_known", 0, wanted]}}},
        {"$set": {
            "day": "$_day",
            "used": {"$add": ["$_used", "$_grant"]},
            "leases": {"$cond": [
                {"$gt": ["$_grant", 0]}, {"$concatArrays": [_array("$leases"), [lease]]}, _array("$leases"),
            ]},
            "last": {"id": reservation_id, "n": {"$cond": ["$_known", "$_mine", "$_grant"]},
                     "limit": "$_limit", "plan": "$_plan"},
        }},
        {"$unset": _TEMPORARY},
    ]  # fmt: skip


def release_pipeline(reservation_id: str, delivered: Expr) -> list[dict[str, Any]]:
    """Close lease ``reservation_id``: ``delivered`` files stay spent, the rest goes back.

    The refund applies only while the lease's day is the user's current day:
    a reservation made before midnight and settled after it does not add to
    the new day (whose counter already started from zero). Use with a filter
    that requires the lease to exist, so a second release matches nothing.
    """
    lease = {"$arrayElemAt": [{"$filter": {"input": "$leases", "cond": {"$eq": ["$$this.id", reservation_id]}}}, 0]}
    unsent = {"$subtract": ["$_l.n", {"$max": [0, {"$min": ["$_l.n", delivered]}]}]}
    return [
        {"$set": {"_l": lease}},
        {"$set": {
            "used": {"$cond": [{"$eq": ["$_l.day", "$day"]}, {"$subtract": ["$used", unsent]}, "$used"]},
            "leases": {"$filter": {"input": "$leases", "cond": {"$ne": ["$$this.id", reservation_id]}}},
        }},
        {"$unset": ["_l"]},
    ]  # fmt: skip


def cancel_pipeline(reservation_id: str, expires: datetime) -> list[dict[str, Any]]:
    """Undo a reserve whose outcome is unknown (the call timed out).

    If it was applied, its lease is closed with nothing delivered (nobody knew
    its id, so nothing was sent). If it was not (yet) applied -- a paused
    server may still execute the buffered request later -- ``void`` records
    the id so that it grants nothing when it arrives. The reaper drops the
    mark at ``expires``; a request arriving even later opens a lease that is
    already expired, which the next reap returns.
    """
    lease = {"$arrayElemAt": [{"$filter": {"input": _array("$leases"),
                                           "cond": {"$eq": ["$$this.id", reservation_id]}}}, 0]}
    return [
        {"$set": {"_l": lease, "_has": {"$in": [reservation_id, _ids("$leases")]}}},
        {"$set": {
            "used": {"$cond": [{"$and": ["$_has", {"$eq": ["$_l.day", "$day"]}]},
                               {"$subtract": ["$used", "$_l.n"]}, "$used"]},
            "leases": {"$filter": {"input": _array("$leases"), "cond": {"$ne": ["$$this.id", reservation_id]}}},
            "void": {"$cond": ["$_has", _array("$void"),
                               {"$concatArrays": [_array("$void"), [{"id": reservation_id, "exp": expires}]]}]},
        }},
        {"$unset": ["_l", "_has"]},
    ]  # fmt: skip
