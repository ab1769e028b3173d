"""Auto-delete of what search delivers: done by the kernel's delivery (``[delivery] auto_delete``).

The schedule, its faults and its settings are tested with delivery
(``tests/platform/test_auto_delete*.py``); here: search's deliveries are
covered, the old ``[plugins.search] auto_delete`` is refused with the new key,
and deletions the plugin scheduled before the move are still done.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest
from helpers import FAST, QUIET_KERNEL, release
from mediabot_search import SearchConfig, SearchPlugin

from mediabot import ConfigError
from mediabot.core.config import RawConfig, validate_table
from mediabot.testing import FakeClock, eventually

TEN_MINUTES = "[delivery]\nauto_delete = 600\n" + FAST
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


async def test_files_search_delivers_are_deleted_after_the_delivery_setting_with_a_notice(make_bot):
    clock = FakeClock()
    bot = await make_bot(plugins=[SearchPlugin], config=TEN_MINUTES, clock=clock)
    sent_at = clock.now()
    messages = await deliver_all(bot, user=5)
    assert len(messages) == 4
    assert bot.replies_to(5)[-1].text == "These files will be deleted in 10 min: save them elsewhere."

    await eventually(lambda: all(bot.fake.message(c, m) is None for c, m in messages), clock=clock, step=60.0, deadline=15.0)
    assert all(c.at >= sent_at + 600 for c in bot.fake.calls_of("delete_messages"))
    assert deleted(bot) == Counter(dict.fromkeys(messages, 1))
    assert bot.replies_to(5)[-1].text.startswith("These files will be deleted")  # the notice stays


def test_the_old_search_setting_is_refused_with_the_new_key():
    raw = RawConfig(path=None, data={})
    with pytest.raises(ConfigError) as err:
        validate_table(raw, {"auto_delete": 600}, SearchConfig, "plugins.search")
    assert err.value.key == "plugins.search.auto_delete"
    assert "moved to [delivery] auto_delete" in err.value.message
    assert err.value.fix == "delete it here and write [delivery] auto_delete = 600"


def test_config_check_names_the_new_key_for_the_old_search_setting(tmp_path):
    path = tmp_path / "plugins.toml"
    path.write_text("[plugins.search]\nenabled = true\nauto_delete = 600\n")
    result = subprocess.run([sys.executable, "-m", "mediabot", "config", "check", "--dev", "--config", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "plugins.search.auto_delete" in result.stderr and "[delivery] auto_delete = 600" in result.stderr


async def test_deletions_search_scheduled_before_the_move_are_done_by_delivery(make_bot):
    clock = FakeClock()
    before = await make_bot(plugins=[SearchPlugin], config=QUIET_KERNEL, clock=clock)
    messages = await deliver_all(before, user=7)
    # What the plugin's own schedule held when a deployment upgraded: due in 10 minutes.
    old_key = before.app.storage("search").key("autodelete")
    scheduled_at, due = clock.now(), clock.wall().timestamp() + 600
    await before.app.redis.zadd(old_key, {f"{c}:{m}": due for c, m in messages})
    await before.stop()

    after = await make_bot(plugins=[SearchPlugin], config=TEN_MINUTES, clock=clock)
    assert await after.app.redis.zcard(old_key) == 0
    assert await after.app.delivery.auto_delete.pending() == len(messages)
    await eventually(lambda: set(deleted(after)) == set(messages), clock=clock, step=60.0, deadline=15.0)
    assert all(c.at >= scheduled_at + 600 for c in after.fake.calls_of("delete_messages"))
    assert deleted(after) == Counter(dict.fromkeys(messages, 1))
