"""indexer test kit: posts, a recording sink, the live queue on a real Redis, and waiting on conditions."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from mediabot_indexer.gaps import GapLog
from mediabot_indexer.posts import Post, encode_post
from mediabot_indexer.queue import StreamQueue
from pymongo import AsyncMongoClient

from mediabot import MediaFile
from mediabot.catalog.files import FileRepository
from mediabot.core.redis import connect
from mediabot.core.storage import SingleDatabase
from mediabot.testing import FakeClock

CHANNEL = -1001234567890
HERE = Path(__file__).parent


def post(message_id: int, *, channel: int = CHANNEL, unique: str | None = None) -> Post:
    """A video post; its file's unique id is ``u<message_id>`` unless given."""
    return Post(channel=channel, message_id=message_id, date=1_700_000_000 + message_id, kind="video",
                file_unique_id=unique or f"u{message_id}", file_id=f"f{message_id}",
                caption=f"Show S01E{message_id % 100:02d} 1080p", file_name=f"show.{message_id}.mkv",
                mime_type="video/x-matroska", file_size=1000 + message_id)


async def until(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    """Wait for ``condition()`` to hold; fail after ``timeout`` seconds (never a fixed sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"{what}: not true within {timeout}s"
        await asyncio.sleep(0.01)


class RecordingSink:
    """A catalogue stand-in: records every file it is given; can be held, or made to fail.

    ``hold()`` makes calls wait until ``release()`` (a slow database); ``fail``
    is a list of exceptions raised by the next calls, first to last.
    """

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.fail: list[BaseException] = []
        self._open = asyncio.Event()
        self._open.set()
        self.waiting = 0

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    @property
    def ids(self) -> Counter[str]:
        """How many times each ``file_unique_id`` was written (successful calls only)."""
        return Counter(u for call in self.calls for u in call)

    async def __call__(self, files: list[MediaFile]) -> Any:
        self.waiting += 1
        try:
            await self._open.wait()
        finally:
            self.waiting -= 1
        if self.fail:
            raise self.fail.pop(0)
        self.calls.append([f.file_unique_id for f in files])
        return None


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Any]:
    """A client built the way the app builds it (0.5 s socket timeout, pool that blocks)."""
    redis = connect(redis_url)
    yield redis
    await redis.aclose()


@pytest.fixture
def prefix(redis_prefix: str) -> str:
    """The plugin's key prefix, as ``ctx.storage.key_prefix`` makes it."""
    return f"{redis_prefix}:{{indexer}}:"


@pytest.fixture
def queue(client: Any, prefix: str) -> StreamQueue:
    return StreamQueue(client, prefix)


@pytest.fixture
def gaps(client: Any, prefix: str) -> GapLog:
    return GapLog(client, prefix)


class Catalogue:
    """The real catalogue (``FileRepository`` with its indexes) on the test database, and what it holds."""

    def __init__(self, client: Any, database: str) -> None:
        self.files = FileRepository(SingleDatabase(client[database]))
        self._collection = client[database]["files"]

    async def insert_batch(self, files: list[MediaFile]) -> Any:
        return await self.files.insert_batch(files)

    async def stored(self) -> Counter[str]:
        """How many documents hold each ``file_unique_id`` (1 each when nothing was stored twice)."""
        return Counter([doc["file_unique_id"] async for doc in self._collection.find({}, {"file_unique_id": 1})])


@pytest.fixture
async def catalogue(mongo_uri: str, mongo_db_name: str) -> AsyncIterator[Catalogue]:
    """The catalogue as ``app.files`` writes it (dedup by ``file_unique_id``), on its own client."""
    client: Any = AsyncMongoClient(mongo_uri)
    cat = Catalogue(client, mongo_db_name)
    await cat.files.ensure_indexes()
    yield cat
    await client.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


async def fill(queue: StreamQueue, posts: list[Post], chunk: int = 1000) -> None:
    """Write posts straight to the stream (what the buffer's flusher does)."""
    for i in range(0, len(posts), chunk):
        await queue.add([encode_post(p) for p in posts[i:i + chunk]])


class Kit:
    """The helpers above, as a fixture (test modules cannot import conftest under importlib mode)."""

    CHANNEL = CHANNEL
    post = staticmethod(post)
    until = staticmethod(until)
    fill = staticmethod(fill)
    RecordingSink = RecordingSink


@pytest.fixture
def kit() -> type[Kit]:
    return Kit
