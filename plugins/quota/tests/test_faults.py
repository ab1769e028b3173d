"""A database that stops answering: reserve fails closed, and nothing stays charged once it is back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from mediabot_quota.ledger import QuotaLedger
from mediabot_quota.models import QuotaUnavailable
from mediabot_quota.pipelines import cancel_pipeline, reserve_pipeline
from mediabot_quota.plans import Plans
from pymongo import AsyncMongoClient, ReturnDocument

from mediabot.testing import FakeClock, eventually
from mediabot.testing.servers import MongoServer


async def test_a_paused_database_fails_the_reserve_and_charges_nothing_after_resume(
    mongo_factory: Callable[..., MongoServer], clock: FakeClock
) -> None:
    server = mongo_factory()
    client: AsyncMongoClient = AsyncMongoClient(
        server.uri, tz_aware=True, serverSelectionTimeoutMS=500, connectTimeoutMS=500, socketTimeoutMS=500)
    collection = client["quota"]["ledger"]
    ledger = QuotaLedger(collection, clock=clock, plans={"free": 10}, timeout=1.0)
    try:
        first = await ledger.reserve(1, 2)
        server.pause()
        try:
            with pytest.raises(QuotaUnavailable, match="did not answer while reserving quota"):
                await ledger.reserve(1, 5)
        finally:
            server.resume()

        # The paused server still holds the request and may run it now: wait
        # until it has (or evidently never will), then let the ledger clean up.
        async def request_ran() -> bool:
            doc = await collection.find_one({"_id": 1})
            return doc["last"]["id"] != first.reservation_id

        await eventually(request_ran, deadline=15.0, fail=False)
        await ledger.reap()
        doc = await collection.find_one({"_id": 1})
        assert doc["used"] == 2
        assert [lease["id"] for lease in doc["leases"]] == [first.reservation_id]
        assert (await ledger.reserve(1, 10)).granted == 8
    finally:
        await client.close()


async def test_a_reserve_arriving_after_its_cancel_grants_nothing(collection) -> None:
    # The other order of the paused-server race: the cancel reaches the
    # server before the buffered reserve does.
    now = datetime(2026, 3, 7, 12, tzinfo=UTC)
    await collection.find_one_and_update({"_id": 1}, cancel_pipeline("1:late", now + timedelta(minutes=1)),
                                         upsert=True)
    pipeline = reserve_pipeline(Plans({"free": 10}), today="2026-03-07", now=now, reservation_id="1:late",
                                count=4, expires=now, partial=True, unlimited=False)
    doc = await collection.find_one_and_update({"_id": 1}, pipeline, upsert=True,
                                               return_document=ReturnDocument.AFTER)
    assert (doc["last"]["n"], doc["used"], doc["leases"]) == (0, 0, [])


async def test_a_cancel_mark_is_dropped_by_the_reaper_once_its_lease_time_is_over(
    collection, ledger: QuotaLedger, clock: FakeClock
) -> None:
    await collection.find_one_and_update({"_id": 1}, cancel_pipeline("1:late", clock.wall() + timedelta(minutes=1)),
                                         upsert=True)
    clock.advance(60)
    await ledger.reap()
    assert (await collection.find_one({"_id": 1})).get("void") == []
