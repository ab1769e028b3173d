"""Catalogue changes: hooks in the writing process, the change stream for every process, no change lost."""

from __future__ import annotations

from mediabot import MediaFile, MessageEdited, MessagesDeleted, PluginMeta, hookimpl
from mediabot.testing import FakeClock, eventually

CHANNEL = -1001234567890


def film(n: int, name: str | None = None) -> MediaFile:
    return MediaFile(file_unique_id=f"u{n}", file_id=f"f{n}", file_name=name or f"Film.{n}.2019.1080p.mkv",
                     chat_id=CHANNEL, message_id=n)


class Recorder:
    meta = PluginMeta(name="recorder", description="Records catalogue hooks and updates.")

    def __init__(self, ctx):
        self.events: list[tuple[str, list[str]]] = []
        self.updates: list[object] = []

    @hookimpl
    def mediabot_files_added(self, files):
        self.events.append(("add", [f.file_unique_id for f in files]))

    @hookimpl
    def mediabot_files_updated(self, files):
        self.events.append(("update", [f.file_unique_id for f in files]))

    @hookimpl
    def mediabot_files_removed(self, files):
        self.events.append(("remove", [f.file_unique_id for f in files]))

    @hookimpl
    def mediabot_update(self, update):
        self.updates.append(update)


async def test_files_added_fires_once_per_insert_with_only_the_new_files(make_bot):
    bot = await make_bot(plugins=[Recorder])
    files = bot.app.files
    await files.insert_batch([film(1), film(2), film(3)])
    await files.insert_batch([film(2), film(3), film(4), film(4)])  # two known, one new given twice
    await files.insert_batch([film(1)])  # nothing new: no call
    assert bot.plugin("recorder").events == [("add", ["u1", "u2", "u3"]), ("add", ["u4"])]


async def test_caption_edits_removals_and_dead_files_are_announced(make_bot):
    bot = await make_bot(plugins=[Recorder])
    files = bot.app.files
    await files.insert_batch([film(1, "Arrival.2016.mkv"), film(2), film(3)])
    updated = await files.update_caption(CHANNEL, 1, "Arrival 2016 2160p HDR")
    assert updated[0].resolution == "2160p" and "hdr" in updated[0].tokens
    stored = (await files.get_many(["u1"]))["u1"]
    assert stored.caption == "Arrival 2016 2160p HDR" and stored.resolution == "2160p"
    removed = await files.remove_messages(CHANNEL, [2])
    assert [f.file_unique_id for f in removed] == ["u2"] and await files.get("u2") is None
    dead = await files.mark_dead([(await files.get("u3")).id])
    assert [f.file_unique_id for f in dead] == ["u3"] and (await files.get("u3")).dead
    assert await files.mark_dead([dead[0].id]) == []  # already dead: nothing to announce
    assert bot.plugin("recorder").events[1:] == [("update", ["u1"]), ("remove", ["u2"]), ("remove", ["u3"])]


async def test_another_process_sees_every_change_in_the_stream(make_bot):
    clock = FakeClock()
    writer = await make_bot(clock=clock)
    reader = await make_bot(plugins=[Recorder], clock=clock)  # same Redis, same database: one deployment
    await writer.app.files.insert_batch([film(1), film(2)])
    await writer.app.files.update_caption(CHANNEL, 2, "Film 2 (director's cut)")
    await writer.app.files.remove_messages(CHANNEL, [1])
    changes = await reader.app.changes.read("0-0")
    assert [(c.op, [f.file_unique_id for f in c.files]) for _, c in changes] == [
        ("add", ["u1", "u2"]), ("update", ["u2"]), ("remove", ["u1"])]
    assert changes[1][1].files[0].caption == "Film 2 (director's cut)"
    assert reader.plugin("recorder").events == []  # hooks run in the writing process only
    later = await reader.app.changes.read(changes[-1][0])
    assert later == []
    first, last = await reader.app.changes.bounds()
    assert (first, last) == (changes[0][0], changes[-1][0])


async def test_a_process_that_dies_between_the_write_and_the_publish_loses_no_change(make_bot):
    clock = FakeClock()
    config = "[catalog]\noutbox_grace = 1.0\n"  # real seconds: an intent's age is wall-clock time
    crashing = await make_bot(config=config, clock=clock)
    survivor = await make_bot(config=config, clock=clock)

    async def died(*_args, **_kwargs):  # the process stops right after the database write
        return None

    crashing.app.files.changes.committed = died
    await crashing.app.files.insert_batch([film(1), film(2)])
    assert await survivor.app.files.count() == 2  # written, never published by its writer

    async def published():
        return await survivor.app.changes.read("0-0")

    # An outbox pass (in either process) publishes it once the intent is older than the grace.
    changes = await eventually(published, what="the interrupted write reaching the stream")
    assert [(c.op, sorted(f.file_unique_id for f in c.files)) for _, c in changes] == [("add", ["u1", "u2"])]
    # The pass publishes first and deletes the intent second: wait for the delete.
    outbox = survivor.app.storage("x").database()["catalog_outbox"]
    await eventually(lambda: outbox.count_documents({}), check=lambda n: n == 0, what="the intent deleted")


async def test_an_intent_left_by_a_failed_publish_is_published_later(make_bot, redis_url):
    clock = FakeClock()
    bot = await make_bot(config="[catalog]\noutbox_grace = 1.0\n", clock=clock)
    feed = bot.app.changes
    real_publish = feed.publish
    fails = [ConnectionError("redis away")]

    async def flaky(change):
        if fails:
            raise fails.pop()
        return await real_publish(change)

    feed.publish = flaky
    await bot.app.files.insert_batch([film(7)])

    async def published():
        return await feed.read("0-0")

    changes = await eventually(published, what="the change reaching the stream after Redis returned")
    assert [(c.op, [f.file_unique_id for f in c.files]) for _, c in changes] == [("add", ["u7"])]
    unpublished = bot.app.metrics.registry.get_sample_value("mediabot_catalog_changes_unpublished_total")
    assert unpublished == 1


async def test_edited_and_deleted_channel_posts_reach_plugins(make_bot):
    bot = await make_bot(plugins=[Recorder])
    post = await bot.post(CHANNEL, media="Dune.2021.1080p.mkv", caption="Dune")
    await bot.edit_post(CHANNEL, post.id, "Dune (2021) 2160p")
    await bot.delete_posts(CHANNEL, [post.id])
    kinds = bot.plugin("recorder").updates
    assert [type(u).__name__ for u in kinds] == ["Message", "MessageEdited", "MessagesDeleted"]
    edited, deleted = kinds[1], kinds[2]
    assert isinstance(edited, MessageEdited) and edited.message.caption == "Dune (2021) 2160p"
    assert edited.message.media.file_unique_id == post.media.file_unique_id
    assert isinstance(deleted, MessagesDeleted) and (deleted.chat_id, deleted.message_ids) == (CHANNEL, [post.id])
