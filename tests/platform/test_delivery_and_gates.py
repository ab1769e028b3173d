"""app.delivery under reservation hooks, gates before actions, and deep links."""

from __future__ import annotations

from mediabot import (
    Button,
    Command,
    GateRefusal,
    MediaFile,
    PluginMeta,
    Reservation,
    hookimpl,
)

CHANNEL = -1001234567890


async def catalogue(bot, n: int) -> list[MediaFile]:
    """``n`` files Telegram knows (posted in a channel), in the catalogue."""
    files = []
    for i in range(n):
        post = await bot.post(CHANNEL, media=f"Film.{i}.2019.1080p.mkv", caption=f"Film {i}")
        files.append(MediaFile.from_message(post))
    await bot.app.files.insert_batch(files)
    return files


class Sender:
    """Delivers the catalogue's files: ``/get N``."""

    meta = PluginMeta(name="sender", description="Sends files.")

    def __init__(self, ctx):
        self.files: list[MediaFile] = []
        self.reports = []

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="get", description="Get files", handler=self.get, usage="N")]

    async def get(self, ctx):
        self.reports.append(await ctx.app.delivery.send(ctx.user, self.files[:int(ctx.args)]))


class Quota:
    """Grants 3 of whatever is asked, records settlements."""

    meta = PluginMeta(name="quota3", description="Grants three.")

    def __init__(self, ctx):
        self.settled: list[tuple[str, int]] = []
        self.fail = False

    @hookimpl
    def mediabot_delivery_reserve(self, user_id, count):
        if self.fail:
            raise RuntimeError("ledger unreachable")
        return Reservation(granted=min(3, count), id=f"r{user_id}",
                           message="3 files left today; more tomorrow." if count > 3 else None)

    @hookimpl
    def mediabot_delivery_settle(self, reservation, delivered):
        self.settled.append((reservation.id, delivered))


def sent_files(bot, user: int) -> list[str]:
    return [m.media.file_unique_id for m in bot.replies_to(user) if m.media is not None]


async def test_without_a_reservation_hook_every_file_is_sent_with_its_caption(make_bot):
    bot = await make_bot(plugins=[Sender], config='[delivery]\ncaption = "{name} ({size}) via {bot}"')
    bot.plugin("sender").files = files = await catalogue(bot, 5)
    await bot.send("/get 5", user=9)
    assert sent_files(bot, 9) == [f.file_unique_id for f in files]
    captions = [m.caption for m in bot.replies_to(9)]
    assert captions[0].startswith("Film.0.2019.1080p.mkv (") and captions[0].endswith(" via mediabot")
    report = bot.plugin("sender").reports[0]
    assert (report.asked, report.granted, len(report.delivered)) == (5, 5, 5)
    counted = await bot.app.files.get_many([f.file_unique_id for f in files])
    assert {f.deliveries for f in counted.values()} == {1}  # search ranks by it


async def test_a_reservation_of_3_of_5_sends_3_tells_why_and_settles_3(make_bot):
    bot = await make_bot(plugins=[Sender, Quota])
    bot.plugin("sender").files = files = await catalogue(bot, 5)
    replies = await bot.send("/get 5", user=9)
    assert sent_files(bot, 9) == [f.file_unique_id for f in files[:3]]
    assert replies.texts[-1] == "3 files left today; more tomorrow."
    assert bot.plugin("quota3").settled == [("r9", 3)]


async def test_on_granted_hears_the_granted_count_before_the_first_send_and_never_when_none_is(make_bot):
    bot = await make_bot(plugins=[Sender, Quota])
    files = await catalogue(bot, 5)
    heard: list[tuple[int, int]] = []  # (granted, files already sent when told)

    async def on_granted(count: int) -> None:
        heard.append((count, len(sent_files(bot, 9))))

    report = await bot.app.delivery.send(9, files, on_granted=on_granted)
    assert heard == [(3, 0)] and len(report.delivered) == 3
    bot.plugin("quota3").fail = True
    report = await bot.app.delivery.send(9, files, on_granted=on_granted)
    assert heard == [(3, 0)] and report.refused is not None


async def test_a_file_telegram_no_longer_has_is_not_delivered_and_marked_dead(make_bot):
    bot = await make_bot(plugins=[Sender, Quota])
    bot.plugin("sender").files = files = await catalogue(bot, 3)
    bot.fake.forget_file(files[1].file_id)
    await bot.send("/get 3", user=9)
    assert sent_files(bot, 9) == [files[0].file_unique_id, files[2].file_unique_id]
    assert bot.plugin("quota3").settled == [("r9", 2)]
    assert (await bot.app.files.get(files[1].file_unique_id)).dead
    report = bot.plugin("sender").reports[0]
    assert report.gone == [files[1].id] and report.failed == [files[1].id]


async def test_a_user_who_blocked_the_bot_ends_the_batch_and_settles_what_arrived(make_bot):
    bot = await make_bot(plugins=[Sender, Quota])
    bot.plugin("sender").files = await catalogue(bot, 3)
    await bot.send("/start", user=9)  # known to the user directory
    bot.fake.block(9)
    await bot.send("/get 3", user=9)
    assert bot.plugin("quota3").settled == [("r9", 0)]
    report = bot.plugin("sender").reports[0]
    assert report.stopped == "blocked" and len(report.failed) == 3
    await bot.app.users.flush()
    assert (await bot.app.users.get(9)).status == "blocked"


async def test_a_reservation_hook_that_raises_means_nothing_is_sent(make_bot):
    bot = await make_bot(plugins=[Sender, Quota])
    bot.plugin("sender").files = await catalogue(bot, 2)
    bot.plugin("quota3").fail = True
    replies = await bot.send("/get 2", user=9)
    assert sent_files(bot, 9) == []
    assert replies.texts == [bot.app.section("delivery").refused_text]
    assert bot.plugin("quota3").settled == []


async def test_a_delivery_can_protect_its_files_when_the_deployment_does_not(make_bot):
    bot = await make_bot(plugins=[Sender])
    files = await catalogue(bot, 2)
    protected = await bot.app.delivery.send(9, files[:1], protect_content=True)
    plain = await bot.app.delivery.send(9, files[1:])
    assert protected.messages and set(protected.messages) <= bot.fake.protected
    assert plain.messages and not set(plain.messages) & bot.fake.protected


async def test_a_delivery_can_leave_its_files_unprotected_when_the_deployment_protects(make_bot):
    bot = await make_bot(plugins=[Sender], config="[delivery]\nprotect_content = true")
    files = await catalogue(bot, 2)
    plain = await bot.app.delivery.send(9, files[:1], protect_content=False)
    protected = await bot.app.delivery.send(9, files[1:])
    assert plain.messages and not set(plain.messages) & bot.fake.protected
    assert protected.messages and set(protected.messages) <= bot.fake.protected


# -- gates ------------------------------------------------------------------------------------
class MembersOnly:
    """Refuses ``search`` to users who are not in @films."""

    meta = PluginMeta(name="members", description="Join the channel first.")

    def __init__(self, ctx):
        self.raises = False

    @hookimpl
    async def mediabot_gate(self, app, user, action):
        if self.raises:
            raise RuntimeError("membership lookup failed")
        if action == "search" and not await app.telegram.is_member(CHANNEL, user.id):
            return GateRefusal(text="Join @films first, then try again.",
                               keyboard=[[Button(text="Join @films", url="https://t.me/films")]])
        return None


class FailsOpen(MembersOnly):
    meta = PluginMeta(name="members", description="Join the channel first.", gate_fails="open")


class Finder:
    meta = PluginMeta(name="finder", description="A gated command.")

    def __init__(self, ctx):
        pass

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="find", description="Find", handler=self.find, gate="search")]

    async def find(self, ctx):
        await ctx.reply("results…")


async def test_a_gate_refuses_non_members_with_its_message_and_button(make_bot):
    bot = await make_bot(plugins=[MembersOnly, Finder], admins=[1])
    bot.fake.add_chat(CHANNEL, "channel", username="films")
    refused = (await bot.send("/find dune", user=5)).last
    assert refused.text == "Join @films first, then try again."
    assert refused.keyboard[0][0].url == "https://t.me/films"
    bot.fake.set_member(CHANNEL, 5)
    assert (await bot.send("/find dune", user=5)).texts == ["results…"]
    assert (await bot.send("/find dune", user=1)).texts == ["results…"]  # admins pass every gate


async def test_a_gate_that_raises_is_isolated_and_fails_closed_by_default(make_bot):
    bot = await make_bot(plugins=[MembersOnly, Finder])
    bot.plugin("members").raises = True
    replies = await bot.send("/find dune", user=5)
    assert replies.texts == ["This is not available right now. Please try again in a minute."]
    errors = bot.app.metrics.registry.get_sample_value(
        "mediabot_plugin_errors_total", {"plugin": "members", "hook": "mediabot_gate"})
    assert errors == 1


async def test_a_gate_that_fails_open_lets_the_action_through(make_bot):
    bot = await make_bot(plugins=[FailsOpen, Finder])
    bot.plugin("members").raises = True
    assert (await bot.send("/find dune", user=5)).texts == ["results…"]


async def test_deliveries_pass_the_deliver_gate(make_bot):
    class NoDeliveries(MembersOnly):
        meta = PluginMeta(name="nodeliver", description="Refuses deliveries.")

        @hookimpl
        async def mediabot_gate(self, action):
            return GateRefusal(text="Deliveries are closed today.") if action == "deliver" else None

    bot = await make_bot(plugins=[Sender, NoDeliveries])
    bot.plugin("sender").files = await catalogue(bot, 2)
    assert (await bot.send("/get 2", user=9)).texts == ["Deliveries are closed today."]
    assert sent_files(bot, 9) == []


# -- deep links -------------------------------------------------------------------------------
class Linker:
    meta = PluginMeta(name="linker", description="Makes deep links.")

    def __init__(self, ctx):
        self.opened = []

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="link", description="A link", handler=self.link)]

    async def link(self, ctx):
        await ctx.reply(ctx.deep_link("sf", "abc123"))

    @hookimpl
    async def mediabot_deep_link(self, ctx, action, args):
        if action != "sf":
            return None
        self.opened.append((ctx.user.id, args))
        await ctx.reply(f"opened {args[0]}")
        return True


async def test_a_deep_link_opens_the_private_chat_and_reaches_its_plugin(make_bot):
    bot = await make_bot(plugins=[Linker])
    link = (await bot.send("/link", user=4)).last.text
    assert link.startswith(f"https://t.me/{bot.gateway.me.username}?start=sf_abc123_")
    payload = link.split("start=", 1)[1]
    assert len(payload) <= 64
    assert (await bot.send(f"/start {payload}", user=8)).texts == ["opened abc123"]
    assert bot.plugin("linker").opened == [(8, ("abc123",))]
    # Forged or malformed payloads are not links of ours: the welcome, and no plugin runs.
    welcome = "Hi User8! I am mediabot.\nSend /help to see the commands."
    forged = payload[:-1] + ("0" if payload[-1] != "0" else "1")
    assert (await bot.send(f"/start {forged}", user=8)).texts == [welcome]
    assert (await bot.send("/start sf_zzz_1_ünïcode", user=8)).texts == [welcome]
    assert bot.plugin("linker").opened == [(8, ("abc123",))]
