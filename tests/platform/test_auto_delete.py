"""Auto-delete in delivery: what any plugin delivers leaves the chat after ``[delivery] auto_delete``.

The plugin here is not search: every plugin's deliveries share the kernel's
schedule (a Redis sorted set, claimed so that each deletion is done once).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter

import pytest

from mediabot import Command, ConfigError, MediaFile, PluginMeta, Reservation, hookimpl
from mediabot.core.autodelete import MAX_AUTO_DELETE
from mediabot.core.config import DeliverySection, RawConfig, validate_table
from mediabot.testing import FakeClock, eventually

CHANNEL = -1001234567890
# Long kernel upkeep intervals: virtual hours pass in these tests without hammering the test MongoDB.
QUIET = "[catalog]\nban_refresh = 3600.0\nflush_interval = 3600.0\noutbox_grace = 3600.0\n"
TEN_MINUTES = QUIET + "[delivery]\nauto_delete = 600\n"
NOTICE = "These files will be deleted in 10 min: save them elsewhere."


class Gifts:
    """Sends catalogue files: ``/gift N``; ``/keep N`` sends them never to be deleted."""

    meta = PluginMeta(name="gifts", description="Sends catalogue files.")

    def __init__(self, ctx):
        self.files: list[MediaFile] = []
        self.reports = []

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="gift", description="Get files", handler=self.gift, usage="N"),
                Command(name="keep", description="Get files to keep", handler=self.keep, usage="N")]

    async def gift(self, ctx):
        self.reports.append(await ctx.app.delivery.send(ctx.user, self.files[:int(ctx.args)]))

    async def keep(self, ctx):
        self.reports.append(await ctx.app.delivery.send(ctx.user, self.files[:int(ctx.args)], auto_delete=False))


async def gifts(bot, n: int = 3) -> Gifts:
    """The plugin, with ``n`` files Telegram knows (posted in a channel) in the catalogue."""
    files = []
    for i in range(n):
        post = await bot.post(CHANNEL, media=f"Film.{i}.2019.1080p.mkv", caption=f"Film {i}")
        files.append(MediaFile.from_message(post))
    await bot.app.files.insert_batch(files)
    plugin = bot.plugin("gifts")
    plugin.files = files
    return plugin


def file_messages(bot, user: int) -> list[tuple[int, int]]:
    return [(user, m.id) for m in bot.fake.sent_to(user) if m.media is not None]


def notes(bot, user: int) -> list[str]:
    """The texts (not the files) the bot sent to ``user``."""
    return [m.text or "" for m in bot.fake.sent_to(user) if m.media is None]


def deleted(*bots) -> Counter[tuple[int, int]]:
    """How many times each (chat, message) was asked to be deleted, over these bots' Telegrams."""
    return Counter((c.params["chat_id"], m) for bot in bots for c in bot.fake.calls_of("delete_messages")
                   for m in c.params["message_ids"])


async def test_files_another_plugin_delivers_are_deleted_after_the_configured_time_with_a_notice(make_bot):
    clock = FakeClock()
    bot = await make_bot(plugins=[Gifts], config=TEN_MINUTES, clock=clock)
    plugin = await gifts(bot)
    sent_at = clock.now()
    replies = await bot.send("/gift 3", user=5)
    messages = file_messages(bot, 5)
    assert len(messages) == 3
    assert replies.last.text == NOTICE
    [report] = plugin.reports
    # What a later "Get it again" button needs: the notice to attach it to, and the files.
    assert report.deletes_in == 600 and report.notice == (5, replies.last.id)
    assert report.delivered == [f.id for f in plugin.files]

    await eventually(lambda: all(bot.fake.message(c, m) is None for c, m in messages), clock=clock, step=60.0, deadline=15.0)
    calls = bot.fake.calls_of("delete_messages")
    assert len(calls) == 1 and calls[0].params["chat_id"] == 5  # one batch for the chat
    assert all(c.at >= sent_at + 600 for c in calls)
    assert await bot.app.delivery.auto_delete.pending() == 0
    assert bot.fake.message(5, replies.last.id).text == NOTICE  # the notice stays


async def test_one_file_gets_a_notice_in_the_singular(make_bot):
    bot = await make_bot(plugins=[Gifts], config=TEN_MINUTES)
    await gifts(bot, 1)
    assert (await bot.send("/gift 1", user=5)).last.text == "This file will be deleted in 10 min: save it elsewhere."


async def test_a_delivery_with_auto_delete_false_keeps_its_files_and_says_nothing(make_bot):
    clock = FakeClock()
    bot = await make_bot(plugins=[Gifts], config=TEN_MINUTES, clock=clock)
    plugin = await gifts(bot, 2)
    await bot.send("/keep 2", user=5)
    kept = file_messages(bot, 5)
    assert len(kept) == 2 and notes(bot, 5) == [] and plugin.reports[0].deletes_in is None
    await bot.send("/gift 1", user=5)
    [given] = [m for m in file_messages(bot, 5) if m not in kept]

    await eventually(lambda: bot.fake.message(*given) is None, clock=clock, step=60.0, deadline=15.0)
    assert all(bot.fake.message(*m) is not None for m in kept)
    assert deleted(bot) == Counter({given: 1})


async def test_notify_false_schedules_the_deletion_and_leaves_the_notice_to_the_caller(make_bot):
    clock = FakeClock()
    bot = await make_bot(plugins=[Gifts], config=TEN_MINUTES, clock=clock)
    plugin = await gifts(bot, 2)
    report = await bot.app.delivery.send(5, plugin.files, notify=False)
    assert report.deletes_in == 600 and report.notice is None
    assert notes(bot, 5) == []
    await eventually(lambda: set(deleted(bot)) == set(report.messages), clock=clock, step=60.0, deadline=15.0)


async def test_auto_delete_true_without_the_setting_is_refused_before_anything_is_sent(make_bot):
    bot = await make_bot(plugins=[Gifts], config=QUIET)
    plugin = await gifts(bot, 1)
    with pytest.raises(ValueError, match=r"\[delivery\] auto_delete is 0"):
        await bot.app.delivery.send(5, plugin.files, auto_delete=True)
    assert bot.fake.sent_to(5) == []


class CancelsOnTheThird:
    """Reserves everything; the delivery task is cancelled as the third file is about to go."""

    meta = PluginMeta(name="canceller", description="Cancels a delivery mid-batch.")

    def __init__(self, ctx):
        pass

    @hookimpl
    def mediabot_delivery_reserve(self, user_id, count):
        return Reservation(granted=count, id="r")

    @hookimpl
    def mediabot_delivery_progress(self, reservation, sent):
        if sent == 3:
            task = asyncio.current_task()
            assert task is not None
            task.cancel()

    @hookimpl
    def mediabot_delivery_settle(self, reservation, delivered):
        pass


async def test_files_delivered_before_a_delivery_is_cancelled_are_still_deleted_on_time(make_bot):
    clock = FakeClock()
    bot = await make_bot(plugins=[Gifts, CancelsOnTheThird], config=TEN_MINUTES, clock=clock)
    plugin = await gifts(bot, 4)
    with pytest.raises(asyncio.CancelledError):
        await asyncio.create_task(bot.app.delivery.send(5, plugin.files))
    arrived = file_messages(bot, 5)
    assert 1 <= len(arrived) < 4
    assert await bot.app.delivery.auto_delete.pending() == len(arrived)
    await eventually(lambda: set(deleted(bot)) == set(arrived), clock=clock, step=60.0, deadline=15.0)


async def test_messages_due_while_the_bot_was_down_are_deleted_after_a_restart(make_bot):
    clock = FakeClock()
    first = await make_bot(plugins=[Gifts], config=TEN_MINUTES, clock=clock)
    await gifts(first)
    await first.send("/gift 3", user=7)
    messages = file_messages(first, 7)
    await first.stop()
    assert deleted(first) == Counter()
    clock.advance(3600)  # the deployment is down while the files come due

    second = await make_bot(plugins=[Gifts], config=TEN_MINUTES, clock=clock)
    await eventually(lambda: set(deleted(second)) == set(messages), clock=clock, step=1.0, deadline=15.0)
    assert deleted(first, second) == Counter(dict.fromkeys(messages, 1))


async def test_two_processes_never_delete_one_message_twice(make_bot):
    clock = FakeClock()
    one = await make_bot(plugins=[Gifts], config=TEN_MINUTES, clock=clock)
    two = await make_bot(plugins=[Gifts], config=TEN_MINUTES, clock=clock)
    await gifts(one, 4)
    two.plugin("gifts").files = one.plugin("gifts").files
    await one.send("/gift 4", user=8)
    await two.send("/gift 4", user=9)
    messages = file_messages(one, 8) + file_messages(two, 9)
    assert len(messages) == 8

    await eventually(lambda: set(deleted(one, two)) == set(messages), clock=clock, step=60.0, deadline=15.0)
    for _ in range(5):  # later rounds of both loops delete nothing again
        await clock.sleep(600)
    assert deleted(one, two) == Counter(dict.fromkeys(messages, 1))


async def test_auto_delete_off_keeps_delivered_files_and_says_nothing(make_bot):
    bot = await make_bot(plugins=[Gifts], config=QUIET)
    await gifts(bot)
    await bot.send("/gift 3", user=5)
    messages = file_messages(bot, 5)
    assert bot.app.delivery.auto_delete is None and notes(bot, 5) == []
    # Three days pass at once (each loop wakes once; sleeping through them would run every
    # background loop's round trips for three virtual days), then a minute of loops.
    bot.clock.advance(3 * 86400)
    await bot.clock.sleep(60)
    assert all(bot.fake.message(c, m) is not None for c, m in messages)
    assert bot.fake.calls_of("delete_messages") == []


@pytest.mark.parametrize("seconds", [-1, 172801])
def test_auto_delete_beyond_telegrams_48_hours_is_a_config_error(seconds):
    # The range is declared on the schema, so `config check` and docs/configuration.md both know it.
    raw = RawConfig(path=None, data={})
    with pytest.raises(ConfigError) as err:
        validate_table(raw, {"auto_delete": seconds}, DeliverySection, "delivery")
    assert err.value.key == "delivery.auto_delete"
    assert ("172800" in err.value.message) == (seconds > 0) and ("0" in err.value.message)
    assert validate_table(raw, {"auto_delete": MAX_AUTO_DELETE}, DeliverySection, "delivery").auto_delete == 172_800


async def test_auto_delete_without_redis_refuses_to_start_and_says_why(make_bot, mongo_uri):
    with pytest.raises(ConfigError) as err:
        await make_bot(plugins=[Gifts], config=TEN_MINUTES, services=False, env={"MEDIABOT_MONGO_URI": mongo_uri})
    assert "auto_delete needs Redis" in str(err.value) and "MEDIABOT_REDIS_URL" in str(err.value)


def test_config_check_says_auto_delete_needs_redis(tmp_path):
    (tmp_path / "plugins.toml").write_text("[delivery]\nauto_delete = 600\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIABOT")}
    env.update(MEDIABOT_API_ID="1234567", MEDIABOT_API_HASH="0" * 32, MEDIABOT_BOT_TOKEN="1:x",
               MEDIABOT_CALLBACK_SECRET="s" * 32)
    check = [sys.executable, "-m", "mediabot", "config", "check", "--config", str(tmp_path / "plugins.toml")]
    result = subprocess.run(check, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert "auto_delete needs Redis" in result.stderr and "MEDIABOT_REDIS_URL" in result.stderr
    result = subprocess.run(check, capture_output=True, text=True, timeout=60,
                            env={**env, "MEDIABOT_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert result.returncode == 0, result.stderr
