"""The quota plugin in a running bot: deliveries within the quota, /quota, admin commands, search's Send all."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from mediabot_quota import QuotaPlugin

from mediabot import Command, MediaFile, PluginMeta, hookimpl
from mediabot.testing import FakeClock, eventually
from mediabot.testing.tl import FakeFile

CONFIG = """
[catalog]
ban_refresh = 3600.0
[plugins.quota]
plans = { free = 3, premium = 10 }
timezone = "Asia/Kolkata"
"""
# The reaper test runs on virtual time, with a short lease and interval.
REAPING = CONFIG + "lease_seconds = 60.0\nreap_interval = 30.0\n"


def film(n: int) -> MediaFile:
    fake = FakeFile(file_name=f"Office.Hours.S02E{n:02d}.1080p.mkv", media_id=n, size=900_000_000)
    return MediaFile(file_unique_id=fake.file_unique_id, file_id=fake.file_id, kind="video",
                     file_name=fake.file_name, size=fake.size, tokens=["office", "hours", f"s02e{n:02d}"])


class Sender:
    """``/get N`` delivers the first N catalogue files through app.delivery."""

    meta = PluginMeta(name="sender", description="Delivers files.")

    def __init__(self, ctx):
        self.files: list[MediaFile] = []
        self.reports = []

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="get", description="Get files", usage="N", handler=self.get)]

    async def get(self, ctx):
        self.reports.append(await ctx.app.delivery.send(ctx.user, self.files[:int(ctx.args)]))


async def quota_bot(make_bot, config=CONFIG, **kw):
    # Virtual time, held while the bot waits on the database: pacing (one file a second per
    # chat) costs no real time, and leases do not run out during a round trip.
    kw.setdefault("clock", FakeClock())
    bot = await make_bot(plugins=[QuotaPlugin, Sender], config=config, admins=[1], **kw)
    files = [film(n) for n in range(1, 11)]
    await bot.app.files.insert_batch(files)
    bot.plugin("sender").files = files
    return bot


def received(bot, user: int) -> int:
    return sum(1 for m in bot.replies_to(user) if m.media is not None)


async def test_a_delivery_within_the_quota_then_what_is_left_then_nothing(make_bot):
    bot = await quota_bot(make_bot)
    await bot.send("/get 2", user=5)
    assert received(bot, 5) == 2
    replies = await bot.send("/get 5", user=5)
    assert received(bot, 5) == 3
    assert replies.texts[-1].startswith("Sent 1 of 5: that was what was left of today's 3 files. "
                                        "Your quota resets in ")
    replies = await bot.send("/get 1", user=5)
    assert received(bot, 5) == 3 and replies.texts[-1].startswith("You have received your 3 files for today.")
    status = (await bot.send("/quota", user=5)).texts[0]
    assert status.startswith("You have 0 of 3 files left today.\nPlan: free, 3 files a day.\nResets in ")


async def test_failed_sends_are_given_back(make_bot):
    bot = await quota_bot(make_bot)
    bot.fake.forget_file(bot.plugin("sender").files[1].file_id)  # Telegram lost the second file
    await bot.send("/get 3", user=5)
    assert received(bot, 5) == 2
    assert (await bot.send("/quota", user=5)).texts[0].startswith("You have 1 of 3 files left today.")


async def test_admins_are_unlimited_and_see_anyones_quota(make_bot):
    bot = await quota_bot(make_bot)
    await bot.send("/get 10", user=1)
    assert received(bot, 1) == 10
    await bot.send("/get 1", user=5)
    assert (await bot.send("/quota 5", user=1)).texts[0].startswith("User 5 has 2 of 3 files left today.")
    refused = (await bot.send("/quota 1", user=5)).texts[0]
    assert refused.startswith("Only admins can see another user's quota.")


async def test_grants_overrides_and_their_mistakes(make_bot):
    bot = await quota_bot(make_bot)
    for bad, why in (("/grant 5 30x", "DURATION must be a duration from 1m to 3650d"),
                     ("/setlimit 5 -1", "N must be a whole number from 0 to 1000000, not '-1'."),
                     ("/grant 5 30d gold", "PLAN is one of: premium."), ("/setlimit 0 5", "USER_ID")):
        text = (await bot.send(bad, user=1)).texts[0]
        assert why in text and "Usage: /" in text
    assert (await bot.send("/quota", user=5)).texts[0].startswith("You have 3 of 3 files left today.")
    assert (await bot.send("/grant 5 30d", user=7)).texts == ["This command is for admins only."]
    assert (await bot.send("/setlimit 5 9", user=7)).texts == ["This command is for admins only."]
    granted = (await bot.send("/grant 5 2h", user=1)).texts[0]
    assert granted.startswith("User 5 has the premium plan (10 files a day) until ")
    assert (await bot.send("/quota", user=5)).texts[0].startswith("You have 10 of 10 files left today.")
    assert (await bot.send("/revoke 5", user=1)).texts == ["User 5 is back on the free plan."]
    assert (await bot.send("/setlimit 5 6", user=1)).texts == ["User 5 may now receive 6 files a day."]
    status = (await bot.send("/quota", user=5)).texts[0]
    assert status.startswith("You have 6 of 6 files left today.\nPlan: free, 6 files a day (set by an admin).")


@pytest.mark.parametrize(("command", "says"), [
    ("/quota ²", "USER_ID must be a Telegram user id from 1 to 9223372036854775807, not '²'."),
    ("/quota ①", "USER_ID must be a Telegram user id from 1 to 9223372036854775807, not '①'."),
    ("/quota 99999999999999999999", "USER_ID must be a Telegram user id from 1 to 9223372036854775807"),
    ("/grant ² 1d", "USER_ID must be a Telegram user id from 1 to 9223372036854775807, not '²'."),
    ("/grant 5 ²d", "DURATION must be a duration from 1m to 3650d"),
    ("/grant 5 99999999999w", "DURATION must be a duration from 1m to 3650d"),
    ("/setlimit 5 ²", "N must be a whole number from 0 to 1000000, not '²'."),
    ("/setlimit 5 99999999999", "N must be a whole number from 0 to 1000000, not '99999999999'."),
    ("/revoke ١٢", "USER_ID must be a Telegram user id from 1 to 9223372036854775807, not '١٢'."),
])  # fmt: skip
async def test_unicode_digits_and_huge_numbers_get_a_clear_line_and_the_usage(make_bot, command, says):
    bot = await quota_bot(make_bot)
    text = (await bot.send(command, user=1)).texts[0]
    assert text.startswith(says) and "\nUsage: /" in text and "Sorry" not in text


async def test_a_grant_says_an_admins_limit_still_wins_over_the_plan(make_bot):
    bot = await quota_bot(make_bot)
    await bot.send("/setlimit 5 2", user=1)
    granted = (await bot.send("/grant 5 7d premium", user=1)).texts[0]
    assert granted.startswith("User 5 has the premium plan until ")
    assert granted.endswith(", but still gets 2 files a day: the limit an admin set wins over the plan's 10. "
                            "/setlimit 5 default gives them the plan's.")
    assert (await bot.send("/quota 5", user=1)).texts[0].startswith("User 5 has 2 of 2 files left today.")
    await bot.send("/setlimit 5 default", user=1)
    assert (await bot.send("/grant 5 7d premium", user=1)).texts[0].startswith(
        "User 5 has the premium plan (10 files a day) until ")


async def test_a_crash_mid_delivery_never_refunds_what_was_sent_and_returns_the_rest(make_bot):
    bot = await quota_bot(make_bot)
    quota = bot.plugin("quota")
    grant = await quota.ledger.reserve(5, 3)
    await quota.ledger.progress(grant.reservation_id, 1)  # the first file went; then the process died
    released = await quota.ledger.reap(now=grant.lease_expires + timedelta(seconds=1))  # the lease ran out
    assert [(r.user_id, r.released) for r in released] == [(5, 2)]
    assert (await bot.send("/quota", user=5)).texts[0].startswith("You have 2 of 3 files left today.")


async def test_the_reaper_loop_returns_an_abandoned_reservation(make_bot):
    clock = FakeClock()
    bot = await quota_bot(make_bot, config=REAPING, clock=clock)
    await bot.plugin("quota").ledger.reserve(6, 3)  # reserved, never settled: a dead process
    # Virtual time passes 30 s at a time: the lease (60 s) and the reaper's interval.
    await eventually(lambda: bot.plugin("quota").ledger.status(6), lambda status: status.left == 3, clock=clock,
                     step=30, deadline=15, what="the reaper to return the reservation")


async def test_send_all_in_search_delivers_what_is_left_and_says_why(make_bot):
    from mediabot_search import SearchPlugin

    bot = await make_bot(plugins=[QuotaPlugin, SearchPlugin], admins=[1],
                         config=CONFIG + '[plugins.search]\nrate = "1000/min"\n')
    await bot.app.files.insert_batch([film(n) for n in range(1, 11)])
    await bot.plugin("search").sync()
    reply = (await bot.send("office hours", user=5)).last
    pressed = await bot.press(reply, "Send all on this page", user=5)
    assert received(bot, 5) == 3
    assert pressed.texts[-1].startswith("Sent 3 of 10: that was what was left of today's 3 files.")


async def test_two_bots_reserving_for_the_same_users_at_once_never_exceed_the_limit(make_bot):
    first, second = await quota_bot(make_bot), await quota_bot(make_bot)  # one deployment, two processes
    ledgers = [first.plugin("quota").ledger, second.plugin("quota").ledger]
    grants = await asyncio.gather(*(ledgers[i % 2].reserve(100 + i % 4, 1 + i % 2) for i in range(200)))
    by_user: dict[int, int] = {}
    for grant in grants:
        by_user[grant.user_id] = by_user.get(grant.user_id, 0) + grant.granted
    assert by_user == {100: 3, 101: 3, 102: 3, 103: 3}  # each user's limit, exactly, across both processes


async def test_a_paused_database_refuses_the_delivery_and_charges_nothing(mongo_factory, make_bot):
    # mongo_factory first: fixtures end in reverse order, so the bot stops before its server does
    # (the other way round, closing the client waits 5 s for a server to end its sessions on).
    server = mongo_factory()
    bot = await quota_bot(make_bot, config=CONFIG + "timeout = 1.0\n",
                          env={"MEDIABOT_MONGO_URI": server.uri})
    server.pause()  # SIGSTOP: the quota database does not answer
    try:
        replies = await bot.send("/get 2", user=5)
    finally:
        server.resume()
    assert received(bot, 5) == 0
    assert replies.texts == [bot.app.section("delivery").refused_text]
    ledger = bot.plugin("quota").ledger
    await ledger.reserve(5, 1)  # the next call that gets through cancels what the paused one may have left
    assert (await ledger.status(5)).used == 1
