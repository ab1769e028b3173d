"""Roles: who may run what, what /help shows and which menu Telegram shows whom."""

from __future__ import annotations

import logging

USER, ADMIN, OWNER = 1, 100, 200  # as set by the tools_bot fixture


async def test_a_user_calling_an_admin_command_is_refused_and_the_attempt_is_logged(tools_bot, caplog):
    bot = await tools_bot()
    with caplog.at_level(logging.WARNING, logger="mediabot.dispatch"):
        replies = await bot.send("/kick 42", user=USER)
    assert replies.texts == ["This command is for admins only."]
    assert bot.plugin("tools").ran == []
    assert "refused /kick to user 1: needs role admin, has user" in caplog.text
    assert bot.app.metrics.value("mediabot_commands_refused_total", {"command": "kick", "reason": "role"}) == 1


async def test_an_admin_runs_admin_commands_but_not_owner_ones(tools_bot):
    bot = await tools_bot()
    assert (await bot.send("/kick 42", user=ADMIN)).texts == ["kicked 42"]
    assert (await bot.send("/shutdown", user=ADMIN)).texts == ["This command is for the bot owner only."]
    assert (await bot.send("/shutdown", user=OWNER)).texts == ["shutting down (not really)"]
    assert (await bot.send("/kick 7", user=OWNER)).texts == ["kicked 7"]
    assert bot.plugin("tools").ran == [("kick", ADMIN, ()), ("shutdown", OWNER, ()), ("kick", OWNER, ())]


def menu_names(menu: list[tuple[str, str]]) -> list[str]:
    return [name for name, _ in menu]


async def test_menus_differ_by_scope(tools_bot):
    bot = await tools_bot()
    users = menu_names(bot.fake.commands_for("all_private_chats"))
    assert users == menu_names(bot.fake.commands_for("default"))
    assert {"start", "help", "echo", "counter"} <= set(users)
    assert not {"kick", "shutdown", "secret", "say"} & set(users)
    # Other kernel plugins may add admin commands; what matters is who gets which.
    admin = set(menu_names(bot.fake.commands_for(ADMIN)))
    assert set(users) < admin and "kick" in admin and "shutdown" not in admin
    owner = set(menu_names(bot.fake.commands_for(OWNER)))
    assert owner == admin | {"shutdown"}
    assert dict(bot.fake.commands_for(ADMIN))["kick"] == "Kick a user"


async def test_help_shows_what_the_caller_may_use(tools_bot):
    bot = await tools_bot()
    user_help = (await bot.send("/help", user=USER)).last.text
    assert "/echo TEXT - Repeat the text" in user_help and "/sum A B - Add two numbers" in user_help
    assert "Admin commands" not in user_help and "/kick" not in user_help
    assert "/secret" not in user_help and "/say" not in user_help
    admin_help = (await bot.send("/help", user=ADMIN)).last.text
    assert admin_help.startswith(user_help + "\n\nAdmin commands:\n")
    assert "/kick USER_ID - Kick a user" in admin_help and "/shutdown" not in admin_help
    owner_help = (await bot.send("/help", user=OWNER)).last.text
    assert "/kick USER_ID" in owner_help and "/shutdown - Stop the bot (owner only)" in owner_help


async def test_help_in_a_group_lists_what_works_there(tools_bot):
    bot = await tools_bot()
    group_help = (await bot.send("/help", user=USER, chat=-1001000000001)).last.text
    assert "/echo" in group_help and "/dm" not in group_help


async def test_start_greets_with_the_bot_name_and_points_to_help(tools_bot):
    bot = await tools_bot(config='[bot]\nname = "Cinema"\n')
    assert (await bot.send("/start", user=USER)).texts == ["Hi User1! I am Cinema.\nSend /help to see the commands."]
