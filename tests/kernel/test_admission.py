"""Admission: a flood of updates cannot grow memory or starve other users."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc

from mediabot import Chat, Message, PluginMeta, User, create_app, hookimpl


class Slow:
    """Handles text messages until the test lets them go."""

    meta = PluginMeta(name="slow", description="Waits for a gate.")

    def __init__(self, ctx):
        self.gate = asyncio.Event()
        self.running = 0
        self.peak = 0
        self.handled: list[tuple[int, str]] = []

    @hookimpl
    async def mediabot_update(self, update):
        self.running += 1
        self.peak = max(self.peak, self.running)
        await self.gate.wait()
        self.running -= 1
        self.handled.append((update.sender_id, update.text))


def text(user: int, n: int) -> Message:
    return Message(id=n, chat=Chat(id=user, type="private"), date=0, from_user=User(id=user), text=f"m{n}")


async def test_a_flood_of_100000_updates_from_1000_users_stays_bounded(config_file):
    path = config_file("[runtime]\nmax_in_flight = 50\nmax_waiting = 2000\n"
                       "max_in_flight_per_user = 2\nmax_waiting_per_user = 3\n[plugins.slow]\nenabled = true\n")
    app = create_app(path, env={}, plugins=[Slow])
    await app.start()
    slow = app.plugin("slow")
    try:
        tracemalloc.start()
        for n in range(20_000):  # warm-up: the structures reach their bounds
            app.submit(text(1000 + n % 1000, n))
        await asyncio.sleep(0)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for n in range(20_000, 100_000):
            app.submit(text(1000 + n % 1000, n))
        await asyncio.sleep(0)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        assert slow.peak == 50 and app._admission.waiting <= 2000
        assert after - before < 1_000_000, f"memory grew by {after - before} bytes under the flood"
        dropped = app.metrics.value("mediabot_updates_dropped_total", {"reason": "overload"}) + \
            app.metrics.value("mediabot_updates_dropped_total", {"reason": "replaced"})
        assert dropped == 100_000 - 50 - app._admission.waiting
        slow.gate.set()
        await app.supervisor.wait_idle()
        assert len(slow.handled) == 100_000 - dropped and app._admission.waiting == 0
    finally:
        await app.stop()


async def test_one_users_flood_does_not_hold_the_others_turn_and_their_latest_message_wins(config_file):
    path = config_file("[runtime]\nmax_in_flight = 4\nmax_in_flight_per_user = 1\nmax_waiting_per_user = 2\n"
                       "[plugins.slow]\nenabled = true\n")
    app = create_app(path, env={}, plugins=[Slow])
    await app.start()
    slow = app.plugin("slow")
    try:
        for n in range(100):
            app.submit(text(1, n))  # user 1 floods
        app.submit(text(2, 1000))  # user 2 writes once
        await asyncio.sleep(0)
        assert slow.running == 2  # one of user 1's, and user 2's at once: not behind the flood
        slow.gate.set()
        await app.supervisor.wait_idle()
        assert [t for u, t in slow.handled if u == 1] == ["m0", "m98", "m99"]  # the latest two replaced the rest
        assert (2, "m1000") in slow.handled
    finally:
        await app.stop()


async def test_a_chat_sending_as_itself_is_capped_like_a_user_but_channel_posts_are_not(config_file):
    path = config_file("[runtime]\nmax_in_flight = 100\nmax_in_flight_per_user = 1\nmax_waiting_per_user = 1\n"
                       "[plugins.slow]\nenabled = true\n")
    app = create_app(path, env={}, plugins=[Slow])
    await app.start()
    slow = app.plugin("slow")
    group, as_channel, channel = -100_111, -100_222, -100_333
    try:
        for n in range(10):  # messages sent into a group as a channel: one sender, the channel
            app.submit(Message(id=n, chat=Chat(id=group, type="supergroup"), date=0,
                               sender_chat=Chat(id=as_channel, type="channel"), text=f"m{n}"))
        for n in range(10, 30):  # a burst of posts in a channel: the indexer's input, never dropped
            app.submit(Message(id=n, chat=Chat(id=channel, type="channel"), date=0, text=f"m{n}"))
        await asyncio.sleep(0)
        assert slow.running == 1 + 20
        slow.gate.set()
        await app.supervisor.wait_idle()
        assert [t for u, t in slow.handled if u == as_channel] == ["m0", "m9"]  # capped: the latest waits
        assert sorted(int(t[1:]) for u, t in slow.handled if u == channel) == list(range(10, 30))
    finally:
        await app.stop()
