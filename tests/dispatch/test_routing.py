"""One pipeline for plain messages and inline queries: handlers claim in order, decline, observers watch."""

from __future__ import annotations

import pytest

from mediabot import Command, ConfigError, GateRefusal, Handler, PluginMeta, hookimpl
from mediabot.testing import eventually

GROUP = -1001000000009


class Keywords:
    """A manual keyword filter: answers "hello" and claims it; declines anything else."""

    meta = PluginMeta(name="keywords", description="Answers a keyword before anyone else.")

    def __init__(self, ctx):
        self.seen: list[str] = []

    async def on_text(self, ctx):
        if ctx.text.lower() != "hello":
            self.seen.append(f"declined {ctx.text}")
            return False
        await ctx.reply("Hello to you!")
        return True

    @hookimpl
    def mediabot_handlers(self):
        return [Handler(name="reply", handler=self.on_text, chats=("private", "group"), order=50)]


class Echo:
    """Answers every private text: the catch-all behind the filter (search's place)."""

    meta = PluginMeta(name="echo", description="Echoes text.")

    def __init__(self, ctx):
        self.observed: list[str] = []

    async def on_text(self, ctx):
        await ctx.reply(f"echo: {ctx.text}")

    @hookimpl
    def mediabot_handlers(self):
        return [Handler(name="text", handler=self.on_text, description="Type anything and I echo it.")]

    @hookimpl
    async def mediabot_update(self, update):
        self.observed.append(getattr(update, "text", None) or "")


async def test_a_handler_that_claims_a_message_is_the_only_one_to_answer(make_bot):
    bot = await make_bot(plugins=[Echo, Keywords])
    assert (await bot.send("hello")).texts == ["Hello to you!"]
    assert (await bot.send("dune")).texts == ["echo: dune"]  # declined by the filter, answered by the next
    assert bot.plugin("keywords").seen == ["declined dune"]


async def test_observers_watch_every_message_even_one_another_plugin_answered(make_bot):
    bot = await make_bot(plugins=[Echo, Keywords])
    await bot.send("hello")
    await bot.send("dune")
    await eventually(lambda: bot.plugin("echo").observed == ["hello", "dune"])


async def test_the_deployment_sets_which_handler_answers_first(make_bot):
    bot = await make_bot(plugins=[Echo, Keywords], config='[routing]\norder = ["echo.text"]\n')
    assert (await bot.send("hello")).texts == ["echo: hello"]
    assert bot.plugin("keywords").seen == []  # never asked: the echo claimed it first


async def test_an_order_naming_no_handler_stops_the_start_with_the_key_and_a_suggestion(make_bot):
    with pytest.raises(ConfigError) as err:
        await make_bot(plugins=[Echo, Keywords], config='[routing]\norder = ["echo.txt"]\n')
    text = str(err.value)
    assert "routing.order" in text and "'echo.txt'" in text and "did you mean 'echo.text'" in text


async def test_a_plain_text_flood_is_rate_limited_like_commands(make_bot):
    bot = await make_bot(plugins=[Echo], config='[services]\nuser_rate = "3/min"\n')
    for i in range(3):
        assert (await bot.send(f"film {i}")).texts == [f"echo: film {i}"]
    [told] = (await bot.send("film 4")).texts
    assert told.startswith("Slow down: try again in")
    assert (await bot.send("film 5")).texts == []  # told once per refusal window
    assert (await bot.send("film 6", user=2)).texts == ["echo: film 6"]  # another user is not slowed down


class Gated:
    """Answers text behind the "members" gate."""

    meta = PluginMeta(name="gated", description="Gated text handler.")

    def __init__(self, ctx):
        self.ran = 0

    async def on_text(self, ctx):
        self.ran += 1
        await ctx.reply("welcome, member")

    @hookimpl
    def mediabot_handlers(self):
        return [Handler(name="text", handler=self.on_text, gate="members")]

    @hookimpl
    def mediabot_gate(self, user, action):
        if action == "members" and user.id != 7:
            return GateRefusal(text="Join @club first.")
        return None


async def test_a_gate_refuses_a_plain_message_and_its_refusals_are_rate_limited(make_bot):
    bot = await make_bot(plugins=[Gated], admins=[100])
    told = [(await bot.send(f"let me in {i}", user=5)).texts for i in range(6)]
    assert told[:3] == [["Join @club first."]] * 3
    assert [] in told[3:]  # past the refusal burst, refusals are dropped without a word
    assert bot.plugin("gated").ran == 0
    assert (await bot.send("hi", user=7)).texts == ["welcome, member"]
    assert (await bot.send("hi", user=100)).texts == ["welcome, member"]  # admins pass every gate


class Broken:
    meta = PluginMeta(name="broken", description="Its handler raises.")

    def __init__(self, ctx):
        pass

    async def on_text(self, ctx):
        raise RuntimeError("bug")

    @hookimpl
    def mediabot_handlers(self):
        return [Handler(name="text", handler=self.on_text, order=10)]


async def test_a_handler_that_raises_costs_an_apology_and_no_second_answer(make_bot):
    bot = await make_bot(plugins=[Echo, Broken])
    [apology] = (await bot.send("dune")).texts
    assert "went wrong" in apology.lower() or "sorry" in apology.lower()
    assert bot.app.metrics.value("mediabot_plugin_errors_total", {"plugin": "broken", "hook": "route:broken.text"}) == 1


class AdminOnly:
    meta = PluginMeta(name="adminonly", description="An admin's text handler.")

    def __init__(self, ctx):
        pass

    async def on_text(self, ctx):
        await ctx.reply("admin tool")

    @hookimpl
    def mediabot_handlers(self):
        return [Handler(name="text", handler=self.on_text, role="admin", order=10)]


async def test_a_handler_for_admins_is_skipped_for_users_and_the_next_one_answers(make_bot):
    bot = await make_bot(plugins=[Echo, AdminOnly], admins=[100])
    assert (await bot.send("dune", user=100)).texts == ["admin tool"]
    assert (await bot.send("dune", user=5)).texts == ["echo: dune"]


async def test_a_private_handler_does_not_answer_in_groups(make_bot):
    bot = await make_bot(plugins=[Echo, Keywords])
    bot.fake.add_chat(GROUP, "supergroup", title="Film club")
    assert (await bot.send("dune", chat=GROUP)).texts == []  # Echo is private-only; Keywords declines
    assert (await bot.send("hello", chat=GROUP)).texts == ["Hello to you!"]


async def test_start_and_help_say_what_a_plain_message_does(make_bot):
    bot = await make_bot(plugins=[Echo], config='[bot]\nname = "Cinema"\n')
    assert (await bot.send("/start")).texts == [
        "Hi User1! I am Cinema.\nType anything and I echo it.\nSend /help to see the commands."]
    assert (await bot.send("/help")).last.text.startswith("Type anything and I echo it.\n\nCinema commands:")


class Maintenance:
    """A middleware in front of every update: only admins get through."""

    meta = PluginMeta(name="maintenance", description="Maintenance mode.")

    def __init__(self, ctx):
        self.kinds: list[str] = []

    async def check(self, incoming, call_next):
        self.kinds.append(incoming.kind if incoming.command is None else f"/{incoming.command}")
        if incoming.is_staff:
            await call_next()
            return
        await incoming.refuse("Down for maintenance.")

    @hookimpl
    def mediabot_middleware(self):
        return [self.check]


class Ping:
    meta = PluginMeta(name="ping", description="A command.")

    def __init__(self, ctx):
        pass

    async def ping(self, ctx):
        await ctx.reply("pong", keyboard=[[ctx.button("again", "ping.again")]])

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="ping", description="Pong", handler=self.ping)]


async def test_a_middleware_sees_commands_and_messages_and_may_stop_them(make_bot):
    bot = await make_bot(plugins=[Echo, Ping, Maintenance], admins=[100])
    assert (await bot.send("/ping", user=5)).texts == ["Down for maintenance."]
    assert (await bot.send("dune", user=5)).texts == ["Down for maintenance."]
    assert (await bot.send("/ping", user=100)).texts == ["pong"]
    assert (await bot.send("dune", user=100)).texts == ["echo: dune"]
    assert bot.plugin("maintenance").kinds == ["/ping", "message", "/ping", "message"]


class BrokenMiddleware:
    meta = PluginMeta(name="brokenmw", description="A middleware that raises.")

    def __init__(self, ctx):
        pass

    async def check(self, incoming, call_next):
        raise RuntimeError("middleware bug")

    @hookimpl
    def mediabot_middleware(self):
        return [self.check]


async def test_a_middleware_that_raises_is_counted_and_the_update_goes_on(make_bot):
    bot = await make_bot(plugins=[Echo, BrokenMiddleware])
    assert (await bot.send("dune")).texts == ["echo: dune"]
    assert bot.app.metrics.value("mediabot_plugin_errors_total", {"plugin": "brokenmw", "hook": "middleware"}) == 1


class OwnLinks:
    """A plugin with its own /start payload format (like filestore's permanent links)."""

    meta = PluginMeta(name="ownlinks", description="Own start payloads.")

    def __init__(self, ctx):
        pass

    @hookimpl
    async def mediabot_start_payload(self, ctx, payload):
        if not payload.startswith("fs-"):
            return None
        await ctx.reply(f"your file {payload[3:]}")
        return True


async def test_start_with_a_payload_nobody_knows_gets_the_welcome_not_expired(make_bot):
    bot = await make_bot(plugins=[Echo, OwnLinks])
    [welcome] = (await bot.send("/start garbage")).texts
    assert welcome.startswith("Hi User1!") and "expired" not in welcome
    assert (await bot.send("/start fs-abc123")).texts == ["your file abc123"]


async def test_start_with_an_expired_link_of_ours_says_so(make_bot, monkeypatch):
    bot = await make_bot(plugins=[Echo])
    signer = bot.app.dispatcher.signer
    made = signer._clock() - bot.app.section("bot").button_ttl - 3600  # signed links use the wall clock
    monkeypatch.setattr(signer, "_clock", lambda: made)
    payload = bot.app.deep_link("x", "1").split("start=", 1)[1]
    monkeypatch.undo()
    assert (await bot.send(f"/start {payload}")).texts == ["This link has expired. Search again to get a fresh one."]


def test_a_handler_declaration_with_a_bad_filter_fails_with_its_name():
    with pytest.raises(ValueError, match="handler text: chats may be"):
        Handler(name="text", handler=Echo.on_text, chats=("channel",))  # type: ignore[arg-type]


class Shop:
    """Records payments: they must reach it whatever the sender's rate, ban or a middleware say."""

    meta = PluginMeta(name="shop", description="Takes payments.")

    def __init__(self, ctx):
        self.paid: list[str] = []

    async def on_payment(self, ctx):
        self.paid.append(ctx.message.payment.telegram_payment_charge_id)

    @hookimpl
    def mediabot_handlers(self):
        return [Handler(name="payment", handler=self.on_payment, content="any",
                        when=lambda m: m.payment is not None)]


def payment_message(user: int, charge: str):
    from mediabot import Chat, Message, Payment, User

    return Message(id=900, chat=Chat(id=user, type="private"), date=0, from_user=User(id=user, first_name="P"),
                   payment=Payment(currency="XTR", total_amount=100, invoice_payload="premium",
                                   telegram_payment_charge_id=charge))


async def test_a_payment_reaches_its_handler_past_the_rate_a_ban_and_a_middleware(make_bot):
    bot = await make_bot(plugins=[Shop, Echo, Maintenance], admins=[100],
                         config='[services]\nuser_rate = "1/min"\n')
    await bot.send("dune", user=5)  # uses the user's one message a minute (and meets maintenance)
    await bot.app.users.ban(5)
    await bot.app.dispatch(payment_message(5, "charge-1"))
    assert bot.plugin("shop").paid == ["charge-1"]
