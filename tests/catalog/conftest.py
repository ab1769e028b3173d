"""Catalogue test helpers: a database on the shared test server, and a command recorder."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandListener

from mediabot.core.storage import SingleDatabase


class CommandLog(CommandListener):
    """Every command a client sends, by name (what a test counts round trips with)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass

    def count(self, *names: str) -> int:
        return sum(1 for n in self.names if not names or n in names)


@pytest.fixture
def commands() -> CommandLog:
    return CommandLog()


@pytest.fixture
async def database(mongo_uri: str, mongo_db_name: str, commands: CommandLog) -> AsyncIterator[object]:
    client: AsyncMongoClient = AsyncMongoClient(mongo_uri, tz_aware=True, serverSelectionTimeoutMS=5000,
                                                event_listeners=[commands])
    yield client[mongo_db_name]
    await client.close()


@pytest.fixture
def provider(database: object) -> SingleDatabase:
    return SingleDatabase(database)
