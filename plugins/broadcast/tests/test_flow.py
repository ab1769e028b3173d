"""An admin broadcasts a message: preview, confirm, every user gets it once, paced, with a report."""

from __future__ import annotations

import asyncio
import itertools

from pyrogram.errors import FloodWait, InternalServerError

ADMIN = 9


def received(bot, user: int) -> int:
    return len(bot.fake.sent_to(user))


async def job_state(bot):
    job = await bot.plugin("broadcast").store.load()
    return job.state if job else None


async def test_every_user_gets_the_message_once_within_telegrams_limits(deploy, audience, start_broadcast, until):
    bot = await deploy()
    users = await audience(bot, 300)

    message = await bot.fake.user_message(ADMIN, "Big news")
    await bot.settle()
    await bot.app.users.flush()  # the admin wrote: a user too, so 301 in all
    preview = (await bot.send("/broadcast", user=ADMIN, reply_to=message.id)).last
    assert "to 301 users (all active users)" in preview.text
    await bot.press(preview, "Confirm", user=ADMIN)
    report = await final_report(bot, until)

    assert all(received(bot, u) == 1 for u in users)
    assert {m.text for u in users for m in bot.fake.sent_to(u)} == {"Big news"}
    # The fake raises FloodWait the moment a send breaks Telegram's limits: none did.
    copies = bot.fake.calls_of("copy_message")
    assert copies and all(c.ok for c in copies)
    assert "finished" in report
    assert received(bot, ADMIN) >= 1 and len(copies) == 301 and "Sent: 301" in report
    assert "Blocked: 0" in report and "Duration:" in report


async def test_broadcast_not_as_a_reply_starts_nothing(deploy, audience):
    bot = await deploy()
    await audience(bot, 5)

    replies = await bot.send("/broadcast", user=ADMIN)

    assert replies.texts == ["Reply /broadcast to the message you want to send to everyone."]
    assert await bot.plugin("broadcast").store.load() is None


async def test_days_takes_ascii_digits_within_ten_years_and_says_so(deploy, audience):
    bot = await deploy()
    await audience(bot, 5)
    message = await bot.fake.user_message(ADMIN, "News")
    for days in ("99999999999", "²", "0", "days=①"):
        option = days if days.startswith("days=") else f"days {days}"
        text = (await bot.send(f"/broadcast {option}", user=ADMIN, reply_to=message.id)).texts[0]
        shown = days.removeprefix("days=")
        assert text == (f"days must be a whole number from 1 to 3650, not {shown!r}.\n"
                        "Usage: /broadcast [silent] [pin] [days N]")
    assert await bot.plugin("broadcast").store.load() is None


async def test_a_second_broadcast_while_one_runs_is_refused(deploy, audience, start_broadcast, until):
    bot = await deploy()
    await audience(bot, 200)
    await start_broadcast(bot, "First")

    other = await bot.fake.user_message(ADMIN, "Second")
    replies = await bot.send("/broadcast", user=ADMIN, reply_to=other.id)

    # The admin is in the audience too: the first broadcast's copy may arrive among the replies.
    assert any("one at a time" in text for text in replies.texts), replies.texts
    await until(lambda: _done(bot), what="the first broadcast")
    assert all("Second" not in m.text for u in range(1000, 1200) for m in bot.fake.sent_to(u))


async def _done(bot) -> bool:
    return await job_state(bot) in ("done", "cancelled", "failed")


async def final_report(bot, until) -> str:
    """Wait for the report the admin gets at the end, and return it."""

    def report():
        return next((m.text for m in reversed(bot.fake.sent_to(ADMIN)) if m.text and "\nSent: " in m.text), None)

    await until(report, what="the final report")
    return report()


async def test_cancel_on_the_preview_sends_nothing(deploy, audience):
    bot = await deploy()
    await audience(bot, 5)
    message = await bot.fake.user_message(ADMIN, "Oops")
    preview = (await bot.send("/broadcast", user=ADMIN, reply_to=message.id)).last

    replies = await bot.press(preview, "Cancel", user=ADMIN)

    assert replies.texts == ["Broadcast cancelled; nothing was sent."]
    assert all(received(bot, u) == 0 for u in range(1000, 1005))


async def test_silent_pinned_copies_keep_the_buttons_and_skip_inactive_users(deploy, audience, start_broadcast,
                                                                             until):
    bot = await deploy()
    recent = await audience(bot, 10)
    old = await audience(bot, 5, first=5000, days_ago=90)
    source = await bot.fake.user_message(ADMIN, "Sale")
    # The admin's message carries buttons (e.g. forwarded from a channel post with a link).
    from pyrogram import types as pt
    stored = bot.fake.chats.get(ADMIN, source.id)
    stored.raw.reply_markup = await pt.InlineKeyboardMarkup(
        [[pt.InlineKeyboardButton("Shop", url="https://example.com")]]).write(bot.fake.world.client)
    await bot.fake.chats.reparse(stored)

    await bot.settle()
    preview = (await bot.send("/broadcast silent pin days 30", user=ADMIN, reply_to=source.id)).last
    # 10 users, and the admin, who just wrote (a sighting not yet written by the batch is counted).
    assert "to 11 users (users active in the last 30 days), silent, pinned" in preview.text
    await bot.press(preview, "Confirm", user=ADMIN)
    await until(lambda: _done(bot), what="the broadcast")

    for u in recent:
        [copy] = bot.fake.sent_to(u)
        assert copy.keyboard[0][0].text == "Shop"
        assert (u, copy.id) in bot.fake.silent
        assert bot.fake.pinned[u] == [copy.id]
    assert all(received(bot, u) == 0 for u in old)


async def test_blocked_and_deactivated_users_are_marked_and_a_transient_error_marks_no_one(
        deploy, audience, start_broadcast, until):
    bot = await deploy()
    users = await audience(bot, 20)
    bot.fake.block(users[0])
    bot.fake.block(users[1])
    bot.fake.deactivate(users[2])
    # Telegram fails every attempt for this user (the gateway retries, then gives up).
    bot.fake.inject("copy_message", InternalServerError, times=None, chat_id=users[3])

    await start_broadcast(bot, "Hello")
    report = await final_report(bot, until)

    statuses = {d["_id"]: d["status"] async for d in bot.app.users.collection.find({})}
    assert statuses[users[0]] == statuses[users[1]] == "blocked"
    assert statuses[users[2]] == "deactivated"
    assert statuses[users[3]] == "active"  # a transient failure is no reason to drop anyone
    assert all(received(bot, u) == 1 for u in users[4:])
    assert "Sent: 17" in report and "Blocked: 2" in report and "Deactivated: 1" in report and "Failed: 1" in report


async def test_a_floodwait_mid_broadcast_loses_nothing_sends_nothing_twice_and_slows_down(
        deploy, audience, start_broadcast, until):
    bot = await deploy()
    users = await audience(bot, 200)
    bot.fake.inject("copy_message", FloodWait(value=5), after=60)

    await start_broadcast(bot, "Hello")
    await until(lambda: _done(bot), what="the broadcast")

    assert all(received(bot, u) == 1 for u in users)
    assert any(not c.ok for c in bot.fake.calls_of("copy_message"))  # the FloodWait did happen
    # The broadcast slowed down (how it recovers is tested on StepRate, in virtual time).
    assert bot.plugin("broadcast").runner.rate.steps_down >= 1


async def test_pause_resume_and_cancel(deploy, audience, start_broadcast, until):
    bot = await deploy()
    users = await audience(bot, 300)
    await start_broadcast(bot, "Hello")
    await until(lambda: sum(received(bot, u) for u in users) >= 50, what="50 sends")

    paused = await bot.send("/broadcast_pause", user=ADMIN)
    assert any(t.startswith("Broadcast") and "pausing" in t for t in paused.texts)
    await until(lambda: not bot.plugin("broadcast").running_here, what="the runner to stop")
    at_pause = sum(received(bot, u) for u in users)
    await bot.clock.sleep(30)  # virtual: nothing more goes out while paused
    assert sum(received(bot, u) for u in users) == at_pause
    assert any(": paused" in t for t in (await bot.send("/broadcast_status", user=ADMIN)).texts)

    assert any("resumed" in t for t in (await bot.send("/broadcast_resume", user=ADMIN)).texts)
    await until(lambda: sum(received(bot, u) for u in users) >= at_pause + 50, what="50 more sends")
    assert any(t.endswith("cancelled.") for t in (await bot.send("/broadcast_cancel", user=ADMIN)).texts)
    assert "cancelled" in await final_report(bot, until)
    at_cancel = sum(received(bot, u) for u in users)
    await bot.clock.sleep(30)
    assert sum(received(bot, u) for u in users) == at_cancel < 300
    assert all(received(bot, u) <= 1 for u in users)


def paused_notes(bot) -> list[str]:
    return [m.text for m in bot.fake.sent_to(ADMIN) if m.text and " paused at " in m.text]


async def test_a_pause_says_pausing_then_tells_the_final_count_once_it_is_paused(deploy, audience,
                                                                                 start_broadcast, until):
    bot = await deploy()
    users = await audience(bot, 300)
    await start_broadcast(bot, "Hello")
    await until(lambda: sum(received(bot, u) for u in users) >= 40, what="40 sends")

    reply = (await bot.send("/broadcast_pause", user=ADMIN)).texts
    assert len(reply) == 1 and " pausing: the sends under way finish first; you will get the final count " \
        "once it is paused." in reply[0]
    assert " paused at " not in reply[0]
    await until(lambda: paused_notes(bot), what="the final count")
    copied = sum(1 for c in bot.fake.calls_of("copy_message") if c.ok)  # the admin is in the audience too
    job = await bot.plugin("broadcast").store.load()
    assert paused_notes(bot) == [f"Broadcast {job.id} paused at {copied}/301. /broadcast_resume"]
    at_pause = copied
    await bot.clock.sleep(30)  # virtual: nothing more goes out, and nothing more is said
    assert sum(1 for c in bot.fake.calls_of("copy_message") if c.ok) == at_pause and len(paused_notes(bot)) == 1
    status = (await bot.send("/broadcast_status", user=ADMIN)).texts[0]
    assert f"paused (by an admin) - {at_pause}/301" in status


async def test_a_pause_while_the_last_sends_are_under_way_stays_a_pause_until_resumed(
        deploy, audience, start_broadcast, until, monkeypatch):
    bot = await deploy()
    users = await audience(bot, 5)
    gate, copy = asyncio.Event(), bot.fake.copy_message

    async def held_copy(chat_id, *args, **kwargs):
        if chat_id != ADMIN:  # the admin's chat stays free for the commands' answers
            await gate.wait()  # every other send is under way when the admin pauses
        return await copy(chat_id, *args, **kwargs)

    monkeypatch.setattr(bot.fake, "copy_message", held_copy)
    await start_broadcast(bot, "Last")
    store = bot.plugin("broadcast").store
    job = await store.load()
    await until(lambda: _claimed_all(store, job.id, 6), what="the whole audience claimed")
    assert any(" pausing: " in t for t in (await bot.send("/broadcast_pause", user=ADMIN)).texts)
    gate.set()
    await until(lambda: paused_notes(bot), what="the paused message")
    assert paused_notes(bot) == [f"Broadcast {job.id} paused at 6/6. /broadcast_resume"]
    assert await job_state(bot) == "paused" and reports(bot) == []

    await bot.send("/broadcast_resume", user=ADMIN)
    assert "finished" in await final_report(bot, until)
    assert all(received(bot, u) == 1 for u in users)


async def _claimed_all(store, job_id: str, n: int) -> bool:
    return await store.claimed_count(job_id) == n


async def test_blocked_and_deactivated_users_are_left_out_of_the_next_broadcast(deploy, audience, start_broadcast,
                                                                                until):
    bot = await deploy()
    users = await audience(bot, 20)
    bot.fake.block(users[0])
    bot.fake.deactivate(users[1])
    # Every attempt of the first broadcast to this user fails (1 + the gateway's 3 retries).
    bot.fake.inject("copy_message", InternalServerError, times=4, chat_id=users[2])
    await start_broadcast(bot, "First")
    assert "Failed: 1" in await final_report(bot, until)
    attempts = len(bot.fake.calls_of("copy_message"))

    started = await start_broadcast(bot, "Second")

    assert started.text.endswith(f"/{21 - 2}.")  # the admin and 20 users, minus the two marked
    await until(lambda: len(reports(bot)) == 2, what="the second report")
    second = bot.fake.calls_of("copy_message")[attempts:]
    assert {c.params["chat_id"] for c in second}.isdisjoint({users[0], users[1]})  # not even tried
    assert [m.text for m in bot.fake.sent_to(users[2])] == ["Second"]  # the transient failure marked no one
    assert all([m.text for m in bot.fake.sent_to(u)] == ["First", "Second"] for u in users[3:])
    assert "Sent: 19" in reports(bot)[-1] and "Blocked: 0" in reports(bot)[-1]


def reports(bot) -> list[str]:
    return [m.text for m in bot.fake.sent_to(ADMIN) if m.text and "\nSent: " in m.text]


def slowed_reads(bot, monkeypatch, seconds: float) -> list[int]:
    """Every read of the audience takes ``seconds`` (virtual); returns the sizes asked for."""
    iter_active_ids = bot.app.users.iter_active_ids
    sizes: list[int] = []

    async def slow_ids(**kwargs):
        sizes.append(kwargs["batch"])
        await bot.clock.sleep(seconds)
        async for uid in iter_active_ids(**kwargs):
            yield uid

    monkeypatch.setattr(bot.app.users, "iter_active_ids", slow_ids)
    return sizes


def pauses(bot, users, longer_than: float) -> list[float]:
    times = [c.at for c in bot.fake.calls_of("copy_message") if c.params["chat_id"] in users]
    return [b - a for a, b in itertools.pairwise(times) if b - a > longer_than]


async def test_a_slow_catalogue_read_does_not_pause_the_broadcast(deploy, audience, start_broadcast, until,
                                                                  monkeypatch):
    # Pages of 100 audience ids; each read takes 2 s, the time 40 sends take at the default 20/s.
    monkeypatch.setattr("mediabot_broadcast.runner.READ_AHEAD", 100)
    bot = await deploy()
    users = await audience(bot, 350)
    reads = slowed_reads(bot, monkeypatch, 2.0)
    await start_broadcast(bot, "Hello")
    await until(lambda: _done(bot), what="the broadcast")

    assert all(received(bot, u) == 1 for u in users)
    assert len(reads) >= 3
    # The next page is read while the one before is sent (from when 50 ids are left: 2.5 s).
    assert pauses(bot, users, 1.0) == []


async def test_a_catalogue_read_slower_than_a_page_grows_the_pages_until_sends_do_not_wait(
        deploy, audience, start_broadcast, until, monkeypatch):
    # Pages of 10 ids last 0.5 s at 20/s; each read takes 2 s.
    monkeypatch.setattr("mediabot_broadcast.runner.READ_AHEAD", 10)
    bot = await deploy()
    users = await audience(bot, 600)
    reads = slowed_reads(bot, monkeypatch, 2.0)
    await start_broadcast(bot, "Hello")
    await until(lambda: _done(bot), what="the broadcast")

    assert all(received(bot, u) == 1 for u in users)
    assert reads[:4] == [10, 20, 40, 80] and len(reads) <= 8
    # Only the first pages, shorter than a read, leave the senders waiting.
    assert len(pauses(bot, users, 1.0)) <= 3
