"""The search engine behind every search surface: an interface and its embedded tantivy implementation.

The catalogue (MongoDB) is the source of truth; an engine holds a derived,
rebuildable index of it. The plugin talks only to :class:`Engine`, so a
server engine could replace the embedded one without touching the surfaces.

:class:`TantivyEngine` keeps its index in a directory of its own, with a
checkpoint (the change-stream position the index has applied) next to it.
An index that is missing, unreadable, of another layout, or without a
checkpoint is not an error: the engine starts empty and says
``needs_rebuild``; the plugin then rebuilds it from the catalogue.

Threads: tantivy calls block, so the plugin runs them with
``asyncio.to_thread``. Any number of threads may search while one thread
at a time writes (``index``, ``delete``, ``commit``, ``clear`` take a lock):
a search sees the index as of the last commit.
"""

from __future__ import annotations

import fcntl
import logging
import os
import pathlib
import shutil
import threading
from collections.abc import Iterable, Mapping
from typing import Protocol, runtime_checkable

import msgspec
import tantivy

from mediabot import MediabotError, MediaFile
from mediabot_search import schema as f
from mediabot_search.checkpoint import FILE_NAME, read_checkpoint, remove_checkpoint, write_checkpoint
from mediabot_search.query import ParsedQuery, SearchFilters, build_query, parse_query, typo_budget
from mediabot_search.ranking import correction, top_hits

__all__ = ["Engine", "EngineStats", "IndexLocked", "Relaxation", "SearchFilters", "SearchResult", "TantivyEngine"]

log = logging.getLogger(__name__)

# Totals are exact up to this, then shown as "1,000+"; no page reaches past it.
RESULT_CAP = 1000
MAX_PAGE = 100
# What a title with the query's words in the order typed adds to a file's
# score: more than a shorter title gains from BM25 (about 1 per word), less
# than one exact word (EXACT_SCORE + title BM25): order never beats a match.
PHRASE_SCORE = 2.0


class IndexLocked(MediabotError):
    """Another engine (in this process or another) writes to the same index directory."""


class Relaxation(msgspec.Struct, frozen=True, kw_only=True):
    """How a query was loosened because nothing matched all of it.

    :param dropped: resolution and year words no longer required (they still rank), e.g. ``["1080p"]``.
    :param all_but_one: every title word but one had to match.
    """

    dropped: list[str] = []
    all_but_one: bool = False


class SearchResult(msgspec.Struct, frozen=True, kw_only=True):
    """One page of results.

    :param ids: catalogue ids of the files, best first.
    :param total: how many files match, exact up to the cap.
    :param capped: more than ``total`` match (show "1,000+").
    :param offset: where this page starts in the whole result list.
    :param query: what the text was read as (words, filters written in it).
    :param relaxed: how the query was loosened, when nothing matched all of it.
    :param corrected: misspelled words and what they were read as, from the best match (``{"knigth": "knight"}``).
    """

    ids: list[str]
    total: int
    capped: bool = False
    offset: int = 0
    query: ParsedQuery = ParsedQuery()
    relaxed: Relaxation | None = None
    corrected: dict[str, str] = {}


class EngineStats(msgspec.Struct, frozen=True, kw_only=True):
    """What ``ops`` shows about an engine.

    :param documents: files in the index (as of the last commit).
    :param segments: index segments (merged in the background).
    :param needs_rebuild: the index must be rebuilt from the catalogue.
    :param rebuild_reason: why, for the operator.
    :param checkpoint: the change-stream position of the last checkpointed commit.
    :param directory: where the index lives.
    """

    documents: int
    segments: int
    needs_rebuild: bool
    rebuild_reason: str | None
    checkpoint: str | None
    directory: str


@runtime_checkable
class Engine(Protocol):
    """A search index of catalogue files. Changes are visible to searches after :meth:`commit`."""

    @property
    def needs_rebuild(self) -> bool:
        """The index is empty or incomplete and must be rebuilt from the catalogue."""
        ...

    @property
    def checkpoint(self) -> str | None:
        """The change-stream position of the last checkpointed commit; ``None`` before the first."""
        ...

    def open(self) -> None:
        """Open or create the index; never fails on a missing or corrupt one (see ``needs_rebuild``)."""
        ...

    def close(self) -> None:
        """Release the index; uncommitted changes are dropped."""
        ...

    def index(self, files: Iterable[MediaFile], *, popularity: Mapping[str, int] | None = None) -> int:
        """Add or replace files (by catalogue id); ``popularity`` maps an id to its delivery count."""
        ...

    def delete(self, file_ids: Iterable[str]) -> int:
        """Remove files by catalogue id; unknown ids are ignored."""
        ...

    def clear(self) -> None:
        """Remove every file and forget the checkpoint: the start of a rebuild."""
        ...

    def commit(self, checkpoint: str | None = None) -> None:
        """Make changes visible and durable; record ``checkpoint`` once they are."""
        ...

    def search(self, text: str, *, limit: int = 10, offset: int = 0,
               filters: SearchFilters | None = None) -> SearchResult:
        """Files matching ``text`` and ``filters``, best first."""
        ...

    def stats(self) -> EngineStats:
        ...


def _is_tantivy_panic(exc: BaseException) -> bool:
    # pyo3 turns a Rust panic into PanicException, a BaseException: damaged
    # files can cause one, and it must not escape as if it were a Ctrl-C.
    return type(exc).__name__ == "PanicException"


class TantivyEngine:
    """The embedded engine: a tantivy index in ``directory`` (``index/`` and ``checkpoint.json``).

    :param directory: this engine's own directory (created if missing).
    :param writer_heap: bytes tantivy buffers before it writes a segment.
    """

    def __init__(self, directory: pathlib.Path, *, writer_heap: int = 64_000_000) -> None:
        self.directory = pathlib.Path(directory)
        self._index_dir = self.directory / "index"
        self._writer_heap = writer_heap
        self._schema = f.build_schema()
        self._write_lock = threading.Lock()
        self._index: tantivy.Index | None = None
        self._writer: tantivy.IndexWriter | None = None
        self._searcher: tantivy.Searcher | None = None
        self._checkpoint: str | None = None
        self._rebuild_reason: str | None = None
        self._lock_fd: int | None = None

    def __enter__(self) -> TantivyEngine:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def needs_rebuild(self) -> bool:
        return self._rebuild_reason is not None

    @property
    def rebuild_reason(self) -> str | None:
        return self._rebuild_reason

    @property
    def checkpoint(self) -> str | None:
        return self._checkpoint

    # -- lifecycle -------------------------------------------------------------------

    def open(self) -> None:
        if self._index is not None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_directory()
        try:
            self._open_locked()
        except BaseException:
            self._unlock_directory()
            raise

    def _lock_directory(self) -> None:
        # Before anything is read or wiped: an engine that found "nothing
        # usable" must never delete an index another engine is writing.
        fd = os.open(self.directory / ".engine.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise IndexLocked(f"search index {self.directory} is already open "
                              "(two engines or processes share one data directory? give each its own)") from None
        self._lock_fd = fd

    def _unlock_directory(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock

    def _open_locked(self) -> None:
        checkpoint = read_checkpoint(self.directory)
        index, reason = None, None
        # Nothing there at all is a first start (or a directory deleted on purpose), not damage.
        new = checkpoint is None and not (self.directory / FILE_NAME).exists() and not (
            self._index_dir.is_dir() and any(self._index_dir.iterdir()))
        if new:
            reason = "new index"
        elif checkpoint is None:
            reason = "no readable checkpoint"
        elif checkpoint.index_version != f.INDEX_VERSION:
            reason = f"index layout {checkpoint.index_version}, this version uses {f.INDEX_VERSION}"
        elif not (self._index_dir / "meta.json").is_file():
            reason = "index missing"
        else:
            try:
                index = self._open_existing()
            except BaseException as exc:
                if not isinstance(exc, Exception) and not _is_tantivy_panic(exc):
                    raise
                reason = f"index unreadable ({str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__})"
        if index is None:
            if new:
                log.info("search index in %s is new: it is built from the catalogue", self.directory)
            else:
                log.warning("search index in %s starts empty and must be rebuilt: %s", self.directory, reason)
            remove_checkpoint(self.directory)
            shutil.rmtree(self._index_dir, ignore_errors=True)
            self._index_dir.mkdir(parents=True, exist_ok=True)
            index = tantivy.Index(self._schema, path=str(self._index_dir), reuse=False)
            checkpoint = None
        index.config_reader(reload_policy="manual")
        writer = index.writer(heap_size=self._writer_heap, num_threads=1)
        self._index, self._writer = index, writer
        self._searcher = index.searcher()
        self._checkpoint = checkpoint.position if checkpoint else None
        self._rebuild_reason = reason

    def _open_existing(self) -> tantivy.Index:
        # Index() rather than Index.open(): it refuses an index of another schema.
        index = tantivy.Index(self._schema, path=str(self._index_dir), reuse=True)
        # Touch what a search touches: term dictionaries, postings, stored and fast fields.
        searcher = index.searcher()
        hits = searcher.search(tantivy.Query.all_query(), limit=1).hits
        if hits:
            searcher.doc(hits[0][1])
            searcher.fast_field_values(f.DELIVERIES, [hits[0][1]])
        searcher.search(tantivy.Query.term_query(self._schema, f.WORDS, "a"), limit=1)
        return index

    def close(self) -> None:
        with self._write_lock:
            writer, self._writer = self._writer, None
            self._index = self._searcher = None
        if writer is not None:
            writer.rollback()
            # Dropping the writer releases tantivy's own lock on the index.
            del writer
        self._unlock_directory()

    # -- writing ---------------------------------------------------------------------

    def _require_writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            raise RuntimeError("search engine is not open")
        return self._writer

    def index(self, files: Iterable[MediaFile], *, popularity: Mapping[str, int] | None = None) -> int:
        count = 0
        with self._write_lock:
            writer = self._require_writer()
            for file in files:
                # Delete-then-add: indexing a file again replaces it.
                writer.delete_documents_by_term(f.ID, file.id)
                writer.add_document(f.document_for(file, popularity))
                count += 1
        return count

    def delete(self, file_ids: Iterable[str]) -> int:
        count = 0
        with self._write_lock:
            writer = self._require_writer()
            for file_id in file_ids:
                writer.delete_documents_by_term(f.ID, file_id)
                count += 1
        return count

    def clear(self) -> None:
        with self._write_lock:
            writer = self._require_writer()
            remove_checkpoint(self.directory)
            self._checkpoint = None
            if self._rebuild_reason is None:
                self._rebuild_reason = "cleared for a rebuild"
            writer.delete_all_documents()

    def commit(self, checkpoint: str | None = None) -> None:
        with self._write_lock:
            writer = self._require_writer()
            writer.commit()
            assert self._index is not None
            self._index.reload()
            self._searcher = self._index.searcher()
            if checkpoint is not None:
                # After the commit, never before: an index may be ahead of its checkpoint, not behind.
                write_checkpoint(self.directory, checkpoint, f.INDEX_VERSION)
                self._checkpoint = checkpoint
                self._rebuild_reason = None

    # -- reading ---------------------------------------------------------------------

    def search(self, text: str, *, limit: int = 10, offset: int = 0,
               filters: SearchFilters | None = None) -> SearchResult:
        searcher = self._searcher
        if searcher is None:
            raise RuntimeError("search engine is not open")
        explicit = filters or SearchFilters()
        parsed = parse_query(text or "", explicit)
        limit = max(1, min(limit, MAX_PAGE))
        offset = max(0, offset)
        if parsed.empty and explicit == SearchFilters():
            return SearchResult(ids=[], total=0, offset=offset, query=parsed)
        needed = min(offset + limit, RESULT_CAP)

        addresses: list[tantivy.DocAddress] = []
        count, relaxed = 0, None
        approximate: tuple[list[tantivy.DocAddress], int, Relaxation | None] | None = None
        for optional, all_but_one in self._relaxations(parsed):
            query = self._in_order_first(parsed, build_query(
                self._schema, parsed, explicit, optional_tokens=frozenset(optional), all_but_one=all_but_one))
            addresses, count = top_hits(searcher, query, max(needed, 1), RESULT_CAP)
            if not count:
                continue
            relaxed = Relaxation(dropped=list(optional), all_but_one=all_but_one) if optional or all_but_one else None
            droppable = len(optional) < len(parsed.resolution_words) + len(parsed.year_words)
            if approximate is None and not all_but_one and droppable and not self._exact(
                    searcher, parsed, addresses[0]):
                # "fight club 1080p" with no 1080p copy must not settle for
                # "Eight ... Club 1080p": when the best file has a word only
                # approximately, see whether dropping a resolution or year
                # gives files with every word exactly, and prefer those.
                approximate = (addresses, count, relaxed)
                continue
            if approximate is not None and not self._exact(searcher, parsed, addresses[0]):
                addresses, count, relaxed = approximate
            break
        else:
            if approximate is not None:
                addresses, count, relaxed = approximate
        page = addresses[offset:needed] if offset < needed else []
        docs = [searcher.doc(address) for address in page]
        ids = [doc.get_first(f.ID) for doc in docs]
        corrected = self._corrections(searcher, parsed, addresses[0]) if addresses else {}
        return SearchResult(ids=ids, total=min(count, RESULT_CAP), capped=count > RESULT_CAP, offset=offset,
                            query=parsed, relaxed=relaxed, corrected=corrected)

    def _in_order_first(self, parsed: ParsedQuery, query: tantivy.Query) -> tantivy.Query:
        """``query``, scoring more for a title with the words in the order typed ("midnight express").

        Part of the score, not a re-sort: paging by offset stays stable (see
        :func:`~mediabot_search.ranking.top_hits`). Only the title field is
        searched for the phrase: a caption or tags that happen to hold the
        words in that order are no reason to rank a file first.
        """
        if len(parsed.words) < 2:
            return query
        phrase = tantivy.Query.phrase_query(self._schema, f.NAME, list(parsed.words))
        return tantivy.Query.boolean_query([
            (tantivy.Occur.Must, query),
            (tantivy.Occur.Should, tantivy.Query.const_score_query(phrase, PHRASE_SCORE))])

    @staticmethod
    def _relaxations(parsed: ParsedQuery) -> list[tuple[list[str], bool]]:
        """The fixed order of fallbacks: as typed; without resolution words; without years too; all but one word."""
        steps: list[tuple[list[str], bool]] = [([], False)]
        if parsed.resolution_words:
            steps.append((list(parsed.resolution_words), False))
        if parsed.year_words:
            steps.append((parsed.resolution_words + parsed.year_words, False))
        if len(parsed.words) >= 2:
            steps.append((parsed.resolution_words + parsed.year_words, True))
        return steps

    @staticmethod
    def _exact(searcher: tantivy.Searcher, parsed: ParsedQuery, best: tantivy.DocAddress) -> bool:
        """Whether the file has every title word exactly (the word being typed: as a prefix)."""
        words = set((searcher.doc(best).get_first(f.WORDS) or "").split())
        return all(w in words or (w == parsed.prefix and any(t.startswith(w) for t in words))
                   for w in parsed.words)

    def _corrections(self, searcher: tantivy.Searcher, parsed: ParsedQuery,
                     best: tantivy.DocAddress) -> dict[str, str]:
        unknown = [w for w in parsed.words if typo_budget(w) and searcher.doc_freq(f.WORDS, w) == 0]
        if not unknown:
            return {}
        words = (searcher.doc(best).get_first(f.WORDS) or "").split()
        out: dict[str, str] = {}
        for word in unknown:
            if word == parsed.prefix and any(w.startswith(word) for w in words):
                continue  # a word being typed, not a misspelling
            if (fixed := correction(word, words, typo_budget(word))) is not None:
                out[word] = fixed
        return out

    def stats(self) -> EngineStats:
        searcher = self._searcher
        return EngineStats(
            documents=searcher.num_docs if searcher else 0, segments=searcher.num_segments if searcher else 0,
            needs_rebuild=self.needs_rebuild, rebuild_reason=self._rebuild_reason, checkpoint=self._checkpoint,
            directory=str(self.directory))
