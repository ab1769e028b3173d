"""Maintenance mode: switched by admins, answered to users, quiet in groups, shown in health."""

from __future__ import annotations

from access_kit import ADMIN, USER, received, shelf_bot

from mediabot.testing import eventually

GROUP = -1004000000004


async def test_an_admin_switches_maintenance_on_and_users_get_the_message_until_off(make_bot):
    bot = await shelf_bot(make_bot, "[plugins.access]\n")
    shelf = (await bot.send("/shelf", user=USER)).last
    assert (await bot.send("/maintenance on Back at five.", user=ADMIN)).texts == [
        "Maintenance mode is on. Users now get: Back at five."]
    assert (await bot.send("/shelf", user=USER)).texts == ["Back at five."]
    pressed = await bot.press(shelf, "Film.0.2019.1080p.mkv", user=USER)
    assert pressed.answer.text == "Back at five." and pressed.answer.alert
    assert received(bot) == []
    answer = await bot.inline("film", user=USER)
    assert [r.text for r in answer.results] == ["Back at five."]
    assert (await bot.send("/shelf", user=ADMIN)).texts == ["The shelf:"]  # admins go on working
    health = {r.component: r for r in await bot.app.health()}
    assert health["access.maintenance"].status == "degraded"
    assert "Back at five." in health["access.maintenance"].detail
    assert (await bot.send("/maintenance off", user=ADMIN)).texts == ["Maintenance mode is off."]
    assert (await bot.send("/shelf", user=USER)).texts == ["The shelf:"]
    assert {r.component: r.status for r in await bot.app.health()}["access.maintenance"] == "ok"


async def test_a_user_cannot_switch_maintenance(make_bot):
    bot = await shelf_bot(make_bot, "[plugins.access]\n")
    assert (await bot.send("/maintenance on", user=USER)).texts == ["This command is for admins only."]
    assert (await bot.send("/shelf", user=USER)).texts == ["The shelf:"]


async def test_without_a_message_users_get_the_default_one_and_it_survives_a_restart(make_bot):
    bot = await shelf_bot(make_bot, "[plugins.access]\n")
    await bot.send("/maintenance on", user=ADMIN)
    await bot.stop()
    again = await shelf_bot(make_bot, "[plugins.access]\n")
    assert (await again.send("/shelf", user=USER)).texts == [
        "The bot is down for maintenance. Please come back in a little while."]


async def test_in_groups_only_commands_and_mentions_get_the_message_once_per_chat(make_bot):
    # The window is Redis's time (shared by every process), so a short one keeps the test short.
    bot = await shelf_bot(make_bot, "[plugins.access]\nmaintenance_group_interval = 3\n")
    bot.fake.add_chat(GROUP, "supergroup", title="Fans")
    await bot.send("/maintenance on Back soon.", user=ADMIN)
    assert (await bot.send("hello everyone", user=USER, chat=GROUP)).texts == []
    assert (await bot.send("/shelf", user=USER, chat=GROUP)).texts == ["Back soon."]
    assert (await bot.send("@mediabot_test_bot dune", user=6, chat=GROUP)).texts == []  # told a moment ago

    async def mention():
        return (await bot.send("@mediabot_test_bot dune", user=6, chat=GROUP)).texts

    assert await eventually(mention, check=lambda t: t == ["Back soon."], what="told again after the window")


async def test_bad_maintenance_arguments_get_the_usage(make_bot):
    bot = await shelf_bot(make_bot, "[plugins.access]\n")
    [reply] = (await bot.send("/maintenance maybe", user=ADMIN)).texts
    assert reply.startswith("Say on (with an optional message) or off.\nUsage: /maintenance")
