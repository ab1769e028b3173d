"""A client of the shared test Redis, as the app builds it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from mediabot.core.redis import connect


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = connect(redis_url)
    yield client
    await client.aclose()
