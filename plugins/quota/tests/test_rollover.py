"""The quota day turns at midnight in the configured zone, exactly once, on a virtual clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from mediabot_quota.ledger import QuotaLedger

from mediabot.testing import FakeClock

# 23:59:00 in Kolkata (UTC+05:30) on 2026-03-07.
KOLKATA_LAST_MINUTE = datetime(2026, 3, 7, 18, 29, tzinfo=UTC)


async def test_the_counter_resets_at_kolkata_midnight(make_ledger: Callable[..., QuotaLedger]) -> None:
    clock = FakeClock(wall_start=KOLKATA_LAST_MINUTE)
    ledger = make_ledger(clock=clock, timezone="Asia/Kolkata")
    first = await ledger.reserve(1, 10)
    assert first.resets_at == datetime(2026, 3, 7, 18, 30, tzinfo=UTC)
    clock.advance(59.999)
    assert (await ledger.reserve(1, 1)).granted == 0
    clock.advance(0.001)
    status = await ledger.status(1)
    assert (status.day, status.used, status.left) == ("2026-03-08", 0, 10)
    assert (await ledger.reserve(1, 3)).granted == 3


async def test_concurrent_requests_across_midnight_reset_the_counter_once(
    make_ledger: Callable[..., QuotaLedger],
) -> None:
    clock = FakeClock(wall_start=KOLKATA_LAST_MINUTE)
    ledger = make_ledger(clock=clock, timezone="Asia/Kolkata")
    await ledger.reserve(1, 10)
    clock.advance(60)
    grants = await asyncio.gather(*(ledger.reserve(1, 1) for _ in range(40)))
    assert sum(g.granted for g in grants) == 10


async def test_a_reservation_straddling_midnight_is_charged_to_its_own_day(
    make_ledger: Callable[..., QuotaLedger],
) -> None:
    clock = FakeClock(wall_start=KOLKATA_LAST_MINUTE)
    ledger = make_ledger(clock=clock, timezone="Asia/Kolkata", lease_seconds=600)
    before = await ledger.reserve(1, 6)
    clock.advance(120)  # 00:01 the next day: the counter starts from zero
    assert (await ledger.reserve(1, 7)).granted == 7
    # Yesterday's reservation settles with 2 of 6 sent: nothing comes back to today...
    assert await ledger.settle(before.reservation_id, 2) == 0
    status = await ledger.status(1)
    assert (status.day, status.used, status.left) == ("2026-03-08", 7, 3)
    # ...and no second reset happens.
    assert (await ledger.reserve(1, 10)).granted == 3


async def test_an_expired_lease_from_yesterday_returns_nothing_to_today(
    make_ledger: Callable[..., QuotaLedger],
) -> None:
    clock = FakeClock(wall_start=KOLKATA_LAST_MINUTE)
    ledger = make_ledger(clock=clock, timezone="Asia/Kolkata")
    await ledger.reserve(1, 5)
    clock.advance(120)
    await ledger.reserve(1, 10)
    (closed,) = await ledger.reap()
    assert closed.released == 0
    assert (await ledger.status(1)).left == 0


async def test_new_york_day_after_spring_forward_lasts_23_hours(make_ledger: Callable[..., QuotaLedger]) -> None:
    # 23:59:30 EST on Saturday 2026-03-07; clocks spring forward at 02:00 on the 8th.
    clock = FakeClock(wall_start=datetime(2026, 3, 8, 4, 59, 30, tzinfo=UTC))
    ledger = make_ledger(clock=clock, timezone="America/New_York")
    await ledger.reserve(1, 10)
    clock.advance(30)
    grant = await ledger.reserve(1, 10)
    assert grant.granted == 10
    assert grant.resets_at == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)  # midnight EDT
    clock.advance(23 * 3600 - 1)
    assert (await ledger.reserve(1, 1)).granted == 0
    clock.advance(1)
    assert (await ledger.reserve(1, 1)).granted == 1


async def test_a_process_whose_clock_lags_does_not_reset_the_day_twice(
    make_ledger: Callable[..., QuotaLedger],
) -> None:
    ahead = FakeClock(wall_start=datetime(2026, 3, 7, 23, 59, 59, tzinfo=UTC))
    behind = FakeClock(wall_start=datetime(2026, 3, 7, 23, 59, 57, tzinfo=UTC))  # 2 s slow
    fast, slow = make_ledger(clock=ahead), make_ledger(clock=behind)
    await slow.reserve(1, 10)
    ahead.advance(1)
    behind.advance(1)
    assert (await fast.reserve(1, 6)).granted == 6  # the new day, for the process that sees it
    assert (await slow.reserve(1, 6)).granted == 4  # still yesterday by its clock: charged to the new day
    behind.advance(2)
    assert (await slow.reserve(1, 1)).granted == 0  # its own midnight resets nothing
