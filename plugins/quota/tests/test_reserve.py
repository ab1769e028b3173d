"""Reserving: what a user may receive today, atomically, however many requests arrive at once."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from mediabot_quota.ledger import QuotaLedger
from mediabot_quota.models import Grant
from pymongo import AsyncMongoClient

FREE = 10  # the free plan's daily limit in conftest's plans


def granted_by_user(grants: list[Grant]) -> dict[int, int]:
    totals: dict[int, int] = defaultdict(int)
    for grant in grants:
        totals[grant.user_id] += grant.granted
    return dict(totals)


async def test_a_request_within_the_limit_is_granted_in_full(ledger: QuotaLedger) -> None:
    grant = await ledger.reserve(1, 4)
    assert (grant.granted, grant.left, grant.limit, grant.plan) == (4, 6, 10, "free")
    assert grant.reservation_id is not None
    assert grant.resets_at == datetime(2026, 3, 8, tzinfo=UTC)
    assert grant.lease_expires == datetime(2026, 3, 7, 12, 1, tzinfo=UTC)


async def test_a_request_larger_than_what_is_left_gets_what_is_left(ledger: QuotaLedger) -> None:
    await ledger.reserve(1, 7)
    grant = await ledger.reserve(1, 10)
    assert (grant.granted, grant.left) == (3, 0)


async def test_with_refuse_a_request_larger_than_what_is_left_gets_nothing(make_ledger) -> None:
    ledger = make_ledger(partial="refuse")
    await ledger.reserve(1, 7)
    refused = await ledger.reserve(1, 4)
    assert (refused.granted, refused.left, refused.reservation_id, refused.lease_expires) == (0, 3, None, None)
    assert (await ledger.reserve(1, 3)).granted == 3


async def test_an_exhausted_user_is_told_when_it_resets(ledger: QuotaLedger) -> None:
    await ledger.reserve(1, 10)
    grant = await ledger.reserve(1, 1)
    assert (grant.granted, grant.left) == (0, 0)
    assert grant.resets_at == datetime(2026, 3, 8, tzinfo=UTC)


async def test_status_counts_open_reservations_as_used(ledger: QuotaLedger) -> None:
    await ledger.reserve(1, 3)
    status = await ledger.status(1)
    assert (status.used, status.reserved, status.left, status.limit, status.plan) == (3, 3, 7, 10, "free")


async def test_status_of_an_unknown_user_is_the_default_plan(ledger: QuotaLedger) -> None:
    status = await ledger.status(99)
    assert (status.used, status.left, status.limit, status.plan, status.override) == (0, 10, 10, "free", None)


async def test_a_count_below_one_is_refused(ledger: QuotaLedger) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        await ledger.reserve(1, 0)


async def test_unlimited_is_granted_beyond_the_limit_and_still_counted(ledger: QuotaLedger) -> None:
    grant = await ledger.reserve(1, 25, unlimited=True)
    assert grant.granted == 25
    assert (await ledger.status(1)).used == 25
    assert (await ledger.reserve(1, 1)).granted == 0


async def test_1000_concurrent_reservations_for_one_user_grant_exactly_the_limit(ledger: QuotaLedger) -> None:
    grants = await asyncio.gather(*(ledger.reserve(7, 1 + i % 3) for i in range(1000)))
    assert sum(g.granted for g in grants) == FREE
    assert (await ledger.status(7)).used == FREE


async def test_1000_concurrent_reservations_over_50_users_grant_each_exactly_the_limit(ledger: QuotaLedger) -> None:
    rng = random.Random(50)
    requests = [(rng.randrange(50), rng.randint(1, 4)) for _ in range(1000)]
    grants = await asyncio.gather(*(ledger.reserve(user, n) for user, n in requests))
    demand: dict[int, int] = defaultdict(int)
    for user, n in requests:
        demand[user] += n
    totals = granted_by_user(grants)
    for user, wanted in demand.items():
        assert totals[user] == min(wanted, FREE), user
        assert (await ledger.status(user)).used == totals[user]


async def test_two_processes_reserving_for_the_same_users_never_exceed_the_limit(
    mongo_uri: str, mongo_db_name: str, make_ledger: Callable[..., QuotaLedger]
) -> None:
    # Two clients, each with its own connection pool and ledger: two app instances.
    other: AsyncMongoClient = AsyncMongoClient(mongo_uri, tz_aware=True)
    try:
        first = make_ledger()
        second = make_ledger(collection=other[mongo_db_name]["ledger"])
        requests = [(i % 5, first if i % 2 else second) for i in range(400)]
        grants = await asyncio.gather(*(ledger.reserve(user, 2) for user, ledger in requests))
    finally:
        await other.close()
    assert granted_by_user(grants) == {user: FREE for user in range(5)}
