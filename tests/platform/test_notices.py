"""Notices to the operators: to the log channel when there is one, else the admins; rate-limited per key."""

from __future__ import annotations

from mediabot.testing import FakeClock, eventually

LOG = -1001000000077


async def test_a_notice_goes_to_the_admins_without_a_log_channel(make_bot):
    bot = await make_bot(admins=[100], owner=200)
    assert await bot.app.notices.tell("test:one", "disk almost full", source="tester")
    assert [m.text for m in bot.fake.sent_to(200)] == ["disk almost full"]
    assert [m.text for m in bot.fake.sent_to(100)] == ["disk almost full"]


async def test_a_notice_goes_to_the_log_channel_only_when_one_is_configured(make_bot):
    bot = await make_bot(admins=[100], config=f"[bot]\nlog_channel = {LOG}\n")
    bot.fake.add_chat(LOG, "channel", title="Bot log")
    assert await bot.app.notices.tell("test:one", "disk almost full")
    assert [m.text for m in bot.fake.sent_to(LOG)] == ["disk almost full"]
    assert bot.fake.sent_to(100) == []


async def test_notices_of_one_key_are_held_back_across_processes_and_counted_in_the_next(make_bot):
    clock = FakeClock()
    one = await make_bot(admins=[100], clock=clock)
    two = await make_bot(admins=[100], clock=clock)  # the same deployment: one Redis
    assert await one.app.notices.tell("backlog", "backlog is 10,000", interval=3600)
    assert not await two.app.notices.tell("backlog", "backlog is 12,000", interval=3600)
    assert not await one.app.notices.tell("backlog", "backlog is 14,000", interval=3600)
    assert await one.app.notices.tell("other", "something else", interval=3600)  # another key is not held
    assert await one.app.notices.tell("backlog", "backlog is 15,000", interval=0)
    assert one.app.notices.sent[-1] == "backlog is 15,000\n(1 similar notice held back)"
    assert [m.text for m in two.fake.sent_to(100)] == []
    assert one.app.metrics.value("mediabot_notices_total", {"source": "kernel"}) == 4


async def test_new_users_are_posted_to_the_log_channel_once(make_bot):
    bot = await make_bot(admins=[100], config=f"[bot]\nlog_channel = {LOG}\n")
    bot.fake.add_chat(LOG, "channel", title="Bot log")
    await bot.send("/start", user=5)
    await bot.app.users.flush()
    await eventually(lambda: [m.text for m in bot.fake.sent_to(LOG)] == ["New user: User5 (5)"])
    await bot.send("/help", user=5)
    await bot.app.users.flush()
    bot.clock.advance(600)  # past the sighting interval: written again, but no longer new
    await bot.send("/help", user=5)
    await bot.app.users.flush()
    await bot.settle()
    assert [m.text for m in bot.fake.sent_to(LOG)] == ["New user: User5 (5)"]


async def test_new_users_are_not_posted_to_admins_without_a_log_channel(make_bot):
    bot = await make_bot(admins=[100])
    await bot.send("/start", user=5)
    await bot.app.users.flush()
    await bot.settle()
    assert bot.fake.sent_to(100) == []


async def test_the_bot_added_to_and_removed_from_a_group_is_posted_to_the_log_channel(make_bot):
    bot = await make_bot(admins=[100], config=f"[bot]\nlog_channel = {LOG}\n")
    bot.fake.add_chat(LOG, "channel", title="Bot log")
    group = -1001000000055
    bot.fake.add_chat(group, "supergroup", title="Film  club")
    await bot.fake.bot_added(group, by=5)
    await bot.settle()
    await bot.fake.bot_removed(group, by=5)
    await bot.settle()
    assert [m.text for m in bot.fake.sent_to(LOG)] == [
        f"Added to group Film club ({group}) by User5 (5)",
        f"Removed from group Film club ({group}) by User5 (5)"]


async def test_group_events_are_not_posted_when_log_events_leaves_them_out(make_bot):
    bot = await make_bot(admins=[100], config=f'[bot]\nlog_channel = {LOG}\nlog_events = ["new_users"]\n')
    bot.fake.add_chat(LOG, "channel", title="Bot log")
    group = -1001000000056
    bot.fake.add_chat(group, "supergroup", title="Film club")
    await bot.fake.bot_added(group, by=5)
    await bot.settle()
    assert bot.fake.sent_to(LOG) == []
