"""Messages no user account sent: a channel posting in a group, an anonymous admin, a channel post.

Who they are (docs/architecture.md, "Who sent it"): the chat they were sent
as. Bans and rate limits apply to that chat's id; commands need a user
account; ``Message.command`` is the dispatcher's own parse.
"""

from __future__ import annotations

import re
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st
from pyrogram import enums
from pyrogram import types as pt

from mediabot import Chat, Command, Message, PluginMeta, User, hookimpl
from mediabot.core.dispatch import NO_ACCOUNT, parse_command
from mediabot.core.telegram.convert import message_from_pyrogram

GROUP = -1001000000001
CHANNEL = -1001000000002
SLOW_DOWN = re.compile(r"Slow down: try again in \d+ s\.")


class Listener:
    """``/echo`` and ``/secret``; records what ran and what reached ``mediabot_update``."""

    meta = PluginMeta(name="listener", description="Records what reaches mediabot_update.")

    def __init__(self, ctx):
        self.seen: list[Message] = []
        self.ran: list[str] = []

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="echo", description="Repeat", usage="TEXT", handler=self.echo),
                Command(name="secret", description="Hidden", hidden=True, handler=self.secret)]

    @hookimpl
    def mediabot_update(self, update):
        if isinstance(update, Message):
            self.seen.append(update)

    async def echo(self, ctx):
        self.ran.append("echo")
        await ctx.reply(ctx.args)

    async def secret(self, ctx):
        self.ran.append("secret")
        await ctx.reply("found it")


def as_chat(text: str, *, sender: int, sender_type: enums.ChatType, message_id: int = 1) -> Message:
    """A group message sent as chat ``sender``, as pyrogram hands it, through the real conversion."""
    message = message_from_pyrogram(pt.Message(
        id=message_id, date=datetime.now(), text=text,
        chat=pt.Chat(id=GROUP, type=enums.ChatType.SUPERGROUP, title="Group"),
        sender_chat=pt.Chat(id=sender, type=sender_type, title="Sender")))
    assert message is not None and message.from_user is None
    return message


async def deliver(bot, message: Message) -> list[str]:
    """Hand ``message`` to the bot; what it said in the group."""
    before = len(bot.fake.sent_to(GROUP))
    bot.app.submit(message)
    await bot.settle()
    return [m.text for m in bot.fake.sent_to(GROUP)[before:]]


async def test_a_banned_channel_posting_in_a_group_as_itself_is_refused(make_bot):
    bot = await make_bot(plugins=[Listener])
    bot.fake.add_chat(GROUP, "supergroup", title="Group")
    await bot.app.users.ban(CHANNEL, reason="spam")
    for i, text in enumerate(["buy now", "/echo buy now", "/secret"]):
        assert await deliver(bot, as_chat(text, sender=CHANNEL, sender_type=enums.ChatType.CHANNEL,
                                          message_id=i + 1)) == []
    assert bot.plugin("listener").seen == [] and bot.plugin("listener").ran == []
    # Not banned, the same channel is heard (attributed to its own id) but runs no command.
    other = CHANNEL - 1
    heard = as_chat("hello", sender=other, sender_type=enums.ChatType.CHANNEL, message_id=9)
    assert await deliver(bot, heard) == []
    assert [m.sender_id for m in bot.plugin("listener").seen] == [other]
    assert await deliver(bot, as_chat("/echo hi", sender=other, sender_type=enums.ChatType.CHANNEL,
                                      message_id=10)) == [NO_ACCOUNT]
    assert bot.plugin("listener").ran == []


async def test_an_anonymous_admin_is_the_group(make_bot):
    bot = await make_bot(plugins=[Listener])
    bot.fake.add_chat(GROUP, "supergroup", title="Group")
    anonymous = as_chat("hello", sender=GROUP, sender_type=enums.ChatType.SUPERGROUP)
    assert anonymous.sender_id == GROUP
    await deliver(bot, anonymous)
    assert len(bot.plugin("listener").seen) == 1
    await bot.app.users.ban(GROUP)
    await deliver(bot, as_chat("hello again", sender=GROUP, sender_type=enums.ChatType.SUPERGROUP, message_id=2))
    assert len(bot.plugin("listener").seen) == 1


async def test_a_channel_sender_is_rate_limited_on_its_own_id(make_bot):
    bot = await make_bot(plugins=[Listener], config='[services]\nuser_rate = "3/min"\n')
    bot.fake.add_chat(GROUP, "supergroup", title="Group")
    said = [await deliver(bot, as_chat("/echo hi", sender=CHANNEL, sender_type=enums.ChatType.CHANNEL,
                                       message_id=i + 1)) for i in range(12)]
    answered = [s for s in said if s]
    assert answered[:3] == [[NO_ACCOUNT]] * 3 and len(answered) == 4 and SLOW_DOWN.match(answered[3][0])
    # A user in the same group has a rate of their own.
    assert (await bot.send("/echo mine", user=5, chat=GROUP)).texts == ["mine"]


async def test_a_channel_post_command_reaches_plugins_parsed_as_the_dispatcher_parses_it(make_bot):
    bot = await make_bot(plugins=[Listener])
    posts = {"/secret": ("secret", ""), "/Secret@SomeBot  the  args ": ("secret", "the  args"),
             "/usr/bin/env": None, "/ secret": None, "/secret\nnext line": ("secret", "next line")}
    for text in posts:
        await bot.post(CHANNEL, text)
    seen = bot.plugin("listener").seen
    assert [m.text for m in seen] == list(posts)
    assert [m.command for m in seen] == list(posts.values())
    assert all(m.sender_id == CHANNEL for m in seen)
    assert bot.fake.sent_to(CHANNEL) == [] and bot.plugin("listener").ran == []  # never run as a command


@given(st.text(max_size=80) | st.from_regex(r"/[A-Za-z0-9_]{1,33}(@[A-Za-z0-9_]{0,65})?(\s.{0,20})?", fullmatch=True))
def test_message_command_is_the_dispatchers_parse(text):
    parsed = parse_command(text)
    message = Message(id=1, chat=Chat(id=CHANNEL, type="channel"), date=0, text=text)
    assert message.command == (None if parsed is None else (parsed[0], parsed[2]))



async def test_a_chat_of_kind_bot_is_private_everywhere_in_the_dispatcher(make_bot):
    """Telegram's "bot" chat kind is a one-to-one chat: answered as a private chat, in every step."""
    bot = await make_bot(plugins=[Listener])
    calls = len(bot.fake.calls)
    dm = Message(id=7, chat=Chat(id=77, type="bot"), date=0, text="/nonexistent",
                 from_user=User(id=77, first_name="U"))
    bot.app.submit(dm)
    await bot.settle()
    sent = [c for c in bot.fake.calls[calls:] if c.method == "send_message"]
    assert [c.params.get("text") for c in sent] == ["Unknown command. Send /help for the list."]
    assert sent[0].params.get("reply_parameters") is None  # private: no quote of the user's message
