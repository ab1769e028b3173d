"""The global send budget: replies first, bulk from what is left, shared by processes through Redis.

Virtual time (FakeClock): a send is "at" the clock time the fake Telegram
saw it. Two FloodControls on one Redis key are two processes of one bot.
"""

from __future__ import annotations

import asyncio
import random

import pytest
import redis.asyncio

from mediabot.core.redis import RedisHealth
from mediabot.core.telegram import FloodConfig, FloodControl
from mediabot.core.telegram.budget import SharedBudget, budget_key
from mediabot.testing import FakeClock

EPS = 1e-6


def control(clock: FakeClock, budget_from=None, **overrides) -> FloodControl:
    flood = FloodControl(FloodConfig(**overrides), clock=clock, rng=random.Random(0))
    if budget_from is not None:
        flood.pacer.budget = budget_from(flood)
    return flood


def max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best = lo = 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window - EPS:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


class Recorder:
    """Records when each send reached 'Telegram', by priority."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent: list[tuple[float, str]] = []

    async def send(self, flood: FloodControl, chat_id: int, priority: str) -> float:
        asked = self.clock.now()

        async def fn() -> None:
            self.sent.append((self.clock.now(), priority))

        await flood.call("send", fn, chat_id=chat_id, method="send_message", priority=priority)
        return self.clock.now() - asked


async def broadcast(rec: Recorder, flood: FloodControl, users: range, concurrency: int = 8) -> None:
    queue = list(users)

    async def worker() -> None:
        while queue:
            await rec.send(flood, queue.pop(0), "bulk")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


class TimeHoldingRedis:
    """The real client, except that virtual time stands still while a script call is in flight.

    FakeClock jumps ahead whenever the loop is idle, also while a task waits
    for a real server: a Redis round trip would then "take" as long as the
    gap to the next sleeper, and sends would bunch up after it. In production
    a round trip is a fraction of a millisecond; keeping the loop busy while
    one is in flight makes virtual time say the same.
    """

    def __init__(self, client) -> None:
        self.client = client
        self._in_flight = 0
        #: script calls made (every booking is one)
        self.script_calls = 0

    def register_script(self, lua: str):
        script = self.client.register_script(lua)

        async def call(**kwargs):
            self.script_calls += 1
            self._in_flight += 1
            spinner = asyncio.ensure_future(self._spin()) if self._in_flight == 1 else None
            try:
                return await script(**kwargs)
            finally:
                self._in_flight -= 1
                if spinner is not None:
                    await spinner

        return call

    async def _spin(self) -> None:
        while self._in_flight:
            await asyncio.sleep(0)

    async def exists(self, key):
        return await self.client.exists(key)


@pytest.fixture
async def redis_client(redis_url):
    client = redis.asyncio.Redis.from_url(redis_url)
    yield TimeHoldingRedis(client)
    await client.aclose()


def shared(redis_client, prefix: str, clock: FakeClock, health=None):
    def make(flood: FloodControl) -> SharedBudget:
        return SharedBudget(redis_client, health, prefix=prefix, local=flood.pacer.local_budget, clock=clock)
    return make


async def test_bulk_sends_stay_within_their_share_of_the_rate() -> None:
    clock = FakeClock()
    rec = Recorder(clock)
    await broadcast(rec, control(clock, global_rate=25, bulk_share=0.8), range(1, 201))

    times = [t for t, _ in rec.sent]
    assert len(times) == 200
    assert max_in_window(times) <= 20  # 0.8 x 25


async def test_a_reply_waits_at_most_one_slot_behind_a_running_broadcast() -> None:
    clock = FakeClock()
    flood = control(clock, global_rate=25, bulk_share=1.0)
    rec = Recorder(clock)
    job = asyncio.create_task(broadcast(rec, flood, range(1, 301), concurrency=16))
    waits = []
    for user in range(5001, 5011):
        await clock.sleep(0.37)
        waits.append(await rec.send(flood, user, "reply"))
    await job

    assert max(waits) <= 1 / 25 + EPS  # even with bulk allowed the whole rate
    assert max_in_window([t for t, _ in rec.sent]) <= 25


async def test_two_processes_share_one_budget_through_redis(redis_client, redis_prefix) -> None:
    clock = FakeClock()
    broadcaster = control(clock, shared(redis_client, redis_prefix, clock), global_rate=25)
    answerer = control(clock, shared(redis_client, redis_prefix, clock), global_rate=25)
    rec = Recorder(clock)

    job = asyncio.create_task(broadcast(rec, broadcaster, range(1, 201)))
    replies = [asyncio.create_task(rec.send(answerer, user, "reply")) for user in range(5001, 5101)]
    waits = await asyncio.gather(*replies)
    await job

    times = [t for t, _ in rec.sent]
    assert len(times) == 300
    # Together under the bot's rate: each process alone would allow 25/s.
    assert max_in_window(times) <= 25
    # 100 replies at once queue behind each other, never behind the broadcast.
    assert max(waits) <= 100 / 25 + 1 / 25 + EPS
    assert await redis_client.exists(budget_key(redis_prefix))


async def test_replies_asked_together_share_round_trips_and_keep_one_slot_each(redis_client, redis_prefix) -> None:
    clock = FakeClock()
    budget = SharedBudget(redis_client, None, prefix=redis_prefix,
                          local=control(clock, global_rate=25).pacer.local_budget, clock=clock)
    start = clock.now()
    # 50 replies at once, one of them an album of 3 (it keeps 2 free slots before and after its burst).
    weights = [3 if n == 10 else 1 for n in range(50)]
    slots = await asyncio.gather(*(budget.take("reply", w) for w in weights))

    assert redis_client.script_calls < 10  # booked in a few batches, not one round trip each
    held = sum(2 * w - 1 for w in weights)
    gaps = sorted(round((t - start) * 25, 6) for t in slots)
    assert gaps[0] == 0 and gaps[-1] <= held - 1  # consecutive: nothing booked twice, no slot skipped
    assert len(set(gaps)) == 50  # one slot each
    # The next reply, from any process, is booked after all of them.
    assert round((await budget.take("reply") - start) * 25, 6) == held


async def test_replies_from_another_process_go_ahead_of_its_broadcast(redis_client, redis_prefix) -> None:
    clock = FakeClock()
    broadcaster = control(clock, shared(redis_client, redis_prefix, clock), global_rate=25, bulk_share=1.0)
    answerer = control(clock, shared(redis_client, redis_prefix, clock), global_rate=25, bulk_share=1.0)
    rec = Recorder(clock)

    job = asyncio.create_task(broadcast(rec, broadcaster, range(1, 201), concurrency=16))
    waits = []
    for user in range(5001, 5011):
        await clock.sleep(0.29)
        waits.append(await rec.send(answerer, user, "reply"))
    await job

    assert max(waits) <= 1 / 25 + EPS
    assert max_in_window([t for t, _ in rec.sent]) <= 25


async def test_a_floodwait_in_one_process_holds_the_other(redis_client, redis_prefix) -> None:
    clock = FakeClock()
    first = control(clock, shared(redis_client, redis_prefix, clock))
    second = control(clock, shared(redis_client, redis_prefix, clock))
    from pyrogram.errors import FloodWait

    failed = False

    async def flooded() -> None:
        nonlocal failed
        if not failed:
            failed = True
            raise FloodWait(value=5)

    await first.call("send", flooded, chat_id=1, method="send_message")
    rec = Recorder(clock)
    await rec.send(second, 2, "reply")

    [(at, _)] = rec.sent
    assert at >= 5 - EPS  # the second process never saw the FloodWait, but waited it out


async def test_without_redis_each_process_paces_alone(redis_factory) -> None:
    server = redis_factory()
    client = redis.asyncio.Redis.from_url(server.url, socket_timeout=0.5, socket_connect_timeout=0.5)
    health = RedisHealth(client, retry_interval=1.0)
    clock = FakeClock()
    flood = control(clock, shared(client, "t", clock, health), global_rate=25)
    server.kill()
    rec = Recorder(clock)
    try:
        await broadcast(rec, flood, range(1, 101))
    finally:
        await client.aclose()

    times = [t for t, _ in rec.sent]
    assert len(times) == 100  # nothing lost
    assert max_in_window(times) <= 20  # still paced, by the local budget
    assert flood.pacer.budget.fallbacks > 0
    assert health.degraded


@pytest.mark.parametrize("where", ["local", "redis"])
async def test_a_bulk_sender_that_wakes_late_keeps_the_cadence_and_an_idle_budget_gives_no_credit(
        where, redis_client, redis_prefix) -> None:
    clock = FakeClock()
    flood = control(clock, shared(redis_client, redis_prefix, clock) if where == "redis" else None,
                    global_rate=25, bulk_share=1.0)
    budget = flood.pacer.budget
    interval = 1 / 25
    start = await budget.take("bulk")
    await clock.sleep(1.5 * interval)  # the next slot was due at +1 interval: this sender is half an interval late
    assert await budget.take("bulk") - start == pytest.approx(1.5 * interval)
    # The one after is due at +2 intervals, where the cadence says (without the catch-up: +2.5).
    assert await budget.take("bulk") - start == pytest.approx(2 * interval)
    await clock.sleep(5)  # idle: no credit, the next two are one interval apart
    first, second = await budget.take("bulk"), await budget.take("bulk")
    assert second - first == pytest.approx(interval)
