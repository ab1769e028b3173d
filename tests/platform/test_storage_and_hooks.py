"""Plugin storage (collections, Redis keys, directory) and hooks that plugins publish for each other."""

from __future__ import annotations

import stat
import types

import pytest

from mediabot import Command, PluginLoadError, PluginMeta, hookimpl, hookspec
from mediabot.testing import BotHarness


class Notes:
    meta = PluginMeta(name="notes", description="Keeps notes.", needs=("redis", "mongo"))

    def __init__(self, ctx):
        self.ctx = ctx
        ctx.storage.declare_index("notes", [("user", 1), ("at", -1)], name="user_at")

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="note", description="Keep a note", handler=self.note, usage="TEXT")]

    async def note(self, ctx):
        storage = self.ctx.storage
        await storage.collection("notes").insert_one({"user": ctx.user.id, "text": ctx.args,
                                                       "at": self.ctx.clock.wall()})
        count = await storage.redis.incr(storage.key("count", ctx.user.id))
        (storage.directory / "last.txt").write_text(ctx.args)
        await ctx.reply(f"noted ({count})")


async def test_a_plugin_keeps_data_under_its_own_names(make_bot):
    bot = await make_bot(plugins=[Notes])
    assert (await bot.send("/note buy milk", user=7)).texts == ["noted (1)"]
    storage = bot.app.storage("notes")
    db = storage.database()
    assert storage.collection("notes").name == "notes.notes"
    assert await db["notes.notes"].count_documents({"user": 7}) == 1
    assert "user_at" in await db["notes.notes"].index_information()  # declared, created at startup
    key = storage.key("count", 7)
    prefix = bot.app.section("redis").key_prefix
    assert key == f"{prefix}:{{notes}}:count:7"  # hash tag: one Redis Cluster slot per plugin
    assert await bot.app.redis.get(key) == b"1"
    directory = storage.directory
    assert directory == bot.app.data_dir / "plugins" / "notes"
    assert (directory / "last.txt").read_text() == "buy milk"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_collection_names_cannot_escape_the_plugin(tmp_path):
    bot = BotHarness.build(plugins=[Notes], directory=tmp_path,
                           env={"MEDIABOT_MONGO_URI": "mongodb://x", "MEDIABOT_REDIS_URL": "redis://x"})
    storage = bot.app.storage("notes")
    for bad in ("", ".x", "a$b"):
        with pytest.raises(ValueError):
            storage.collection_name(bad)


# -- hooks a plugin publishes -------------------------------------------------------------
class WatchSpecs:
    @hookspec
    def watch_added(self, app, user_id: int, title: str) -> str:
        """A title was added to a watchlist."""


class Publisher:
    meta = PluginMeta(name="publisher", description="Publishes watch_added.", hookspecs=WatchSpecs)

    def __init__(self, ctx):
        self.ctx = ctx

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="watch", description="Watch a title", handler=self.watch, usage="TITLE")]

    async def watch(self, ctx):
        answers = await ctx.app.hooks.collect("watch_added", app=ctx.app, user_id=ctx.user.id, title=ctx.args)
        first = await ctx.app.hooks.first("watch_added", app=ctx.app, user_id=ctx.user.id, title=ctx.args)
        await ctx.reply(f"{sorted(answers)} first={first}")


class Listener:
    meta = PluginMeta(name="listener", description="Implements watch_added.")

    def __init__(self, ctx):
        self.seen = []

    @hookimpl(optionalhook=True)
    async def watch_added(self, user_id, title):
        self.seen.append((user_id, title))
        return f"listener saw {title}"


class Broken:
    meta = PluginMeta(name="broken", description="Raises in watch_added.")

    def __init__(self, ctx):
        pass

    @hookimpl(optionalhook=True)
    def watch_added(self):
        raise RuntimeError("boom")


async def test_a_plugin_calls_another_plugins_hook_and_a_failure_is_isolated(make_bot):
    bot = await make_bot(plugins=[Publisher, Listener, Broken])
    replies = await bot.send("/watch Dune", user=3)
    assert replies.texts == ["[('listener', 'listener saw Dune')] first=listener saw Dune"]
    assert bot.plugin("listener").seen == [(3, "Dune"), (3, "Dune")]
    assert set(bot.app.hooks.implementers("watch_added")) == {"listener", "broken"}
    errors = bot.app.metrics.registry.get_sample_value(
        "mediabot_plugin_errors_total", {"plugin": "broken", "hook": "watch_added"})
    # Logged and counted (collect called it; first stopped at the listener's answer).
    assert errors == 1


async def test_with_no_implementation_a_published_hook_answers_nothing(make_bot):
    bot = await make_bot(plugins=[Publisher])
    assert (await bot.send("/watch Dune", user=3)).texts == ["[] first=None"]


async def test_implementing_the_hook_of_a_plugin_that_is_not_enabled_is_ignored(make_bot):
    bot = await make_bot(plugins=[Listener])
    assert not bot.app.hooks.published("watch_added")
    assert await bot.app.hooks.collect("watch_added", app=bot.app, user_id=1, title="x") == []


def test_a_misspelled_hook_without_optionalhook_is_still_a_load_error(tmp_path):
    class Typo:
        meta = PluginMeta(name="typo", description="Misspells a hook.")

        def __init__(self, ctx):
            pass

        @hookimpl
        def watch_aded(self):
            pass

    with pytest.raises(PluginLoadError) as raised:
        BotHarness.build(plugins=[Typo], directory=tmp_path)
    assert "watch_aded" in str(raised.value) and "optionalhook" in raised.value.fix


def test_publishing_a_hook_that_exists_is_a_load_error(tmp_path):
    specs = types.SimpleNamespace(mediabot_startup=hookspec(lambda app: None))

    class Clash:
        meta = PluginMeta(name="clash", description="Redefines a kernel hook.", hookspecs=specs)

        def __init__(self, ctx):
            pass

    with pytest.raises(PluginLoadError) as raised:
        BotHarness.build(plugins=[Clash], directory=tmp_path)
    assert "mediabot_startup" in str(raised.value)


def test_a_plugin_context_never_shows_its_secrets(tmp_path):
    from mediabot import Secret

    class Keyed:
        meta = PluginMeta(name="keyed", description="Has a secret.", secrets=(Secret(env="KEYED_TOKEN",
                                                                                     description="a token"),))

        def __init__(self, ctx):
            self.ctx = ctx

    bot = BotHarness.build(plugins=[Keyed], directory=tmp_path, env={"KEYED_TOKEN": "s3cr3t-value"})
    ctx = bot.plugin("keyed").ctx
    assert ctx.secrets == {"KEYED_TOKEN": "s3cr3t-value"}
    assert "s3cr3t-value" not in repr(ctx)
