"""Virtual time does not pass while the app waits for Redis or MongoDB, as in production."""

from __future__ import annotations

import asyncio

from mediabot.core.telegram.clock import FakeClock


async def test_redis_and_mongo_round_trips_take_no_virtual_time(make_bot):
    clock = FakeClock()
    bot = await make_bot(clock=clock)
    app = bot.app
    woke: list[float] = []

    async def sleeper() -> None:
        await clock.sleep(60)
        woke.append(clock.now())

    task = asyncio.create_task(sleeper())
    start = clock.now()
    for _ in range(20):
        await app.redis.ping()
        async with app.redis.pipeline(transaction=False) as pipe:
            pipe.incr("virtual-time:t")
            pipe.get("virtual-time:t")
            await pipe.execute()
        db = app.database.write_database()
        await db.command("ping")
        await db["t"].find_one({})
    # Without the hold every round trip leaves the loop idle and time jumps to the sleeper.
    assert clock.now() == start and woke == []
    await task
    assert woke == [start + 60]


async def test_a_blocking_stream_read_lets_virtual_time_pass(make_bot):
    clock = FakeClock()
    bot = await make_bot(clock=clock)
    app = bot.app
    sleeper = asyncio.create_task(clock.sleep(60))
    start = clock.now()
    # XREAD ... BLOCK waits for something to happen: virtual time goes on meanwhile.
    await app.redis.xread({"virtual-time:nothing": "$"}, block=200)
    assert clock.now() >= start + 60
    await sleeper
