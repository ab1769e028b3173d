"""Broadcast test kit: bots on the shared servers and a virtual clock, an audience, waits with deadlines."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from mediabot_broadcast import BroadcastPlugin

from mediabot.testing import BotHarness, FakeClock

ADMIN = 9
START = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(wall_start=START)


@pytest_asyncio.fixture
async def deploy(tmp_path, redis_url, redis_prefix, mongo_uri, mongo_db_name, clock):
    """``await deploy(config="", plugins=(), prepare=None)``: a started bot of one deployment.

    Every bot of a test shares Redis, MongoDB and the clock: several calls are
    several processes of one bot. ``prepare(fake)`` runs before the start
    (e.g. to recreate the admin's message in a restarted process's Telegram).
    """
    bots: list[BotHarness] = []

    async def make(*, config: str = "", plugins: tuple[Any, ...] = (),
                   prepare: Callable[[Any], Awaitable[None]] | None = None, env: dict[str, str] | None = None,
                   ) -> BotHarness:
        full_env = {"MEDIABOT_REDIS_URL": redis_url, "MEDIABOT_MONGO_URI": mongo_uri,
                    "MEDIABOT__REDIS__KEY_PREFIX": redis_prefix, "MEDIABOT__MONGO__DATABASE": mongo_db_name,
                    **(env or {})}
        bot = BotHarness.build(plugins=[BroadcastPlugin, *plugins], config=config, admins=[ADMIN], env=full_env,
                               directory=tmp_path / f"bot{len(bots)}", clock=clock, timeout=30.0)
        if prepare is not None:
            await prepare(bot.fake)
        bots.append(bot)
        await bot.start()
        return bot

    yield make
    for bot in reversed(bots):
        if bot.app.state == "running":
            await bot.stop()


@pytest.fixture
def audience() -> Callable[..., Awaitable[list[int]]]:
    """``await audience(bot, n, first=1000, days_ago=0)``: n active users in the catalogue."""

    async def seed(bot: BotHarness, n: int, *, first: int = 1000, days_ago: float = 0) -> list[int]:
        seen = START - timedelta(days=days_ago)
        ids = list(range(first, first + n))
        # In chunks: one large insert_many is a long single request for the test server.
        for start in range(0, n, 1000):
            await bot.app.users.collection.insert_many(
                [{"_id": u, "status": "active", "first_seen": seen, "last_seen": seen, "role": "user"}
                 for u in ids[start:start + 1000]])
        return ids

    return seed


@pytest.fixture
def until() -> Callable[..., Awaitable[None]]:
    """``await until(condition, timeout=30)``: poll ``condition()`` (maybe async) with a real deadline."""

    async def wait(condition: Callable[[], Any], timeout: float = 30.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or condition}")
            # A real pause: the loop goes idle, so the virtual clock moves on meanwhile. Not
            # shorter: a condition reads MongoDB, and time stands still while it does.
            await asyncio.sleep(0.2)

    return wait


@pytest.fixture
def start_broadcast(until) -> Callable[..., Awaitable[Any]]:
    """``await start_broadcast(bot, "News", options="")``: the admin's message, /broadcast, Confirm."""

    async def go(bot: BotHarness, text: str = "News", options: str = "", *, message_id: int | None = None) -> Any:
        if message_id is None:
            message_id = (await bot.fake.user_message(ADMIN, text)).id
        await bot.settle()
        preview = (await bot.send(f"/broadcast {options}".strip(), user=ADMIN, reply_to=message_id)).last
        started = await bot.press(preview, "Confirm", user=ADMIN)
        return started.last

    return go
