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

from mediabot.catalog.models import MediaFile, from_document, to_document
from mediabot.catalog.placement import InsertReport, Placement, placement_of

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

    def __init__(self, provider: Any) -> None:
        self.placement: Placement = placement_of(provider)

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
        return await self.placement.insert_unique(FILES, docs, key=KEY)

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


async def _create_file_indexes(db: Any) -> None:
    coll = db[FILES]
    for name, (keys, options) in FILE_INDEXES.items():
        await coll.create_index(keys, name=name, **options)
