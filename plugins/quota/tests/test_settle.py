"""Settling and leases: exactly what was delivered stays spent; a crash never leaks nor refunds a sent file."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from mediabot_quota.ledger import QuotaLedger
from mediabot_quota.models import LeaseLost
from mediabot_quota.pipelines import reserve_pipeline
from pymongo import AsyncMongoClient, ReturnDocument

from mediabot.testing import FakeClock


async def test_a_batch_where_30_percent_of_sends_fail_releases_exactly_the_failed_count(ledger: QuotaLedger) -> None:
    grant = await ledger.reserve(1, 10)
    outcomes = [i % 10 >= 3 for i in range(10)]  # 3 of 10 sends fail
    delivered = 0
    for i, ok in enumerate(outcomes):
        await ledger.progress(grant.reservation_id, i + 1)
        delivered += ok
    assert await ledger.settle(grant.reservation_id, delivered) == 3
    status = await ledger.status(1)
    assert (status.used, status.left, status.reserved) == (7, 3, 0)


async def test_settling_twice_releases_once(ledger: QuotaLedger) -> None:
    grant = await ledger.reserve(1, 5)
    assert await ledger.settle(grant.reservation_id, 2) == 3
    assert await ledger.settle(grant.reservation_id, 0) == 0
    assert (await ledger.status(1)).used == 2


async def test_concurrent_settles_of_one_reservation_release_once(ledger: QuotaLedger) -> None:
    grant = await ledger.reserve(1, 8)
    released = await asyncio.gather(*(ledger.settle(grant.reservation_id, 1) for _ in range(20)))
    assert sorted(released) == [0] * 19 + [7]
    assert (await ledger.status(1)).used == 1


async def test_a_crash_before_settling_returns_the_quota_once_the_lease_expires(
    ledger: QuotaLedger, clock: FakeClock
) -> None:
    grant = await ledger.reserve(1, 6)  # ...and the process dies here
    assert await ledger.reap() == []  # lease still running
    assert (await ledger.status(1)).left == 4
    clock.advance(60)
    (closed,) = await ledger.reap()
    assert (closed.reservation_id, closed.released) == (grant.reservation_id, 6)
    assert (await ledger.status(1)).left == 10


async def test_files_committed_before_a_crash_are_never_refunded(ledger: QuotaLedger, clock: FakeClock) -> None:
    grant = await ledger.reserve(1, 6)
    await ledger.progress(grant.reservation_id, 1)
    await ledger.progress(grant.reservation_id, 2)  # two sends began, then the crash
    clock.advance(61)
    (closed,) = await ledger.reap()
    assert closed.released == 4
    assert (await ledger.status(1)).used == 2


async def test_a_settled_delivery_is_not_refunded_by_the_reaper(ledger: QuotaLedger, clock: FakeClock) -> None:
    grant = await ledger.reserve(1, 6)
    await ledger.settle(grant.reservation_id, 6)
    clock.advance(3600)
    assert await ledger.reap() == []
    assert (await ledger.status(1)).used == 6


async def test_a_settle_after_the_reaper_changes_nothing(ledger: QuotaLedger, clock: FakeClock) -> None:
    grant = await ledger.reserve(1, 6)
    clock.advance(61)
    await ledger.reap()
    assert await ledger.settle(grant.reservation_id, 0) == 0
    assert (await ledger.status(1)).used == 0


async def test_progress_extends_the_lease(ledger: QuotaLedger, clock: FakeClock) -> None:
    grant = await ledger.reserve(1, 3)
    clock.advance(50)
    await ledger.progress(grant.reservation_id, 1)
    clock.advance(50)  # 100 s after reserving, 50 s after the progress
    assert await ledger.reap() == []


async def test_progress_after_the_lease_expired_raises_lease_lost(ledger: QuotaLedger, clock: FakeClock) -> None:
    grant = await ledger.reserve(1, 3)
    clock.advance(61)
    with pytest.raises(LeaseLost):
        await ledger.progress(grant.reservation_id, 1)


async def test_progress_beyond_the_grant_is_a_value_error(ledger: QuotaLedger) -> None:
    grant = await ledger.reserve(1, 3)
    with pytest.raises(ValueError, match="more than the 3"):
        await ledger.progress(grant.reservation_id, 4)


async def test_two_concurrent_reapers_release_each_lease_once(
    ledger: QuotaLedger, make_ledger: Callable[..., QuotaLedger], clock: FakeClock,
    mongo_uri: str, mongo_db_name: str,
) -> None:
    grants = [await ledger.reserve(user, 2 + user % 3) for user in range(20)]
    clock.advance(61)
    other_client: AsyncMongoClient = AsyncMongoClient(mongo_uri, tz_aware=True)
    try:
        other = make_ledger(collection=other_client[mongo_db_name]["ledger"])
        first, second = await asyncio.gather(ledger.reap(), other.reap())
    finally:
        await other_client.close()
    closed = sorted(r.reservation_id for r in first + second)
    assert closed == sorted(g.reservation_id for g in grants)
    assert sum(r.released for r in first + second) == sum(g.granted for g in grants)
    for user in range(20):
        assert (await ledger.status(user)).used == 0


async def test_a_settle_with_a_bad_id_or_count_is_refused(ledger: QuotaLedger) -> None:
    grant = await ledger.reserve(1, 2)
    with pytest.raises(ValueError, match="not a quota reservation id"):
        await ledger.settle("nonsense", 1)
    with pytest.raises(ValueError, match=">= 0"):
        await ledger.settle(grant.reservation_id, -1)


async def test_the_reserve_update_applied_twice_grants_once(collection, ledger: QuotaLedger) -> None:
    # The driver retries a write after a network error, and the ledger asks
    # again when the server answers an upsert with nothing: neither may charge twice.
    now = datetime(2026, 3, 7, 12, tzinfo=UTC)
    pipeline = reserve_pipeline(ledger.plans, today="2026-03-07", now=now, reservation_id="5:abc", count=4,
                                expires=now, partial=True, unlimited=False)
    docs = [await collection.find_one_and_update({"_id": 5}, pipeline, upsert=True,
                                                 return_document=ReturnDocument.AFTER) for _ in range(2)]
    assert [d["last"]["n"] for d in docs] == [4, 4]
    assert (docs[1]["used"], len(docs[1]["leases"])) == (4, 1)
