"""Flood control and pacing, proven through the gateway against the fake Telegram.

The fake enforces Telegram's limits (about 30 msg/s overall, 1/s per private
chat, 20/min per group) by raising FloodWait, and keeps raising it while a
wait runs. Everything runs on one FakeClock: the times below are virtual.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest
from pyrogram.errors import FloodWait

from mediabot.core.telegram import FloodWaitTooLong, PermanentTelegramError

JITTER = 0.5  # FloodControl adds up to this much to a FloodWait


def events(metrics, event: str, domain: str = "send") -> float:
    return metrics.value("mediabot_telegram_events_total", {"event": event, "domain": domain})


def send_times(fake, chat_id: int | None = None) -> list[float]:
    return [c.at for c in fake.calls_of("send_message") if chat_id is None or c.chat_id == chat_id]


async def test_100_concurrent_sends_meet_one_flood_wait_pause_once_and_all_arrive(fake, gateway, metrics):
    fake.inject("send_message", FloodWait(value=5), after=10)
    users = range(1000, 1100)
    await asyncio.gather(*(gateway.send_text(u, f"hello {u}") for u in users))

    assert all([m.text for m in fake.sent_to(u)] == [f"hello {u}"] for u in users)
    floods = [c for c in fake.calls if isinstance(c.error, FloodWait)]
    assert len(floods) == 1, "a send was attempted while the wait ran"
    flooded_at = floods[0].at
    later = [t for t in send_times(fake) if t > flooded_at]
    assert later and min(later) >= flooded_at + 5
    assert events(metrics, "domain_paused") == 1
    assert events(metrics, "flood_wait") == 1


async def test_a_flood_wait_above_the_cap_is_raised_without_waiting(fake, make_gateway, clock):
    gateway = make_gateway(max_flood_wait=60)
    fake.inject("send_message", FloodWait(value=600))
    with pytest.raises(FloodWaitTooLong) as raised:
        await gateway.send_text(42, "hi")
    assert raised.value.seconds == 600 and raised.value.domain == "send"
    assert len(fake.calls_of("send_message")) == 1
    assert clock.now() < 1  # nothing slept through the wait


async def test_a_user_who_blocked_the_bot_is_tried_once(fake, gateway, metrics):
    fake.block(77)
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.send_text(77, "news")
    assert raised.value.reason == "blocked"
    assert len(fake.calls_of("send_message")) == 1
    assert events(metrics, "permanent") == 1
    # Everyone else still gets their message.
    assert (await gateway.send_text(78, "news")).text == "news"


async def test_300_sends_to_different_chats_keep_under_25_per_second(fake, gateway, clock):
    fake.latency = 0.05  # a network round trip
    start = clock.now()
    await asyncio.gather(*(gateway.send_text(2000 + i, "update") for i in range(300)))
    elapsed = clock.now() - start

    assert elapsed >= 300 / 25
    times = sorted(send_times(fake))
    assert len(times) == 300
    # In no one-second window did more than 25 sends start.
    assert max(sum(1 for t in times[i:] if t < times[i] + 1.0 - 1e-9) for i in range(300)) <= 25
    assert not [c for c in fake.calls if c.error is not None], "the fake's rate limits were hit"


async def test_sends_to_one_private_chat_go_one_per_second_in_order(fake, gateway):
    await asyncio.gather(*(gateway.send_text(55, f"part {i}") for i in range(8)))
    assert [m.text for m in fake.sent_to(55)] == [f"part {i}" for i in range(8)]
    times = send_times(fake, 55)
    assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(times))
    assert not [c for c in fake.calls if c.error is not None]


async def test_sends_to_one_group_stay_within_20_per_minute(fake, gateway):
    fake.add_chat(-1001500000001, "supergroup")
    await asyncio.gather(*(gateway.send_text(-1001500000001, f"msg {i}") for i in range(25)))
    times = send_times(fake, -1001500000001)
    assert len(fake.sent_to(-1001500000001)) == 25
    assert all(sum(1 for t in times if start <= t < start + 60 - 1e-9) <= 20 for start in times)
    assert not [c for c in fake.calls if c.error is not None]


async def test_a_busy_group_does_not_hold_back_private_chats(fake, gateway, clock):
    fake.add_chat(-1001500000002, "supergroup")
    group = asyncio.gather(*(gateway.send_text(-1001500000002, f"g{i}") for i in range(5)))
    await asyncio.sleep(0)
    await gateway.send_text(66, "private")
    assert clock.now() < 1  # not queued behind the group's 3-second pace
    await group


async def test_without_pacing_the_fake_enforces_telegrams_limits(fake, clock):
    # The control for the tests above: sending faster than Telegram allows
    # straight to the fake earns FloodWait, and the wait then applies.
    for text in ("1", "2", "3"):  # a small burst passes
        await fake.send_message(chat_id=9, text=text)
    with pytest.raises(FloodWait) as raised:
        await fake.send_message(chat_id=9, text="4")
    assert raised.value.value == 1
    await fake.send_message(chat_id=10, text="another chat is not held back")
    clock.advance(0.5)
    with pytest.raises(FloodWait):
        await fake.send_message(chat_id=9, text="still waiting")
    clock.advance(0.5)
    await fake.send_message(chat_id=9, text="4")
    assert [m.text for m in fake.sent_to(9)] == ["1", "2", "3", "4"]


async def test_without_pacing_30_per_second_overall_is_the_ceiling(fake):
    for i in range(30):
        await fake.send_message(chat_id=3000 + i, text="x")
    with pytest.raises(FloodWait) as raised:
        await fake.send_message(chat_id=4000, text="x")
    assert raised.value.value == 1
