"""Commands as users type them: arguments, usage lines, unknown commands, groups, failures."""

from __future__ import annotations

import logging

USER = 1
GROUP = -1001000000001


async def test_arguments_reach_the_handler_shell_split(tools_bot):
    bot = await tools_bot()
    assert (await bot.send('/echo "the matrix" 1999', user=USER)).texts == ['"the matrix" 1999']
    assert bot.plugin("tools").ran == [("echo", USER, ("the matrix", "1999"))]


async def test_an_alias_runs_the_same_command(tools_bot):
    bot = await tools_bot()
    assert (await bot.send("/say hi", user=USER)).texts == ["hi"]


async def test_missing_required_arguments_get_the_usage_line(tools_bot):
    bot = await tools_bot()
    assert (await bot.send("/echo", user=USER)).texts == ["Usage: /echo TEXT"]
    assert bot.plugin("tools").ran == []


async def test_wrong_arguments_raised_by_the_handler_get_the_usage_line(tools_bot):
    bot = await tools_bot()
    assert (await bot.send("/sum 1 x", user=USER)).texts == ["A and B must be two numbers.\nUsage: /sum A B"]
    assert (await bot.send("/sum 1 2", user=USER)).texts == ["3"]


async def test_an_unknown_command_gets_the_configured_reply(tools_bot):
    bot = await tools_bot()
    assert (await bot.send("/nope", user=USER)).texts == ["Unknown command. Send /help for the list."]
    quiet = await tools_bot(config='[bot]\nunknown_command_reply = ""\n')
    assert (await quiet.send("/nope", user=USER)).texts == []


async def test_an_unknown_command_in_a_group_gets_no_answer(tools_bot):
    bot = await tools_bot()
    assert (await bot.send("/nope", user=USER, chat=GROUP)).texts == []


async def test_in_groups_commands_for_another_bot_are_ignored(tools_bot):
    bot = await tools_bot()
    assert (await bot.send("/echo@some_other_bot hi", user=USER, chat=GROUP)).texts == []
    assert (await bot.send("/echo@mediabot_test_bot hi", user=USER, chat=GROUP)).texts == ["hi"]
    assert (await bot.send("/echo hi", user=USER, chat=GROUP)).texts == ["hi"]


async def test_a_private_only_command_says_so_in_a_group(tools_bot):
    bot = await tools_bot()
    assert (await bot.send("/dm", user=USER, chat=GROUP)).texts == \
        ["This command works in a private chat with the bot."]
    assert (await bot.send("/dm", user=USER)).texts == ["just between us"]


async def test_a_failing_handler_apologises_and_the_bot_keeps_working(tools_bot, caplog):
    bot = await tools_bot()
    with caplog.at_level(logging.ERROR):
        replies = await bot.send("/boom", user=USER)
    assert replies.texts == ["Sorry, something went wrong. Please try again later."]
    assert "plugin tools failed in /boom: RuntimeError: the handler broke" in caplog.text
    assert bot.app.metrics.value("mediabot_plugin_errors_total", {"plugin": "tools", "hook": "/boom"}) == 1
    assert (await bot.send("/echo still here", user=USER)).texts == ["still here"]
    assert (await bot.send("/echo me too", user=2)).texts == ["me too"]


async def test_text_that_is_not_a_command_goes_to_the_plugins(make_bot):
    from mediabot import Message, PluginMeta, hookimpl

    class Listener:
        meta = PluginMeta(name="listener", description="Keeps what it hears.")

        def __init__(self, ctx):
            self.heard: list[str] = []

        @hookimpl
        def mediabot_update(self, update):
            if isinstance(update, Message):
                self.heard.append(update.text)

    bot = await make_bot(plugins=[Listener])
    await bot.send("/usr/bin/env is a path", user=USER)
    await bot.send("the matrix", user=USER)
    await bot.send("/help", user=USER)
    assert bot.plugin("listener").heard == ["/usr/bin/env is a path", "the matrix"]


async def test_a_session_keeps_a_users_state_between_commands(tools_bot):
    bot = await tools_bot()
    assert (await bot.send("/remember buy popcorn", user=USER)).texts == ["noted"]
    assert (await bot.send("/recall", user=USER)).texts == ["buy popcorn"]
    assert (await bot.send("/recall", user=2)).texts == ["nothing noted"]


async def test_a_banned_user_is_told_once_then_gets_no_answer(tools_bot):
    bot = await tools_bot()  # the catalogue's /ban (an admin command) fills the list the dispatcher checks
    assert (await bot.send(f"/ban {USER}", user=100)).texts
    assert (await bot.send("/echo anyone there?", user=USER)).texts == ["You are banned from using this bot."]
    assert (await bot.send("/echo again?", user=USER)).texts == []  # once a day, not once a message
    assert (await bot.send("/nope", user=USER)).texts == []
    assert (await bot.send("/echo still fine", user=2)).texts == ["still fine"]
