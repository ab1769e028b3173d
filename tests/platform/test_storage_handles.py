"""Storage handles taken in a plugin's __init__: resolved on use, with a clear error before the app opened."""

from __future__ import annotations

import pytest

from mediabot import Command, PluginMeta, StorageUnavailable, create_app, hookimpl


class Notes:
    meta = PluginMeta(name="notes", description="Keeps notes.", needs=("mongo",))

    def __init__(self, ctx):
        self.notes = ctx.storage.collection("notes")  # before any connection exists
        self.storage = ctx.storage

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="note", description="Keep a note", usage="TEXT", handler=self.note)]

    async def note(self, ctx):
        await self.notes.insert_one({"user": ctx.user.id, "text": ctx.args})
        count = await self.notes.count_documents({"user": ctx.user.id})
        await ctx.reply(f"{count} notes in {self.notes.name}")


async def test_a_collection_taken_in_init_is_the_plugins_collection_once_the_bot_runs(make_bot):
    bot = await make_bot(plugins=[Notes])
    assert (await bot.send("/note milk", user=1)).texts == ["1 notes in notes.notes"]
    assert (await bot.send("/note eggs", user=1)).texts == ["2 notes in notes.notes"]
    stored = await bot.app.storage("notes").database()["notes.notes"].find({}, {"_id": 0}).to_list(None)
    assert stored == [{"user": 1, "text": "milk"}, {"user": 1, "text": "eggs"}]


async def test_a_handle_used_before_the_app_opened_its_resources_says_so(make_bot, tmp_path):
    bot = await make_bot(plugins=[Notes])  # for a deployment's environment: MongoDB and Redis are configured
    config = tmp_path / "plugins.toml"
    config.write_text("[plugins.notes]\nenabled = true\n")
    app = create_app(config, env=bot.app.env, plugins=[Notes])  # built, never opened
    notes = app.plugin("notes")
    with pytest.raises(StorageUnavailable, match=r"^plugin 'notes': MongoDB used before the app opened its "
                                                 r"resources: take handles in __init__"):
        await notes.notes.find_one({})
    with pytest.raises(StorageUnavailable, match=r"^plugin 'notes': Redis used before the app opened"):
        notes.storage.redis.get(notes.storage.key("x"))


async def test_without_a_database_the_error_still_names_the_variable_to_set(make_bot):
    class Loose(Notes):
        meta = PluginMeta(name="notes", description="Keeps notes.")

    bot = await make_bot(plugins=[Loose], services=False)
    with pytest.raises(StorageUnavailable, match="set MEDIABOT_MONGO_URI, or enable dbrouter"):
        await bot.plugin("notes").notes.find_one({})
