"""Single-database mode writes with the durability contract of docs/operations.md ("Durability")."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandListener

from mediabot import FileRepository, MediaFile
from mediabot.catalog.placement import placement_of
from mediabot.core.storage import SingleDatabase

WRITES = ("insert", "update", "delete")


class WriteConcerns(CommandListener):
    """The write concern every write command was sent with: (command, collection, writeConcern or None)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, Any] | None]] = []

    def started(self, event: Any) -> None:
        if event.command_name in WRITES:
            wc = event.command.get("writeConcern")
            self.seen.append((event.command_name, event.command[event.command_name], dict(wc) if wc else None))

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass


def films(n: int) -> list[MediaFile]:
    return [MediaFile(file_unique_id=f"u{i}", file_id=f"f{i}", file_name=f"Film {i}.mkv") for i in range(n)]


async def test_catalogue_writes_on_one_database_are_acknowledged_once_journaled(mongo_uri, mongo_db_name):
    concerns = WriteConcerns()
    client: AsyncMongoClient = AsyncMongoClient(mongo_uri, tz_aware=True, event_listeners=[concerns])
    try:
        provider = SingleDatabase(client[mongo_db_name])
        repo = FileRepository(provider)
        await repo.ensure_indexes()
        report = await repo.insert_batch(films(5))
        assert report.inserted == 5
        await repo.remove([f.id for f in (await repo.get_many(["u0"])).values()])
        await placement_of(provider).home_database()["users"].insert_one({"_id": 1})  # users, bans: the home
        assert {(name, coll) for name, coll, _ in concerns.seen} >= {("insert", "files"), ("delete", "files"),
                                                                      ("insert", "users")}
        assert all(wc == {"j": True} for _, _, wc in concerns.seen), concerns.seen
    finally:
        await client.close()


async def test_the_uris_own_write_concern_is_kept_and_journaling_added(mongo_uri, mongo_db_name):
    concerns = WriteConcerns()
    client: AsyncMongoClient = AsyncMongoClient(mongo_uri, tz_aware=True, w=1, wtimeoutMS=5000,
                                                event_listeners=[concerns])
    try:
        repo = FileRepository(SingleDatabase(client[mongo_db_name]))
        await repo.insert_batch(films(2))
        assert concerns.seen == [("insert", "files", {"w": 1, "wtimeout": 5000, "j": True})]
    finally:
        await client.close()


async def test_a_provider_that_turns_journaling_off_writes_with_the_servers_default(mongo_uri, mongo_db_name):
    concerns = WriteConcerns()
    client: AsyncMongoClient = AsyncMongoClient(mongo_uri, tz_aware=True, event_listeners=[concerns])
    try:
        await FileRepository(SingleDatabase(client[mongo_db_name], durable_writes=False)).insert_batch(films(2))
        assert concerns.seen == [("insert", "files", None)]
    finally:
        await client.close()


async def test_the_apps_single_database_follows_mongo_durable_writes(make_bot):
    journaled = await make_bot()
    assert journaled.app.database is not None and journaled.app.database.durable_writes is True
    relaxed = await make_bot(config="[mongo]\ndurable_writes = false\n")
    assert relaxed.app.database is not None and relaxed.app.database.durable_writes is False
    assert placement_of(relaxed.app.database).durable is False


async def test_an_unreachable_database_is_database_unavailable_and_nothing_is_half_done(mongo_uri, mongo_db_name):
    from mediabot import DatabaseUnavailable
    from mediabot.testing.servers import find_free_port

    nowhere: AsyncMongoClient = AsyncMongoClient(f"mongodb://127.0.0.1:{find_free_port()}",
                                                 serverSelectionTimeoutMS=300, tz_aware=True)
    try:
        repo = FileRepository(SingleDatabase(nowhere[mongo_db_name]))
        with pytest.raises(DatabaseUnavailable, match="did not answer"):  # what callers retry on
            await repo.insert_batch(films(3))
    finally:
        await nowhere.close()
