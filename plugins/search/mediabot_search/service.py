"""The one search API every surface uses: ``await plugin.search(text, limit=, after=, filters=)``.

It asks the result cache (when there is one) or the engine for a page of
catalogue ids, loads those files from the catalogue, and leaves out files
that are gone or dead since the page was computed (a cached page may still
list one for up to ``cache_ttl``; delivering it would fail anyway).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import msgspec
from redis.exceptions import RedisError

from mediabot import MediaFile
from mediabot_search.cache import ResultCache
from mediabot_search.engine import RESULT_CAP, Relaxation, SearchFilters, SearchResult, TantivyEngine
from mediabot_search.query import parse_query

__all__ = ["SearchPage", "SearchService", "notice_for"]

MAX_LIMIT = 50


class SearchPage(msgspec.Struct, kw_only=True):
    """One page of search results.

    :param files: the files, best first (gone or dead ones left out).
    :param total: how many files match, exact up to 1,000 (see ``capped``).
    :param capped: more than ``total`` match: show :attr:`total_text` ("1,000+").
    :param offset: where this page starts in the whole result list.
    :param limit: the page size asked for.
    :param next: the cursor of the next page (``after=``), ``None`` on the last page.
    :param previous: the cursor of the previous page, ``None`` on the first.
    :param relaxed: how the query was loosened because nothing matched all of it.
    :param corrected: misspelled words and what they were read as.
    :param notice: one sentence for the user about ``relaxed``/``corrected``, or ``None``.
    :param words: the title words the text was read as.
    :param incomplete: the index is being rebuilt: what to tell the user (results may be missing).
    """

    files: list[MediaFile]
    total: int
    capped: bool = False
    offset: int = 0
    limit: int = 10
    next: str | None = None
    previous: str | None = None
    relaxed: Relaxation | None = None
    corrected: dict[str, str] = {}
    notice: str | None = None
    words: list[str] = []
    incomplete: str | None = None

    @property
    def total_text(self) -> str:
        """``"23"``, ``"1,000"`` or ``"1,000+"``."""
        return f"{self.total:,}+" if self.capped else f"{self.total:,}"


def notice_for(result: SearchResult) -> str | None:
    """What to tell the user about a relaxed or corrected query."""
    parts: list[str] = []
    title = " ".join(result.query.words)
    relaxed = result.relaxed
    if relaxed is not None:
        resolutions = [w for w in relaxed.dropped if w in result.query.resolution_words]
        years = [w for w in relaxed.dropped if w in result.query.year_words]
        if resolutions:
            parts.append(f"No {' '.join(resolutions)} copy of “{title}”; showing other resolutions.")
        if years:
            parts.append(f"Nothing from {' '.join(years)}; showing other years.")
        if relaxed.all_but_one:
            parts.append("Nothing matches every word; showing files that match all but one.")
    if result.corrected:
        fixes = ", ".join(f"{typed} → {meant}" for typed, meant in result.corrected.items())
        parts.append(f"Showing results for corrected words ({fixes}).")
    return " ".join(parts) or None


def _offset(after: str | None) -> int:
    if not after:
        return 0
    try:
        return max(0, min(int(after), RESULT_CAP))
    except ValueError:
        return 0  # a cursor we did not make: start over rather than fail


class SearchService:
    """Engine + cache + catalogue.

    :param files: the catalogue (``app.files``) -> files by id.
    :param engine: this process's engine.
    :param cache: the shared result cache, or ``None`` (no Redis, or ``cache_ttl = 0``).
    :param on_engine_query: called once per engine search (a metric, tests count it).
    :param before_engine: awaited before each engine search (the index catching up on the stream).
    :param incomplete: what to tell the user while the index is being rebuilt (``None``: it is complete).
    """

    def __init__(self, files: Callable[[], object], engine: TantivyEngine, cache: ResultCache | None,
                 on_engine_query: Callable[[], None],
                 before_engine: Callable[[], Awaitable[None]] | None = None,
                 incomplete: Callable[[], str | None] | None = None) -> None:
        self._incomplete = incomplete
        self._files = files
        self.engine = engine
        self.cache = cache
        self._on_engine_query = on_engine_query
        self._before_engine = before_engine

    async def search(self, text: str, *, limit: int = 10, after: str | None = None,
                     filters: SearchFilters | None = None) -> SearchPage:
        limit = max(1, min(int(limit), MAX_LIMIT))
        offset = _offset(after)
        text = text or ""
        result = await self._result(text, limit, offset, filters)
        catalogue = self._files()
        found = await catalogue.by_ids(result.ids) if result.ids and catalogue is not None else {}  # type: ignore[attr-defined]
        files = [found[i] for i in result.ids if i in found and not found[i].dead]
        end = offset + limit
        return SearchPage(
            files=files, total=result.total, capped=result.capped, offset=offset, limit=limit,
            next=str(end) if end < min(result.total, RESULT_CAP) else None,
            previous=str(max(0, offset - limit)) if offset > 0 else None,
            relaxed=result.relaxed, corrected=result.corrected, notice=notice_for(result),
            words=list(result.query.words), incomplete=self._incomplete() if self._incomplete else None)

    async def _result(self, text: str, limit: int, offset: int, filters: SearchFilters | None) -> SearchResult:
        async def compute() -> SearchResult:
            if self._before_engine is not None:
                await self._before_engine()
            self._on_engine_query()
            return await asyncio.to_thread(self.engine.search, text, limit=limit, offset=offset, filters=filters)

        if self.cache is None:
            return await compute()
        # The key is what the engine reads the text as, not the text: case,
        # punctuation and spacing do not split the cache.
        normalised = msgspec.msgpack.encode(parse_query(text, filters or SearchFilters()))
        try:
            return await self.cache.get_or_compute(normalised, offset, limit, compute)
        except (RedisError, OSError):
            return await compute()  # Redis away: answer from the index
