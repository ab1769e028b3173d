"""The bot harness: a real app on the fake Telegram, driven as a user."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from mediabot import (
    Button,
    Callback,
    ChatMemberUpdated,
    Command,
    InlineQuery,
    InlineResult,
    Message,
    PluginMeta,
    PreCheckoutQuery,
    hookimpl,
)
from mediabot.testing import FakeFile


class Echo:
    """Echoes text, pages with a button, answers inline queries, keeps channel posts."""

    meta = PluginMeta(name="echo", description="Echoes.")

    def __init__(self, ctx):
        self.posts: list[Message] = []

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="pages", description="Page through", handler=self.pages)]

    @hookimpl
    def mediabot_callbacks(self):
        return [Callback(action="echo.page", handler=self.page)]

    async def pages(self, ctx):
        await ctx.reply("page 1", keyboard=[[ctx.button("Next ▶", "echo.page", 2)]])

    async def page(self, ctx):
        n = int(ctx.args[0])
        await ctx.edit(f"page {n}", keyboard=[[ctx.button("Next ▶", "echo.page", n + 1)]])
        await ctx.answer(f"showing page {n}")

    @hookimpl
    async def mediabot_update(self, app, update):
        tg = app.telegram
        if isinstance(update, Message) and update.chat.type == "channel":
            self.posts.append(update)
        elif isinstance(update, Message) and update.text and not update.text.startswith("/"):
            await tg.send_text(update.chat.id, f"you said: {update.text}")
        elif isinstance(update, InlineQuery):
            await tg.answer_inline(update.id, [InlineResult(id="1", title=update.query.upper(),
                                                            text=f"found {update.query}")])


async def test_a_message_gets_its_reply(make_bot):
    bot = await make_bot(plugins=[Echo])
    replies = await bot.send("hello there", user=42)
    assert replies.texts == ["you said: hello there"]
    assert bot.replies_to(42) == list(replies)


async def test_pressing_a_button_edits_the_message_and_answers(make_bot):
    bot = await make_bot(plugins=[Echo])
    first = (await bot.send("/pages", user=7)).last
    pressed = await bot.press(first, "Next ▶", user=7)
    assert pressed.texts == ["page 2"] and pressed.answer.text == "showing page 2"
    # The button on the edited message goes on from there.
    again = await bot.press(first, "Next ▶", user=7)
    assert again.texts == ["page 3"]


async def test_a_press_with_made_up_data_changes_nothing(make_bot):
    bot = await make_bot(plugins=[Echo])
    first = (await bot.send("/pages", user=7)).last
    forged = await bot.press(first, data="echo.page|99", user=7)
    assert forged == [] and forged.answer is not None
    assert bot.fake.message(first.chat.id, first.id).text == "page 1"


async def test_inline_query_is_answered(make_bot):
    bot = await make_bot(plugins=[Echo])
    answer = await bot.inline("dune", user=3)
    assert [r.title for r in answer.results] == ["DUNE"]
    assert answer.results[0].text == "found dune"


async def test_channel_post_reaches_plugins_with_its_file(make_bot):
    bot = await make_bot(plugins=[Echo])
    post = await bot.post(-1001234567890, media=FakeFile(file_name="Dune.2021.2160p.mkv", duration=9360),
                          caption="Dune (2021)")
    seen = bot.plugin("echo").posts
    assert seen == [post]
    assert post.media.kind == "video" and post.media.file_name == "Dune.2021.2160p.mkv"
    assert post.media.file_unique_id == FakeFile(file_name="Dune.2021.2160p.mkv", duration=9360).file_unique_id


class Greeter:
    """A configurable command plugin with an admin-only command."""

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        """:param greeting: what to say."""

        greeting: str = "hello"

    meta = PluginMeta(name="greeter", description="Greets.", config=Config)

    def __init__(self, ctx):
        self.config = ctx.config
        self.files: list[Message] = []

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="greet", description="Greet", handler=self.greet),
                Command(name="secret", description="Admins only", handler=self.secret, role="admin")]

    async def greet(self, ctx):
        await ctx.reply(f"{self.config.greeting}, {ctx.user.first_name}")

    async def secret(self, ctx):
        await ctx.reply("the secret")

    @hookimpl
    async def mediabot_update(self, update):
        if isinstance(update, Message) and update.media is not None:
            self.files.append(update)


class Stuck:
    meta = PluginMeta(name="stuck", description="Never answers.")

    def __init__(self, ctx):
        pass

    @hookimpl
    async def mediabot_update(self):
        await asyncio.Event().wait()


async def test_config_text_reaches_the_plugin(make_bot):
    bot = await make_bot(plugins=[Greeter], config="""
        [plugins.greeter]
        greeting = "ahoy"
    """)
    assert (await bot.send("/greet", user=5)).texts == ["ahoy, User5"]


async def test_admins_are_set_from_the_harness(make_bot):
    bot = await make_bot(plugins=[Greeter], admins=[1])
    assert (await bot.send("/secret", user=1)).texts == ["the secret"]
    assert (await bot.send("/secret", user=2)).texts != ["the secret"]


async def test_group_messages_are_answered_in_the_group(make_bot):
    bot = await make_bot(plugins=[Greeter])
    group = -1001300000001
    replies = await bot.send("/greet", user=8, chat=group)
    assert replies.texts == ["hello, User8"]
    assert replies.last.chat.id == group and bot.replies_to(8) == []


async def test_users_send_files(make_bot):
    bot = await make_bot(plugins=[Greeter])
    await bot.send("my upload", user=4, file="Holiday.2019.mp4")
    (got,) = bot.plugin("greeter").files
    assert got.caption == "my upload" and got.media.kind == "video" and got.from_user.id == 4


async def test_the_bot_runs_on_the_real_servers(make_bot):
    bot = await make_bot(plugins=[Greeter])
    assert bot.app.redis is not None and bot.app.mongo is not None
    assert await bot.app.redis.ping()


async def test_a_bot_that_never_finishes_fails_the_test_with_what_is_stuck(make_bot):
    bot = await make_bot(plugins=[Stuck], config="[runtime]\nshutdown_deadline = 0.1\n", timeout=0.3)
    with pytest.raises(AssertionError, match=r"still busy.*update:Message"):
        await bot.send("hello", user=1)


async def test_link_buttons_cannot_be_pressed(make_bot):
    bot = await make_bot(plugins=[Greeter])
    sent = await bot.gateway.send_text(3, "see", keyboard=[[Button(text="Site", url="https://example.org")]])
    with pytest.raises(AssertionError, match="cannot be pressed"):
        await bot.press(sent, "Site", user=3)
    with pytest.raises(AssertionError, match=r"no button 'Nope'.*'Site'"):
        await bot.press(sent, "Nope", user=3)


class Hello:
    """The example of mediabot/testing/harness.py's docstring, verbatim."""

    meta = PluginMeta(name="hello", description="Says hello.")

    def __init__(self, ctx): ...

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="hello", description="Greet", handler=self.hello)]

    async def hello(self, ctx):
        await ctx.reply(f"Hello, {ctx.args or 'world'}!")


async def test_the_documented_example(make_bot):
    bot = await make_bot(plugins=[Hello])
    replies = await bot.send("/hello Ann", user=1)
    assert replies.texts == ["Hello, Ann!"]
    assert (await bot.send("/hello", user=2)).texts == ["Hello, world!"]


class Shop:
    """Sells a Stars item, confirms checkouts, thanks payers, counts joins."""

    meta = PluginMeta(name="shop", description="Sells.")

    def __init__(self, ctx):
        self.paid: list[str] = []
        self.joined: list[int] = []

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="buy", description="Buy premium", handler=self.buy)]

    async def buy(self, ctx):
        await ctx.app.telegram.send_invoice(ctx.chat.id, title="Premium", description="30 days",
                                            payload="premium", prices=[("30 days", 25)])

    @hookimpl
    async def mediabot_update(self, app, update):
        if isinstance(update, PreCheckoutQuery):
            await app.telegram.answer_pre_checkout(update.id, ok=update.invoice_payload == "premium",
                                                   error=None if update.invoice_payload == "premium" else "?")
        elif isinstance(update, Message) and update.payment is not None:
            self.paid.append(update.payment.telegram_payment_charge_id)
            await app.telegram.send_text(update.chat.id, f"Thanks for {update.payment.total_amount} Stars!")
        elif isinstance(update, ChatMemberUpdated) and update.joined:
            self.joined.append(update.user.id)


async def test_a_plugin_sells_for_stars_and_sees_members_join(make_bot):
    bot = await make_bot(plugins=[Shop])
    invoice = (await bot.send("/buy", user=42)).last
    assert invoice.invoice is not None and invoice.invoice.total_amount == 25
    await bot.fake.pay(42, invoice.id)
    await bot.settle()
    shop = bot.plugin("shop")
    assert bot.replies_to(42)[-1].text == "Thanks for 25 Stars!"
    assert list(bot.fake.charges) == shop.paid and len(shop.paid) == 1
    bot.fake.add_chat(-1001234567890, "channel")
    await bot.fake.user_joins(-1001234567890, 43)
    await bot.settle()
    assert shop.joined == [43]
