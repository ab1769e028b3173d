"""Send pacing: global rate, per-chat rates, fairness, bounded memory.

All times are virtual (FakeClock): nothing really sleeps, and every
assertion is on exact, reproducible fake times.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from typing import Any

import pytest

from mediabot.core.clock import MonotonicClock
from mediabot.core.telegram import FloodConfig, FloodControl, SendPacer
from mediabot.testing import FakeClock

EPS = 1e-9


def make_control(clock: FakeClock, **overrides: Any) -> FloodControl:
    return FloodControl(FloodConfig(**overrides), clock=clock, rng=random.Random(0))


async def send_all(flood: FloodControl, clock: FakeClock,
                   chat_ids: list[int]) -> list[tuple[float, int]]:
    """Send one message per entry of ``chat_ids`` at once; return (fake time, chat) per send."""
    sent: list[tuple[float, int]] = []

    async def one(chat_id: int) -> None:
        async def fn() -> None:
            sent.append((clock.now(), chat_id))

        await flood.call("send", fn, chat_id=chat_id, method="send_message")

    await asyncio.gather(*(one(c) for c in chat_ids))
    return sent


def max_in_window(times: list[float], window: float) -> int:
    """Most sends inside any half-open window of ``window`` seconds."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window - EPS:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def test_sends_to_different_chats_follow_the_global_rate() -> None:
    clock = FakeClock()
    sent = await send_all(make_control(clock), clock, list(range(1, 301)))

    times = [t for t, _ in sent]
    assert len(sent) == 300
    # n sends at 25/s need n-1 intervals of 1/25 s between the first and the last.
    assert max(times) >= 299 / 25 - EPS
    assert clock.now() < 300 / 25 + 1
    assert max_in_window(times, 1.0) <= 25


async def test_sends_to_one_private_chat_go_out_once_per_second() -> None:
    clock = FakeClock()
    sent = await send_all(make_control(clock), clock, [42] * 5)

    times = sorted(t for t, _ in sent)
    assert times[-1] - times[0] >= 4 - EPS
    assert all(b - a >= 1 - EPS for a, b in itertools.pairwise(times))


async def test_sends_to_one_group_stay_within_twenty_per_minute() -> None:
    clock = FakeClock()
    sent = await send_all(make_control(clock), clock, [-1001] * 25)

    times = [t for t, _ in sent]
    assert max(times) - min(times) >= 60 - EPS
    assert max_in_window(times, 60.0) <= 20


async def test_a_busy_group_does_not_hold_back_other_chats() -> None:
    clock = FakeClock()
    # 20 sends to one group (one every 3 s) queued ahead of 50 private chats.
    sent = await send_all(make_control(clock), clock, [-1001] * 20 + list(range(1, 51)))

    private = [t for t, chat in sent if chat > 0]
    group = [t for t, chat in sent if chat < 0]
    # Only the global pace separates the private sends: 51 slots at most
    # (one is the group's first send) of 1/25 s each.
    assert max(private) <= 51 / 25 + EPS
    assert max(group) >= 19 * 3 - EPS


async def test_sends_to_one_chat_leave_in_call_order() -> None:
    clock = FakeClock()
    flood = make_control(clock)
    order: list[int] = []

    async def one(i: int) -> None:
        async def fn() -> None:
            order.append(i)

        await flood.call("send", fn, chat_id=7)

    await asyncio.gather(*(one(i) for i in range(10)))
    assert order == list(range(10))


async def test_sends_without_a_chat_only_follow_the_global_rate() -> None:
    clock = FakeClock()
    pacer = SendPacer(clock, global_rate=10)
    await asyncio.gather(*(pacer.acquire(None) for _ in range(11)))

    assert abs(clock.now() - 1.0) < EPS
    assert pacer.tracked_chats == 0


async def test_memory_for_idle_chats_is_released() -> None:
    clock = FakeClock()
    pacer = SendPacer(clock, global_rate=25)
    peak = 0
    for chat_id in range(1, 1001):
        await pacer.acquire(chat_id)
        peak = max(peak, pacer.tracked_chats)

    # At 25/s only the last second's 25 chats still carry a constraint;
    # the sweep lags a little behind, but never grows with the chat count.
    assert peak <= 60


async def test_fake_clock_jumps_to_the_next_deadline_and_wakes_in_order() -> None:
    clock = FakeClock(start=100.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    await asyncio.gather(sleeper("late", 3), sleeper("early", 1), sleeper("tie-1", 2),
                         sleeper("tie-2", 2))

    assert woke == [("early", 101.0), ("tie-1", 102.0), ("tie-2", 102.0), ("late", 103.0)]


async def test_fake_clock_stands_still_while_a_call_to_a_server_is_held() -> None:
    clock = FakeClock(start=0.0)
    woke: list[float] = []

    async def sleeper() -> None:
        await clock.sleep(5)
        woke.append(clock.now())

    task = asyncio.create_task(sleeper())
    token = clock.hold_io()
    await asyncio.sleep(0.05)  # real time passes, the loop is idle: a round trip in flight
    assert woke == [] and clock.now() == 0.0
    clock.release_io(token)
    await task
    assert woke == [5.0]


async def test_a_hold_older_than_max_hold_no_longer_stops_the_clock() -> None:
    clock = FakeClock(max_hold=0.05)
    clock.hold_io()  # never released: a call to a stopped server
    started = asyncio.get_running_loop().time()
    await clock.sleep(3)
    assert clock.now() == 3.0 and clock.held == 0
    assert asyncio.get_running_loop().time() - started >= 0.05


@pytest.mark.parametrize("make_clock", [MonotonicClock, FakeClock])
async def test_a_loop_whose_cancel_was_swallowed_stops_at_its_next_sleep(make_clock) -> None:
    # On Python 3.11 a library's wait_for (redis-py, pymongo) can swallow a cancel; the task
    # still counts it. A loop sleeping through the app's clock must stop all the same.
    clock = make_clock()
    swallowed = asyncio.Event()
    rounds = 0

    async def loop() -> None:
        nonlocal rounds
        while True:
            rounds += 1
            try:
                await asyncio.sleep(3600)  # stands for a library call that loses the cancel
            except asyncio.CancelledError:
                if swallowed.is_set():
                    raise
                swallowed.set()
            await clock.sleep(0.01)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.wait_for(swallowed.wait(), 1)
    try:
        await asyncio.wait({task}, timeout=1)
        assert task.cancelled() and rounds == 1
    finally:
        task.cancel()  # without the guard: a second cancel, which this loop does not swallow
