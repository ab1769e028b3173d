"""The file catalogue on one database: batch dedup, indexes, lookups, id-cursor paging."""

from __future__ import annotations

from mediabot import FileRepository, MediaFile
from mediabot.core.types import Chat, Media, Message


def media_file(n: int, **kw) -> MediaFile:
    return MediaFile(file_unique_id=f"u{n:05d}", file_id=f"f{n}", file_name=f"Movie.{n}.2019.1080p.mkv",
                     tokens=["movie", str(n), "2019", "1080p", "mkv"], **kw)


async def test_a_batch_with_known_and_repeated_files_counts_them_instead_of_failing(provider):
    repo = FileRepository(provider)
    await repo.ensure_indexes()
    first = await repo.insert_batch([media_file(i) for i in range(10)])
    assert (first.inserted, first.duplicates) == (10, 0)
    # 5 already stored, 5 new, and one new file twice in the same batch.
    again = await repo.insert_batch([media_file(i) for i in range(5, 15)] + [media_file(14)])
    assert (again.inserted, again.duplicates) == (5, 6)
    assert await repo.count() == 15


async def test_index_creation_is_idempotent(provider, database):
    repo = FileRepository(provider)
    await repo.ensure_indexes()
    await repo.ensure_indexes()
    info = await database["files"].index_information()
    assert info["file_unique_id_unique"]["unique"] is True
    assert info["tokens_id"]["key"] == [("tokens", 1), ("_id", 1)]
    assert info["source_message"]["key"] == [("chat_id", 1), ("message_id", 1)]


async def test_search_by_token_uses_the_index(provider, database):
    repo = FileRepository(provider)
    await repo.ensure_indexes()
    await repo.insert_batch([media_file(i) for i in range(20)])
    plan = await database["files"].find({"tokens": "7"}).sort("_id", 1).explain()
    assert "tokens_id" in str(plan["queryPlanner"]["winningPlan"])
    page = await repo.page(filter={"tokens": "7"})
    assert [f.file_unique_id for f in page.items] == ["u00007"]


async def test_files_read_back_equal_what_was_written(provider):
    repo = FileRepository(provider)
    await repo.ensure_indexes()
    files = [media_file(i, caption="a caption", size=123, chat_id=-100, message_id=i) for i in range(3)]
    await repo.insert_batch(files)
    got = await repo.get_many(["u00002", "u00000", "nope"])
    assert got == {"u00000": files[0], "u00002": files[2]}
    assert await repo.get("nope") is None


async def test_cursor_iteration_visits_every_file_once_in_id_order(provider, commands):
    repo = FileRepository(provider)
    await repo.ensure_indexes()
    files = [media_file(i) for i in range(53)]
    await repo.insert_batch(files)
    seen = [f.id async for f in repo.iter_by_id(page_size=10)]
    assert seen == sorted(f.id for f in files)
    resumed = [f.id async for f in repo.iter_by_id(after=seen[24], page_size=10)]
    assert resumed == seen[25:]
    # Deep pages are id-cursor queries: nothing skipped, nothing counted.
    assert commands.count("count", "aggregate") == 0


async def test_a_channel_post_becomes_a_catalogue_entry():
    post = Message(id=77, chat=Chat(id=-1001, type="channel"), date=0, caption="Dark S02E03 [Amélie]",
                   media=Media(kind="video", file_id="F", file_unique_id="U", file_name="Dark.S02E03.1080p.mkv",
                               file_size=10, duration=3000, mime_type="video/x-matroska"))
    entry = MediaFile.from_message(post)
    assert (entry.chat_id, entry.message_id, entry.kind, entry.size) == (-1001, 77, "video", 10)
    assert (entry.season, entry.episode, entry.resolution) == (2, 3, "1080p")
    assert entry.tokens == ["dark", "s02e03", "s02", "1080p", "mkv", "amelie"]
