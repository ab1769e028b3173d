"""A home database over its space quota refuses claims: the files still go somewhere, with a trace."""

from __future__ import annotations

from typing import Any

import pytest
from mediabot_dbrouter.reconcile import Reconciler
from pymongo import MongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from mediabot import InsertReport

QUOTA = "you are over your space quota, using 513 MB of 512 MB"


def test_the_one_parser_tells_duplicates_from_a_full_database_and_raises_anything_else():
    exc = BulkWriteError({"nInserted": 2, "writeConcernErrors": [], "writeErrors": [
        {"index": 1, "code": 11000, "errmsg": "E11000 duplicate key"},
        {"index": 3, "code": 8000, "errmsg": QUOTA}]})
    full = lambda err: err["code"] == 8000  # noqa: E731
    assert InsertReport.outcome_of(exc, is_full=full) == (2, [1], [3])
    with pytest.raises(BulkWriteError):
        InsertReport.outcome_of(exc)  # a full database is not expected here: not swallowed
    other = BulkWriteError({"nInserted": 0, "writeErrors": [{"index": 0, "code": 121, "errmsg": "invalid"}]})
    with pytest.raises(BulkWriteError):
        InsertReport.outcome_of(other, is_full=full)


@pytest.fixture
def full_registry(monkeypatch):
    """The home refuses the claims of ``refused`` keys as over quota (Atlas' answer), stores the rest."""
    refused: set[str] = set()
    real = AsyncCollection.insert_many

    async def insert_many(self: AsyncCollection, documents: Any, ordered: bool = True, **kw: Any) -> Any:
        docs = list(documents)
        if self.name != "files_claims" or not any(d["_id"] in refused for d in docs):
            return await real(self, docs, ordered=ordered, **kw)
        stored = [d for d in docs if d["_id"] not in refused]
        if stored:
            await real(self, stored, ordered=False, **kw)
        raise BulkWriteError({"nInserted": len(stored), "writeConcernErrors": [], "writeErrors": [
            {"index": i, "code": 8000, "errmsg": QUOTA} for i, d in enumerate(docs) if d["_id"] in refused]})

    monkeypatch.setattr(AsyncCollection, "insert_many", insert_many)
    return refused


async def test_files_whose_claim_the_full_home_refuses_are_written_as_pending_and_settled_later(
        trio, kit, full_registry):
    router = kit.router(trio, roles="hww")
    repo = await kit.ready(router)
    full_registry.update(f"u{i}" for i in range(5, 10))
    report = await repo.insert_batch([kit.file(i) for i in range(10)])
    assert (report.inserted, report.databases, report.deferred) == (10, {"b": 10}, [])
    assert sorted(report.stored) == sorted(f"u{i}" for i in range(10))
    assert router.home.capacity.full  # admins are told at the next monitor pass
    with MongoClient(trio[1].uri) as client:
        pending = {d["_id"] for d in client[kit.db_name]["files_pending"].find()}
    assert pending == {f"u{i}" for i in range(5, 10)}  # a trace the reconciler settles
    reconciler = Reconciler(router)
    await reconciler.run_once()
    assert not await reconciler.idle()  # the registry is still full: they stay pending
    full_registry.clear()  # space freed
    await reconciler.run_once()
    assert await reconciler.idle()
    with MongoClient(trio[0].uri) as client:
        claims = {c["_id"]: c["db"] for c in client[kit.db_name]["files_claims"].find()}
    assert claims == {f"u{i}": "b" for i in range(10)}
    assert kit.copies() == {f"u{i}": 1 for i in range(10)}
