"""The media file catalogue: batch inserts with dedup, lookups, id-cursor paging.

Files may live in several databases (the ``dbrouter`` plugin spreads them);
the repository never holds a client of its own and reads through the
provider's :class:`~mediabot.catalog.placement.Placement`:

* a batch insert is deduplicated by ``file_unique_id`` in every database
  (``insert_many(ordered=False)``, duplicate-key errors counted, not raised);
* a page is ``_id > after`` sorted by ``_id`` with a limit, asked of every
  database at once and merged: the first ``limit`` of the union of each
  database's first ``limit`` are exactly the global first ``limit``. No
  ``skip``, no ``count``: page 10 000 costs what page 1 costs.
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import msgspec
from pymongo.errors import ConnectionFailure

from mediabot.catalog.changes import ChangeNotifier, ChangeOp
from mediabot.catalog.models import MediaFile, from_document, to_document
from mediabot.catalog.placement import DatabaseUnavailable, InsertReport, Placement, placement_of
from mediabot.catalog.tokens import parse_release, search_tokens

__all__ = ["FILES", "FileRepository", "Page"]

ASCENDING = 1  # pymongo.ASCENDING, without importing the driver with `import mediabot`
FILES = "files"
KEY = "file_unique_id"
LOOKUP_CHUNK = 200

#: Indexes of the ``files`` collection, by name (names are fixed so a second run is a no-op).
FILE_INDEXES: dict[str, tuple[list[tuple[str, int]], dict[str, Any]]] = {
    "file_unique_id_unique": ([(KEY, ASCENDING)], {"unique": True}),
    # Search: every query token is an equality on ``tokens``; ``_id`` after it
    # serves the id-cursor paging of the results.
    "tokens_id": ([("tokens", ASCENDING), ("_id", ASCENDING)], {}),
    "source_message": ([("chat_id", ASCENDING), ("message_id", ASCENDING)], {}),
}


class Page(msgspec.Struct, kw_only=True):
    """One page of files in ``_id`` order.

    :param items: the files.
    :param next_after: pass it as ``after`` for the next page; ``None`` at the end.
    :param partial: some database could not be read: files may be missing
        from this page (never duplicated).
    """

    items: list[MediaFile]
    next_after: str | None
    partial: bool = False


class FileRepository:
    """Catalogue files, over whatever database provider the app has.

    :param provider: a :class:`mediabot.DatabaseProvider` (``app.database``).
    """

    def __init__(self, provider: Any, *, changes: ChangeNotifier | None = None) -> None:
        self.placement: Placement = placement_of(provider)
        #: told of every write (hooks, change stream); the kernel sets it on ``app.files``
        self.changes = changes

    async def ensure_indexes(self) -> None:
        """Create the indexes on every database (idempotent; also run on databases that join later)."""
        await self.placement.prepare(_create_file_indexes)

    async def insert_batch(self, files: Sequence[MediaFile]) -> InsertReport:
        """Insert files not yet in the catalogue; files already there (by ``file_unique_id``) are counted.

        :raises mediabot.DatabaseUnavailable: no database could take the batch;
            nothing is lost: retry the whole batch later.
        """
        if not files:
            return InsertReport()
        docs = [to_document(f) for f in files]
        try:
            token = await self._intent("add", [f.id for f in files])
            report = await self.placement.insert_unique(FILES, docs, key=KEY)
            if self.changes is not None:
                await self.changes.committed(token, "add", await self._new_files(files, report))
        except ConnectionFailure as exc:  # unreachable, timed out (a stopped server): the caller retries
            # A write that timed out may still have been applied: the retry counts it as duplicates.
            raise DatabaseUnavailable(f"the catalogue database did not answer: {type(exc).__name__}: "
                                      f"{str(exc)[:200]}") from exc
        return report

    async def _intent(self, op: ChangeOp, ids: list[str], files: list[MediaFile] | None = None) -> str | None:
        return None if self.changes is None else await self.changes.intent(op, ids, files)

    async def _new_files(self, files: Sequence[MediaFile], report: InsertReport) -> list[MediaFile]:
        """The files of a batch that this call stored (not duplicates, not deferred)."""
        first: dict[str, MediaFile] = {}
        for f in files:
            first.setdefault(f.file_unique_id, f)  # the batch keeps a key's first file
        unique = list(first.values())
        if report.inserted == 0:
            return []
        if report.inserted == len(unique) and not report.deferred:
            return unique
        if report.stored is not None:  # the placement said which keys it stored: no read back
            stored = set(report.stored)
            return [f for f in unique if f.file_unique_id in stored]
        # Mixed: a stored file kept the catalogue id it was built with; a
        # duplicate's key maps to the older document's id.
        stored = await self.by_ids([f.id for f in unique])
        return [f for f in unique if f.id in stored]

    async def by_ids(self, ids: Iterable[str]) -> dict[str, MediaFile]:
        """Files by catalogue id (missing ones are absent from the result)."""
        from bson import ObjectId
        from bson.errors import InvalidId

        wanted: list[Any] = []
        for i in dict.fromkeys(ids):
            try:
                wanted.append(ObjectId(i))
            except (InvalidId, TypeError):
                continue  # not an id we made: nothing to find
        if not wanted:
            return {}

        async def one(db: Any) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            for i in range(0, len(wanted), LOOKUP_CHUNK):
                out += await db[FILES].find({"_id": {"$in": wanted[i:i + LOOKUP_CHUNK]}}).to_list(None)
            return out

        results, _ = await self.placement.read_each(one)
        found: dict[str, MediaFile] = {}
        for docs in results:
            for doc in docs:
                f = from_document(doc, MediaFile)
                found.setdefault(f.id, f)
        return found

    async def by_message(self, chat_id: int, message_ids: Iterable[int]) -> list[MediaFile]:
        """Files indexed from these messages of ``chat_id``."""
        mids = list(dict.fromkeys(int(m) for m in message_ids))
        if not mids:
            return []

        async def one(db: Any) -> list[dict[str, Any]]:
            return await db[FILES].find({"chat_id": chat_id, "message_id": {"$in": mids}}).to_list(None)

        results, _ = await self.placement.read_each(one)
        found: dict[str, MediaFile] = {}
        for docs in results:
            for doc in docs:
                f = from_document(doc, MediaFile)
                found.setdefault(f.id, f)
        return list(found.values())

    async def _each_database(self, op: Any) -> None:
        """``op(db)`` on every database that holds files; all must answer (a write must not half-apply silently).

        :raises mediabot.DatabaseUnavailable: a database could not be reached.
        """
        from mediabot.catalog.placement import DatabaseUnavailable

        _, skipped = await self.placement.read_each(op)
        if skipped:
            raise DatabaseUnavailable(f"could not reach {', '.join(skipped)}; retry later")

    async def remove(self, ids: Iterable[str]) -> list[MediaFile]:
        """Delete files by catalogue id; returns the files removed.

        :raises mediabot.DatabaseUnavailable: a database holding files could
            not be reached (retry: removing twice is harmless).
        """
        from bson import ObjectId

        files = list((await self.by_ids(ids)).values())
        if not files:
            return []
        token = await self._intent("remove", [f.id for f in files], files)
        oids = [ObjectId(f.id) for f in files]

        async def one(db: Any) -> None:
            await db[FILES].delete_many({"_id": {"$in": oids}})

        await self._each_database(one)
        if self.changes is not None:
            await self.changes.committed(token, "remove", files)
        return files

    async def remove_messages(self, chat_id: int, message_ids: Iterable[int]) -> list[MediaFile]:
        """Delete the files indexed from these messages (a post deleted from its channel)."""
        return await self.remove([f.id for f in await self.by_message(chat_id, message_ids)])

    async def update_caption(self, chat_id: int, message_id: int, caption: str | None) -> list[MediaFile]:
        """A post's caption changed: its files get the new caption, tokens and parsed details.

        :return: the files as they are now (empty when the post has no file in the catalogue).
        """
        from bson import ObjectId

        files = await self.by_message(chat_id, [message_id])
        if not files:
            return []
        token = await self._intent("update", [f.id for f in files])
        updated: list[MediaFile] = []
        for f in files:
            info = parse_release(f.file_name, caption)
            fields = {"caption": caption, "tokens": search_tokens(f.file_name, caption),
                      "resolution": info.resolution, "season": info.season, "episode": info.episode,
                      "year": info.year}
            sets = {k: v for k, v in fields.items() if v is not None}
            unsets = {k: "" for k, v in fields.items() if v is None}
            change: dict[str, Any] = {"$set": sets}
            if unsets:
                change["$unset"] = unsets

            await self._each_database(_updater(ObjectId(f.id), change))
            updated.append(msgspec.structs.replace(f, **fields))
        if self.changes is not None:
            await self.changes.committed(token, "update", updated)
        return updated

    async def mark_dead(self, ids: Iterable[str]) -> list[MediaFile]:
        """Telegram says these files are gone: keep them (so they are not indexed again) but out of search.

        Published as a removal. Returns the files newly marked.
        """
        from bson import ObjectId

        files = [f for f in (await self.by_ids(ids)).values() if not f.dead]
        if not files:
            return []
        token = await self._intent("remove", [f.id for f in files], files)
        oids = [ObjectId(f.id) for f in files]

        async def one(db: Any) -> None:
            await db[FILES].update_many({"_id": {"$in": oids}}, {"$set": {"dead": True}})

        await self._each_database(one)
        if self.changes is not None:
            await self.changes.committed(token, "remove", files)
        return files

    async def count_delivered(self, ids: Iterable[str]) -> None:
        """Add one delivery to each file (search ranks by it). Best effort: no change event."""
        from bson import ObjectId
        from bson.errors import InvalidId

        counts: dict[Any, int] = {}
        for i in ids:
            try:
                oid = ObjectId(i)
            except (InvalidId, TypeError):
                continue
            counts[oid] = counts.get(oid, 0) + 1
        if not counts:
            return

        async def one(db: Any) -> None:
            for oid, n in counts.items():
                await db[FILES].update_one({"_id": oid}, {"$inc": {"deliveries": n}})

        await self.placement.read_each(one)

    async def get_many(self, unique_ids: Iterable[str]) -> dict[str, MediaFile]:
        """Files by ``file_unique_id`` (missing ones are absent from the result)."""
        ids = list(dict.fromkeys(unique_ids))
        if not ids:
            return {}

        async def one(db: Any) -> list[dict[str, Any]]:
            # Bounded queries: a huge $in is one slow operation that can hit a timeout.
            out: list[dict[str, Any]] = []
            for i in range(0, len(ids), LOOKUP_CHUNK):
                out += await db[FILES].find({KEY: {"$in": ids[i:i + LOOKUP_CHUNK]}}).to_list(None)
            return out

        results, _ = await self.placement.read_each(one)
        found: dict[str, MediaFile] = {}
        for docs in results:
            for doc in docs:
                found.setdefault(doc[KEY], from_document(doc, MediaFile))
        return found

    async def get(self, unique_id: str) -> MediaFile | None:
        return (await self.get_many([unique_id])).get(unique_id)

    async def page(self, after: str | None = None, limit: int = 100, *,
                   filter: dict[str, Any] | None = None) -> Page:
        """Files with ``_id`` greater than ``after`` (all when ``None``), ascending, at most ``limit``.

        :param filter: an extra MongoDB filter (e.g. ``{"tokens": {"$all": [...]}}``
            for search); the merge and the cursor stay the same.
        """
        if limit <= 0:
            raise ValueError("limit must be positive")
        from bson import ObjectId

        query: dict[str, Any] = dict(filter or {})
        if after is not None:
            query = {"$and": [query, {"_id": {"$gt": ObjectId(after)}}]} if query else \
                {"_id": {"$gt": ObjectId(after)}}

        async def one(db: Any) -> list[dict[str, Any]]:
            return await db[FILES].find(query).sort("_id", ASCENDING).limit(limit).to_list(None)

        results, skipped = await self.placement.read_each(one)
        items: list[MediaFile] = []
        last: ObjectId | None = None
        for doc in heapq.merge(*results, key=lambda d: d["_id"]):
            # The same _id in two databases is one file written twice by a
            # retried batch, until the router's reconciler removes the extra copy.
            if doc["_id"] == last:
                continue
            last = doc["_id"]
            items.append(from_document(doc, MediaFile))
            if len(items) == limit:
                break
        more = len(items) == limit
        return Page(items=items, next_after=items[-1].id if items and more else None, partial=bool(skipped))

    async def iter_by_id(self, after: str | None = None, *, page_size: int = 500,
                         filter: dict[str, Any] | None = None) -> AsyncIterator[MediaFile]:
        """Every file after ``after`` in ``_id`` order, fetched ``page_size`` at a time."""
        while True:
            page = await self.page(after, page_size, filter=filter)
            for item in page.items:
                yield item
            if page.next_after is None:
                return
            after = page.next_after

    async def count(self, filter: dict[str, Any] | None = None) -> int:
        """Files in the catalogue: from collection metadata without a filter (cheap), else counted."""

        async def one(db: Any) -> int:
            if filter is None:
                return int(await db[FILES].estimated_document_count())
            return int(await db[FILES].count_documents(filter))

        results, _ = await self.placement.read_each(one)
        return sum(results)


def _updater(oid: Any, change: dict[str, Any]) -> Any:
    """``op(db)`` applying ``change`` to document ``oid`` (one per file: a closure in a loop would share them)."""

    async def one(db: Any) -> None:
        await db[FILES].update_one({"_id": oid}, change)

    return one


async def _create_file_indexes(db: Any) -> None:
    coll = db[FILES]
    for name, (keys, options) in FILE_INDEXES.items():
        await coll.create_index(keys, name=name, **options)
