"""Virtual time does not pass while the app waits for Redis or MongoDB, or the test for a thread or a child."""

from __future__ import annotations

import asyncio
import sys
import time

from mediabot import PluginMeta, create_app, hookimpl
from mediabot.testing import FakeClock, eventually


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


class Poller:
    """Asks the database, then sleeps 300 s: the shape of the loop that ran 2,636 rounds in 2 s."""

    meta = PluginMeta(name="poller", description="Polls the database every five minutes.")

    def __init__(self, ctx):
        self.ctx = ctx
        self.rounds = 0

    @hookimpl
    def mediabot_startup(self, app):
        self.app = app
        self.ctx.spawn_loop(self.loop, name="poller")

    async def loop(self):
        while True:
            await self.app.database.write_database()["poller"].find_one({})
            self.rounds += 1
            await self.ctx.clock.sleep(300)


async def test_virtual_time_stands_still_while_the_test_waits_for_a_thread(make_bot):
    clock = FakeClock()
    bot = await make_bot(plugins=[Poller], clock=clock)
    poller = bot.plugin("poller")
    await eventually(lambda: poller.rounds >= 1, what="the first round")
    rounds, start = poller.rounds, clock.now()
    await asyncio.to_thread(time.sleep, 2)  # blocking work outside the loop: 2 real seconds
    assert poller.rounds - rounds <= 1 and clock.now() - start <= 300
    await eventually(lambda: poller.rounds - rounds >= 3, what="rounds once the thread is done")


async def test_virtual_time_stands_still_while_a_child_process_runs(make_bot):
    clock = FakeClock()
    bot = await make_bot(plugins=[Poller], clock=clock)
    poller = bot.plugin("poller")
    await eventually(lambda: poller.rounds >= 1, what="the first round")
    rounds, start = poller.rounds, clock.now()
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", "import time; time.sleep(1)")
    assert await child.wait() == 0
    assert poller.rounds - rounds <= 1 and clock.now() - start <= 300
    assert clock.held == 0  # nothing left holding: the loop goes on
    await eventually(lambda: poller.rounds - rounds >= 3, what="rounds once the child is done")


async def test_only_the_testing_kit_observes_the_apps_io(make_bot, tmp_path):
    (tmp_path / "plugins.toml").write_text("")
    production = create_app(tmp_path / "plugins.toml", env={}, clock=FakeClock())
    assert production.mongo_client_options() == {"event_listeners": []}  # nothing listens in production
    bot = await make_bot()
    assert len(bot.app.mongo_client_options()["event_listeners"]) == 1  # the harness's clock listens
