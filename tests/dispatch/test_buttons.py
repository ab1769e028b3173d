"""Button presses: signed data checked before any plugin sees it."""

from __future__ import annotations

import logging

USER, ADMIN = 1, 100
EXPIRED = "This button has expired."


async def counter(bot, user=USER):
    return (await bot.send("/counter", user=user)).last


async def test_a_press_runs_the_handler_with_the_button_arguments(tools_bot):
    bot = await tools_bot()
    msg = await counter(bot)
    pressed = await bot.press(msg, "+1", user=USER)
    assert pressed.texts == ["count 1"] and pressed.answer.text == "now 1"
    again = await bot.press(msg, "+1", user=USER)
    assert again.texts == ["count 2"]
    assert bot.plugin("tools").ran == [("count", USER, ("1",)), ("count", USER, ("2",))]


async def test_a_forged_press_is_answered_expired_and_runs_nothing(tools_bot):
    bot = await tools_bot()
    msg = await counter(bot)
    good = bot.button(msg, "+1").callback
    for data in ("tools.count|99", good.replace("|1|", "|99|"), good[:-3], good[:20], "v1|tools.count|99|u0|AAAAAAAAAAAA"):
        pressed = await bot.press(msg, data=data, user=USER)
        assert pressed == [] and pressed.answer.text == EXPIRED, data
    assert bot.plugin("tools").ran == []
    assert bot.fake.message(msg.chat.id, msg.id).text == "count 0"
    assert bot.app.metrics.value("mediabot_callbacks_refused_total", {"reason": "forged"}) >= 3


async def test_a_button_pressed_by_another_user_is_expired_for_them(tools_bot):
    bot = await tools_bot()
    msg = await counter(bot, user=USER)
    # Another user replays the exact data of USER's button (e.g. forwarded message, modified client).
    data = bot.button(msg, "+1").callback
    pressed = await bot.press(msg, data=data, user=2)
    assert pressed.answer.text == EXPIRED and bot.plugin("tools").ran == []


async def test_an_unbound_button_works_for_anyone(tools_bot):
    bot = await tools_bot()
    msg = await counter(bot, user=USER)
    pressed = await bot.press(msg, "Anyone", user=2)
    assert pressed.texts == ["count 5"]


async def test_a_press_the_handler_does_not_answer_is_answered_silently(tools_bot):
    bot = await tools_bot()
    msg = await counter(bot)
    pressed = await bot.press(msg, "Quiet", user=USER)
    assert pressed.answer is not None and pressed.answer.text is None  # the spinner stops
    assert bot.plugin("tools").ran == [("quiet", USER, ())]


async def test_an_admin_button_refuses_users(tools_bot, caplog):
    bot = await tools_bot()
    msg = await counter(bot, user=USER)
    with caplog.at_level(logging.WARNING, logger="mediabot.dispatch"):
        pressed = await bot.press(msg, "Nuke", user=USER)
    assert pressed.answer.text == "This button is for admins only." and pressed.answer.alert
    assert "refused button tools.nuke to user 1" in caplog.text
    admin_msg = await counter(bot, user=ADMIN)
    assert (await bot.press(admin_msg, "Nuke", user=ADMIN)).answer.text == "nuked"
    assert bot.plugin("tools").ran == [("nuke", ADMIN, ())]


async def test_a_failing_button_handler_apologises(tools_bot):
    bot = await tools_bot()
    msg = await counter(bot)
    pressed = await bot.press(msg, "Crash", user=USER)
    assert pressed.answer.text == "Sorry, something went wrong. Please try again later."
    assert bot.app.metrics.value("mediabot_plugin_errors_total",
                                 {"plugin": "tools", "hook": "button:tools.crash"}) == 1
    assert (await bot.press(msg, "+1", user=USER)).texts == ["count 1"]


async def test_buttons_of_another_bot_instance_with_another_secret_are_expired(tools_bot):
    first = await tools_bot(env={"MEDIABOT_CALLBACK_SECRET": "first secret, long enough"})
    second = await tools_bot(env={"MEDIABOT_CALLBACK_SECRET": "second secret, long enough"})
    data = first.button(await counter(first), "+1").callback
    msg = await counter(second)
    assert (await second.press(msg, data=data, user=USER)).answer.text == EXPIRED
