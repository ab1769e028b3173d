"""Property: however concurrent requests and failed sends interleave, no user gets more than the limit
and no unused quota is lost. Each example runs real requests on the test server, so examples are few."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mediabot_quota.ledger import QuotaLedger

# Several users, their own limits (0 included), requests of random sizes in
# random order, and for each granted request how many of its sends fail.
users = st.lists(st.integers(min_value=0, max_value=15), min_size=1, max_size=4)
requests = st.lists(st.tuples(st.integers(min_value=0, max_value=3), st.integers(min_value=1, max_value=6),
                              st.floats(min_value=0, max_value=1)), min_size=10, max_size=150)

# Each example works on fresh user ids, so no cleanup between examples.
_fresh_ids = itertools.count(1000, 10)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limits=users, first=requests, second=requests)
async def test_concurrent_reserves_and_failed_sends_never_exceed_and_never_lose_quota(
    ledger: QuotaLedger, limits: list[int], first: list[tuple[int, int, float]],
    second: list[tuple[int, int, float]],
) -> None:
    base = next(_fresh_ids)
    ids = [base + i for i in range(len(limits))]
    await asyncio.gather(*(ledger.set_limit(user, limit) for user, limit in zip(ids, limits, strict=True)))

    def who(slot: int) -> int:
        return ids[slot % len(ids)]

    # Round 1: everything at once; half the requests settle (with failures) while the others still reserve.
    async def reserve_and_maybe_settle(slot: int, n: int, failing: float, settle: bool) -> tuple[int, int]:
        grant = await ledger.reserve(who(slot), n)
        if not (settle and grant.reservation_id):
            return grant.granted, grant.granted
        delivered = grant.granted - round(grant.granted * failing)
        await ledger.settle(grant.reservation_id, delivered)
        return grant.granted, delivered

    outcomes = await asyncio.gather(*(reserve_and_maybe_settle(slot, n, failing, i % 2 == 0)
                                      for i, (slot, n, failing) in enumerate(first)))
    granted: dict[int, int] = defaultdict(int)
    spent: dict[int, int] = defaultdict(int)
    demand: dict[int, int] = defaultdict(int)
    for (slot, n, _), (got, kept) in zip(first, outcomes, strict=True):
        granted[who(slot)] += got
        spent[who(slot)] += kept
        demand[who(slot)] += n
    for user, limit in zip(ids, limits, strict=True):
        status = await ledger.status(user)
        assert status.used == spent[user] <= limit  # charged exactly what was kept
        # Every request took what was left when it ran: nobody was refused while quota remained.
        assert granted[user] >= min(demand[user], limit)
        if demand[user] <= limit:
            assert granted[user] == demand[user]

    # Round 2: everything that is left can be had, and not one file more.
    grants = await asyncio.gather(*(ledger.reserve(who(slot), n) for slot, n, _ in second))
    more: dict[int, int] = defaultdict(int)
    wanted: dict[int, int] = defaultdict(int)
    for (slot, n, _), grant in zip(second, grants, strict=True):
        more[who(slot)] += grant.granted
        wanted[who(slot)] += n
    for user, limit in zip(ids, limits, strict=True):
        assert more[user] == min(wanted[user], limit - spent[user])
        assert (await ledger.status(user)).used == min(spent[user] + wanted[user], limit)
