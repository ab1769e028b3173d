"""Auto-delete: delivered files leave the user's chat after ``auto_delete``, on a schedule in Redis."""

from __future__ import annotations

from collections import Counter

import pytest
from helpers import FAST, release
from mediabot_search import SearchConfig, SearchPlugin
from mediabot_search.autodelete import MAX_AUTO_DELETE

from mediabot import ConfigError
from mediabot.core.config import RawConfig, validate_table
from mediabot.testing import FakeClock, eventually

TEN_MINUTES = FAST + "auto_delete = 600\n"
FILES = [release(n, f"Quiet.Harbour.S01E{n:02d}.1080p.mkv") for n in range(1, 5)]


async def deliver_all(bot, user: int) -> list[tuple[int, int]]:
    """Search, press "Send all": the (chat, message) ids of the file messages that arrived."""
    await bot.app.files.insert_batch(FILES)
    await bot.plugin("search").sync()
    reply = (await bot.send("quiet harbour", user=user)).last
    await bot.press(reply, "Send all on this page", user=user)
    return [(user, m.id) for m in bot.fake.sent_to(user) if m.media is not None]


def deleted(*bots) -> Counter[tuple[int, int]]:
    """How many times each (chat, message) was asked to be deleted, over these bots' Telegrams."""
    return Counter((c.params["chat_id"], m) for bot in bots for c in bot.fake.calls_of("delete_messages")
                   for m in c.params["message_ids"])


async def test_delivered_files_are_deleted_after_the_configured_time_with_a_notice(make_bot):
    clock = FakeClock()
    bot = await make_bot(plugins=[SearchPlugin], config=TEN_MINUTES, clock=clock)
    sent_at = clock.now()
    messages = await deliver_all(bot, user=5)
    assert len(messages) == 4
    assert bot.replies_to(5)[-1].text == "These files will be deleted in 10 min: save them elsewhere."

    await eventually(lambda: all(bot.fake.message(c, m) is None for c, m in messages), clock=clock, step=60.0,
                     deadline=15.0)
    calls = bot.fake.calls_of("delete_messages")
    assert len(calls) == 1 and calls[0].params["chat_id"] == 5  # one batch for the chat
    assert all(c.at >= sent_at + 600 for c in calls)
    assert await bot.plugin("search").auto_delete.pending() == 0
    assert bot.replies_to(5)[-1].text.startswith("These files will be deleted")  # the notice stays


async def test_messages_due_while_the_bot_was_down_are_deleted_after_a_restart(make_bot):
    clock = FakeClock()
    first = await make_bot(plugins=[SearchPlugin], config=TEN_MINUTES, clock=clock)
    messages = await deliver_all(first, user=7)
    await first.stop()
    assert deleted(first) == Counter()
    clock.advance(3600)  # the deployment is down while the files come due

    second = await make_bot(plugins=[SearchPlugin], config=TEN_MINUTES, clock=clock)
    await eventually(lambda: set(deleted(second)) == set(messages), clock=clock, step=1.0, deadline=15.0)
    assert deleted(first, second) == Counter(dict.fromkeys(messages, 1))


async def test_two_processes_never_delete_one_message_twice(make_bot):
    clock = FakeClock()
    one = await make_bot(plugins=[SearchPlugin], config=TEN_MINUTES, clock=clock)
    two = await make_bot(plugins=[SearchPlugin], config=TEN_MINUTES, clock=clock)
    messages = await deliver_all(one, user=8) + await deliver_all(two, user=9)
    assert len(messages) == 8

    await eventually(lambda: set(deleted(one, two)) == set(messages), clock=clock, step=60.0, deadline=15.0)
    for _ in range(5):  # later rounds of both loops delete nothing again
        await clock.sleep(600)
    assert deleted(one, two) == Counter(dict.fromkeys(messages, 1))


async def test_auto_delete_off_keeps_delivered_files_and_says_nothing(make_bot):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST)
    messages = await deliver_all(bot, user=5)
    # Three days pass at once (each loop wakes once; sleeping through them would run every
    # background loop's round trips for three virtual days), then a minute of loops.
    bot.clock.advance(3 * 86400)
    await bot.clock.sleep(60)
    assert all(bot.fake.message(c, m) is not None for c, m in messages)
    assert not any("deleted" in (m.text or "") for m in bot.replies_to(5))
    assert bot.fake.calls_of("delete_messages") == []


@pytest.mark.parametrize("seconds", [-1, 172801])
def test_auto_delete_beyond_telegrams_48_hours_is_a_config_error(seconds):
    # The range is declared on the schema, so `config check` and docs/configuration.md both know it.
    raw = RawConfig(path=None, data={})
    with pytest.raises(ConfigError) as err:
        validate_table(raw, {"auto_delete": seconds}, SearchConfig, "plugins.search")
    assert err.value.key == "plugins.search.auto_delete"
    assert ("172800" in err.value.message) == (seconds > 0) and ("0" in err.value.message)
    assert validate_table(raw, {"auto_delete": MAX_AUTO_DELETE}, SearchConfig, "plugins.search").auto_delete == 172_800


async def test_auto_delete_without_redis_refuses_to_start_and_says_why(make_bot, mongo_uri):
    with pytest.raises(ConfigError) as err:
        await make_bot(plugins=[SearchPlugin], config=TEN_MINUTES, services=False,
                       env={"MEDIABOT_MONGO_URI": mongo_uri})
    assert "auto_delete needs Redis" in str(err.value) and "MEDIABOT_REDIS_URL" in str(err.value)
