"""Plans, grants with an expiry, and per-user limits change what a reserve allows, at the right moment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from mediabot_quota.ledger import QuotaLedger

from mediabot.testing import FakeClock


async def test_a_premium_grant_raises_the_limit_until_it_expires(ledger: QuotaLedger, clock: FakeClock) -> None:
    await ledger.reserve(1, 10)
    await ledger.grant(1, "premium", clock.wall() + timedelta(minutes=90))
    grant = await ledger.reserve(1, 50)
    assert (grant.granted, grant.limit, grant.plan) == (50, 100, "premium")
    clock.advance(90 * 60 - 1)
    assert (await ledger.reserve(1, 1)).plan == "premium"
    clock.advance(1)
    after = await ledger.reserve(1, 1)
    assert (after.granted, after.limit, after.plan) == (0, 10, "free")
    status = await ledger.status(1)
    assert (status.plan, status.plan_until, status.used) == ("free", None, 61)


async def test_a_grant_without_an_end_lasts(ledger: QuotaLedger, clock: FakeClock) -> None:
    await ledger.grant(1, "premium", None)
    clock.advance(timedelta(days=400).total_seconds())
    assert (await ledger.status(1)).limit == 100


async def test_revoke_ends_a_grant_now(ledger: QuotaLedger, clock: FakeClock) -> None:
    await ledger.grant(1, "premium", clock.wall() + timedelta(days=30))
    assert await ledger.revoke(1) is True
    assert (await ledger.status(1)).limit == 10
    assert await ledger.revoke(1) is False


async def test_a_per_user_limit_wins_over_the_plan_and_can_be_removed(ledger: QuotaLedger, clock: FakeClock) -> None:
    await ledger.grant(1, "premium", clock.wall() + timedelta(days=30))
    await ledger.set_limit(1, 3)
    status = await ledger.status(1)
    assert (status.limit, status.override, status.plan) == (3, 3, "premium")
    assert (await ledger.reserve(1, 5)).granted == 3
    await ledger.set_limit(1, None)
    assert (await ledger.reserve(1, 5)).granted == 5


async def test_a_limit_of_zero_blocks_the_user(ledger: QuotaLedger) -> None:
    await ledger.set_limit(1, 0)
    assert (await ledger.reserve(1, 1)).granted == 0


async def test_a_limit_lowered_below_what_was_used_leaves_nothing(ledger: QuotaLedger) -> None:
    await ledger.reserve(1, 8)
    await ledger.set_limit(1, 5)
    assert ((await ledger.reserve(1, 1)).granted, (await ledger.status(1)).left) == (0, 0)


async def test_bad_plans_limits_and_grants_are_refused(ledger: QuotaLedger, make_ledger) -> None:
    with pytest.raises(ValueError, match="unknown plan 'gold'"):
        await ledger.grant(1, "gold", None)
    with pytest.raises(ValueError, match="whole number >= 0"):
        await ledger.set_limit(1, -1)
    with pytest.raises(ValueError, match="default plan 'free' is not among"):
        make_ledger(plans={"basic": 5})
    with pytest.raises(ValueError, match="whole number >= 0"):
        make_ledger(plans={"free": -3})
    with pytest.raises(ValueError, match="IANA"):
        make_ledger(timezone="Nowhere/Land")


async def test_a_user_on_a_plan_no_longer_configured_gets_the_default_limit(
    ledger: QuotaLedger, make_ledger, clock: FakeClock
) -> None:
    await ledger.grant(1, "premium", clock.wall() + timedelta(days=1))
    reconfigured = make_ledger(plans={"free": 10, "gold": 1000})
    status = await reconfigured.status(1)
    assert (status.plan, status.limit, (await reconfigured.reserve(1, 20)).granted) == ("free", 10, 10)
