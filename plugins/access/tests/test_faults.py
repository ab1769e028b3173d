"""When Telegram cannot answer (both on_error settings), Redis is down, and two processes share one deployment."""

from __future__ import annotations

from access_kit import ADMIN, FILMS, USER, access, join, leave, received, shelf_bot
from pyrogram.errors import ChannelPrivate, ChatAdminRequired

from mediabot.testing import FakeClock, eventually

FILM0 = "Film.0.2019.1080p.mkv"
FILM1 = "Film.1.2019.1080p.mkv"


def films(**keys) -> str:
    return access(f'{{ chat = {FILMS}, label = "Films" }}', **keys)


async def press_file(bot, name: str, user: int = USER):
    shelf = (await bot.send("/shelf", user=user)).last
    return await bot.press(shelf, name, user=user)


async def test_bot_not_admin_with_on_error_open_lets_users_through_and_tells_the_operators_once(make_bot):
    bot = await shelf_bot(make_bot, films(on_error="open"))
    bot.fake.inject("get_chat_member", ChatAdminRequired(), times=None)
    await press_file(bot, FILM0)
    await press_file(bot, FILM1)
    assert received(bot) == [FILM0, FILM1]
    notices = [n for n in bot.app.notices.sent if "Films" in n]
    assert len(notices) == 1, notices  # rate-limited: one notice, not one per user action
    assert "make the bot an administrator" in notices[0] and str(FILMS) in notices[0]
    assert any(m.text == notices[0] for m in bot.replies_to(ADMIN))  # posted to the admins
    health = {r.component: r for r in await bot.app.health()}
    assert health["access.channels"].status == "degraded"


async def test_a_gone_chat_with_on_error_closed_refuses_until_telegram_answers_again(make_bot):
    bot = await shelf_bot(make_bot, films(on_error="closed"))
    bot.fake.set_member(FILMS, USER)
    failing = bot.fake.inject("get_chat_member", ChannelPrivate(), times=None)
    refusal = (await press_file(bot, FILM0)).last
    assert refusal.text == "We cannot check your membership right now. Please try again in a minute."
    assert received(bot) == []
    assert any("peer_invalid" in n or "forbidden" in n for n in bot.app.notices.sent)
    bot.fake.injections.pending.remove(failing)  # Telegram answers again
    await bot.press(refusal, "Try again", user=USER)
    assert received(bot) == [FILM0]


async def test_with_redis_down_each_check_asks_telegram_and_members_still_get_files(make_bot, redis_factory):
    redis = redis_factory()
    bot = await shelf_bot(make_bot, films(), env={"MEDIABOT_REDIS_URL": redis.url})
    bot.fake.set_member(FILMS, USER)
    redis.kill()
    await press_file(bot, FILM0)
    await press_file(bot, FILM1)
    assert received(bot) == [FILM0, FILM1]
    assert len(bot.fake.calls_of("get_chat_member")) == 2  # no cache: Telegram each time


async def test_with_redis_down_and_telegram_failing_on_error_closed_refuses(make_bot, redis_factory):
    redis = redis_factory()
    bot = await shelf_bot(make_bot, films(on_error="closed"), env={"MEDIABOT_REDIS_URL": redis.url})
    bot.fake.set_member(FILMS, USER)
    await press_file(bot, FILM0)  # cached as a member
    redis.kill()
    bot.fake.inject("get_chat_member", ChatAdminRequired(), times=None)
    refused = (await press_file(bot, FILM1)).last
    assert refused.text.startswith("We cannot check your membership")
    assert received(bot) == [FILM0]


async def test_two_processes_share_the_membership_cache_and_a_leave(make_bot):
    clock = FakeClock()
    a = await shelf_bot(make_bot, films(), clock=clock)
    b = await shelf_bot(make_bot, films(), clock=clock)
    await join(a, FILMS)  # process a sees the join update
    await press_file(b, FILM0)
    assert received(b) == [FILM0]
    assert b.fake.calls_of("get_chat_member") == []  # b read a's answer from Redis
    await leave(a, FILMS)
    refused = (await press_file(b, FILM1)).last
    assert refused.text.startswith("To use this bot, join Films")


async def test_two_processes_share_the_maintenance_flag(make_bot):
    clock = FakeClock()
    a = await shelf_bot(make_bot, films(), clock=clock)
    b = await shelf_bot(make_bot, films(), clock=clock)
    await a.send("/maintenance on Back at five.", user=ADMIN)

    async def b_answers():
        return (await b.send("/shelf", user=USER)).texts

    assert await eventually(b_answers, check=lambda t: t == ["Back at five."], what="b in maintenance")
    assert (await b.send("/maintenance", user=ADMIN)).texts == ["Maintenance mode is on: Back at five."]
    await a.send("/maintenance off", user=ADMIN)
    await eventually(b_answers, check=lambda t: t == ["The shelf:"], what="b out of maintenance")
