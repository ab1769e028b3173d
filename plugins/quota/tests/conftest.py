"""Quota ledger test kit: a ledger on the shared MongoDB-wire server, on a virtual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from mediabot_quota.ledger import QuotaLedger
from pymongo import AsyncMongoClient

from mediabot.testing import FakeClock

PLANS = {"free": 10, "premium": 100}
# Noon on a Saturday, far from any midnight or DST change: tests that care about those set their own start.
START = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(wall_start=START)


@pytest_asyncio.fixture
async def client(mongo_uri: str) -> AsyncIterator[AsyncMongoClient]:
    client: AsyncMongoClient = AsyncMongoClient(mongo_uri, tz_aware=True)
    yield client
    await client.close()


@pytest.fixture
def collection(client: AsyncMongoClient, mongo_db_name: str) -> Any:
    return client[mongo_db_name]["ledger"]


@pytest.fixture
def plans() -> dict[str, int]:
    """The plans every ledger here starts with (test modules cannot import conftest under importlib mode)."""
    return dict(PLANS)


@pytest.fixture
def make_ledger(collection: Any, clock: FakeClock, plans: dict[str, int]) -> Callable[..., QuotaLedger]:
    """``make_ledger(**options)``: a ledger on this test's collection; options override the defaults."""

    def make(**options: Any) -> QuotaLedger:
        # A generous call timeout: 1,000 concurrent reservations queue on the single-threaded test
        # server, and on a loaded machine the last ones wait seconds. Timeouts have their own test.
        settings: dict[str, Any] = {"collection": collection, "clock": clock, "plans": plans, "lease_seconds": 60.0,
                                    "timeout": 120.0}
        settings.update(options)
        return QuotaLedger(settings.pop("collection"), **settings)

    return make


@pytest_asyncio.fixture
async def ledger(make_ledger: Callable[..., QuotaLedger]) -> QuotaLedger:
    ledger = make_ledger()
    await ledger.ensure_indexes()
    return ledger
