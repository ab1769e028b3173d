"""Keeping this process's index equal to the catalogue: open, rebuild, follow.

The catalogue (MongoDB) is the source of truth; the index is derived from
it and may always be thrown away:

- **open** at startup (in a thread: tantivy blocks). A missing, corrupt or
  other-layout index opens empty and says ``needs_rebuild``; never fatal.
- **rebuild** from the catalogue (every live file, in ``_id`` order, in
  batches, progress in the log) when the index needs it, when its checkpoint
  is older than what the change stream still holds (trimmed past it), or on
  request (``mediabot search reindex``). The stream's last id is read
  *before* the catalogue, and becomes the checkpoint: every change after it
  is applied by the follower, so nothing written during the rebuild is
  missed (applying a change twice is harmless: files are replaced by id).
  While it runs, searches answer from the old index (a usable one is
  replaced only by the final commit) or from what is indexed so far (an
  empty one is committed batch by batch).
- **follow** the change stream (``app.changes``) from the checkpoint, in
  batches: add/update index the files, remove deletes them, one commit per
  batch with the stream id as checkpoint. Every process reads the whole
  stream (no consumer group): each has its own index.
- **without Redis** there is no stream: the ``mediabot_files_*`` hooks of
  this process feed the index instead, and the index is rebuilt at every
  start (nothing says what changed while the process was down).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from mediabot import CatalogChange, MediaFile, honour_cancellation
from mediabot_search.cache import ResultCache, stream_id_at_least
from mediabot_search.engine import TantivyEngine

__all__ = ["IndexKeeper"]

ZERO = "0-0"
FOLLOW_BATCH = 500
# The follower polls (a non-blocking XREAD) at least this often. It waits on
# the app clock rather than in a blocking XREAD: a test's virtual clock then
# drives it like every other loop, and a poll costs Redis next to nothing.
MAX_POLL = 0.25
LIVE = {"dead": {"$ne": True}}


def _stream_id_before(a: str, b: str) -> bool:
    return not stream_id_at_least(a, b)


class IndexKeeper:
    """Owns the engine of this process and keeps it current (see the module docstring).

    :param app: the application.
    :param directory: the engine's directory.
    :param lag: seconds within which a change should be searchable.
    :param batch: files per rebuild batch.
    :param log: the plugin's logger.
    """

    def __init__(self, app: Any, directory: Path, *, lag: float, batch: int, log: logging.Logger) -> None:
        self.app = app
        self.engine = TantivyEngine(directory)
        self.lag = lag
        self.batch = batch
        self.log = log
        self.cache: ResultCache | None = None
        #: the stream position the index has applied and committed (``None``: not yet / rebuilding)
        self.position: str | None = None
        self.rebuilding = False
        #: while an empty or unusable index is rebuilt: (files indexed so far, files expected)
        self.filling: tuple[int, int] | None = None
        #: why the index must be rebuilt before it can follow the stream (``None``: it can)
        self.rebuild_reason: str | None = None
        self.rebuilds = 0
        self._rebuild_lock = asyncio.Lock()
        self._advanced = asyncio.Condition()
        self._held: list[tuple[str, list[MediaFile]]] = []  # hook changes that arrived during a rebuild
        m = app.metrics
        self._applied = m.counter("mediabot_search_index_changes_total", "Catalogue changes applied to the index",
                                  ["op"])
        self._rebuilt = m.counter("mediabot_search_index_rebuilds_total", "Index rebuilds from the catalogue")
        self._documents = m.gauge("mediabot_search_index_documents", "Files in this process's index")

    @property
    def streaming(self) -> bool:
        return self.app.changes is not None

    # -- startup ---------------------------------------------------------------------
    async def open(self) -> str | None:
        """Open the index; returns (and remembers) why it must be rebuilt, or ``None`` when it can follow on."""
        await asyncio.to_thread(self.engine.open)
        self.rebuild_reason = await self._why_rebuild()
        return self.rebuild_reason

    async def _why_rebuild(self) -> str | None:
        if self.engine.needs_rebuild:
            return self.engine.rebuild_reason or "index unusable"
        if not self.streaming:
            return "no change stream (no Redis): rebuilt at every start"
        checkpoint = self.engine.checkpoint or ZERO
        missed = await self._missed_since(checkpoint)
        if missed:
            return missed
        self.position = checkpoint
        return None

    async def _missed_since(self, checkpoint: str) -> str | None:
        """Why changes after ``checkpoint`` are no longer in the stream, or ``None``."""
        changes = self.app.changes
        first, _last = await changes.bounds()
        deleted = await self._max_deleted(changes)
        if deleted is not None:
            # Redis 7 knows the newest id it ever trimmed: exact.
            if _stream_id_before(checkpoint, deleted):
                return f"the change stream was trimmed past the index checkpoint {checkpoint}"
            return None
        if first is not None and checkpoint != ZERO and _stream_id_before(checkpoint, first):
            return f"the index checkpoint {checkpoint} is older than the change stream's first entry {first}"
        return None

    @staticmethod
    async def _max_deleted(changes: Any) -> str | None:
        try:
            info = await changes.redis.xinfo_stream(changes.key)
        except Exception:  # noqa: BLE001 - no stream yet, or a Redis without the field
            return None
        raw = info.get("max-deleted-entry-id") if isinstance(info, dict) else None
        if raw is None:
            return None
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    # -- rebuild ---------------------------------------------------------------------
    async def rebuild(self, reason: str, *, progress: Callable[[int, int], None] | None = None) -> int:
        """Rebuild the index from the catalogue; returns how many files it holds."""
        async with self._rebuild_lock:
            done = await self._rebuild(reason, progress)
            self.rebuild_reason = None
            return done

    async def _rebuild(self, reason: str, progress: Callable[[int, int], None] | None) -> int:
        app = self.app
        if app.files is None:
            raise RuntimeError("the search index is built from the catalogue: this deployment has no database")
        self.rebuilding = True
        self.position = None
        try:
            # Before the catalogue is read: changes after this id are replayed by the follower.
            start = ZERO
            if self.streaming:
                _first, last = await app.changes.bounds()
                start = last or ZERO
            # A usable index keeps answering until the final commit; an empty one fills in batch by batch.
            visible_progress = self.engine.needs_rebuild
            expected = await app.files.count()
            if visible_progress:
                self.filling = (0, expected)
            self.log.info("search index: rebuilding from the catalogue (%s); about %d files", reason, expected)
            await asyncio.to_thread(self.engine.clear)
            done = 0
            batch: list[MediaFile] = []
            async for file in app.files.iter_by_id(page_size=self.batch, filter=LIVE):
                batch.append(file)
                if len(batch) >= self.batch:
                    done += await self._index_batch(batch, commit=visible_progress)
                    batch = []
                    if visible_progress:
                        self.filling = (done, expected)
                    self.log.info("search index: %d of about %d files indexed", done, expected)
                    if progress is not None:
                        progress(done, expected)
            if batch:
                done += await self._index_batch(batch, commit=False)
            await asyncio.to_thread(self.engine.commit, start)
            self._rebuilt.inc()
            self.rebuilds += 1
            self._documents.set(done)
            if progress is not None:
                progress(done, max(done, expected))
            self.log.info("search index: rebuilt with %d files (checkpoint %s)", done, start)
            await self._advance(start)
            held, self._held = self._held, []
            for op, files in held:
                await self.apply_hook(op, files)
            return done
        finally:
            self.rebuilding = False
            self.filling = None

    def incomplete(self) -> str | None:
        """What a user is told while an empty index fills up (a usable one answers as before)."""
        if self.filling is None:
            return None
        done, expected = self.filling
        if expected == 0 or done > expected:  # counts that would only puzzle: files came in meanwhile
            return "The search index is being rebuilt: results may be missing. Try again in a minute."
        return (f"The search index is being rebuilt ({done:,} of about {expected:,} files so far): "
                "results may be missing. Try again in a minute.")

    async def _index_batch(self, files: list[MediaFile], *, commit: bool) -> int:
        def work() -> int:
            n = self.engine.index(files)
            if commit:
                self.engine.commit()
            return n

        return await asyncio.to_thread(work)

    # -- following -------------------------------------------------------------------
    async def run(self) -> None:
        """The loop body: rebuild when needed, then follow the stream (until cancelled).

        Restarted by the supervisor after a crash (MongoDB away during a
        rebuild...): a rebuild that did not finish is started again.
        """
        if self.rebuild_reason is not None or self.position is None:
            await self.rebuild(self.rebuild_reason or "index behind")
        if not self.streaming:
            return
        poll = max(0.01, min(MAX_POLL, self.lag / 4))
        while True:
            honour_cancellation()
            async with self._rebuild_lock:  # a requested rebuild pauses the follower
                pass
            assert self.position is not None
            try:
                entries = await self.app.changes.read(self.position, count=FOLLOW_BATCH)
            except Exception as exc:  # noqa: BLE001 - Redis away: search keeps answering from the index
                self.log.warning("search index: cannot read the change stream (%s: %s); retrying",
                                 type(exc).__name__, exc)
                await self.app.clock.sleep(1.0)
                continue
            if entries:
                await self.apply(entries)
            if self.cache is not None and self.cache.pending_bump is not None:
                await self._bump(self.cache.pending_bump)
            if len(entries) < FOLLOW_BATCH:  # caught up: wait for more
                await self.app.clock.sleep(poll)

    async def apply(self, entries: list[tuple[str, CatalogChange]]) -> None:
        """Apply stream entries (oldest first) in one commit checkpointed at the last id."""
        upserts: dict[str, MediaFile] = {}
        removals: set[str] = set()
        for _sid, change in entries:
            for file in change.files:
                if change.op == "remove" or file.dead:
                    upserts.pop(file.id, None)
                    removals.add(file.id)
                else:
                    removals.discard(file.id)
                    upserts[file.id] = file
        last = entries[-1][0]

        def work() -> int:
            self.engine.delete(removals)
            self.engine.index(upserts.values())
            self.engine.commit(last)
            return self.engine.stats().documents

        documents = await asyncio.to_thread(work)
        self._documents.set(documents)
        self._applied.labels(op="index").inc(len(upserts))
        self._applied.labels(op="delete").inc(len(removals))
        # Bump first: a search that sees this position also sees the version
        # it belongs to (or a throttled older one), never a version that moves
        # right after it cached a page.
        await self._bump(last)
        await self._advance(last)

    async def _bump(self, position: str) -> None:
        if self.cache is None:
            return
        try:
            await self.cache.bump(position)
        except Exception as exc:  # noqa: BLE001 - a stale cache lives at most cache_ttl; retried next batch
            self.cache.pending_bump = position
            self.log.warning("search cache: version bump failed: %s: %s", type(exc).__name__, exc)

    async def _advance(self, position: str) -> None:
        async with self._advanced:
            self.position = position
            self._advanced.notify_all()

    # -- hooks (no Redis) ------------------------------------------------------------
    async def apply_hook(self, op: str, files: Iterable[MediaFile]) -> None:
        """A ``mediabot_files_*`` hook in this process (only used without a change stream)."""
        files = list(files)
        if self.rebuilding or self.position is None:
            self._held.append((op, files))
            return
        remove = op == "remove"

        def work() -> None:
            if remove:
                self.engine.delete(f.id for f in files)
            else:
                self.engine.delete(f.id for f in files if f.dead)
                self.engine.index(f for f in files if not f.dead)
            self.engine.commit(ZERO)

        await asyncio.to_thread(work)
        self._applied.labels(op="delete" if remove else "index").inc(len(files))

    # -- waiting ---------------------------------------------------------------------
    async def fresh(self, max_wait: float) -> None:
        """Before the engine answers: let the follower apply what is already in the stream, up to ``max_wait``.

        A search right after an insert (the demo seeding, a user who saw a
        post appear) then finds the file instead of racing the follower.
        Never waits during a rebuild, and never raises: a late index answers.
        """
        if not self.streaming or self.rebuilding or self.position is None:
            return
        try:
            newest = await self.app.changes.redis.xrevrange(self.app.changes.key, count=1)
        except Exception:  # noqa: BLE001 - Redis away: answer from the index as it is
            return
        if not newest:
            return
        raw = newest[0][0]
        target = raw.decode() if isinstance(raw, bytes) else str(raw)
        if stream_id_at_least(self.position, target):
            return

        async def reached() -> None:
            async with self._advanced:
                await self._advanced.wait_for(lambda: stream_id_at_least(self.position, target))

        try:
            await asyncio.wait_for(reached(), max_wait)
        except TimeoutError:
            pass

    async def caught_up(self, timeout: float = 10.0) -> None:
        """Wait (real seconds) until the index has applied everything the stream holds now.

        Without a stream: until a running rebuild is done. Raises ``TimeoutError``.
        """
        target = ZERO
        if self.streaming:
            _first, last = await self.app.changes.bounds()
            target = last or ZERO

        async def reached() -> None:
            async with self._advanced:
                await self._advanced.wait_for(
                    lambda: not self.rebuilding and stream_id_at_least(self.position, target))

        await asyncio.wait_for(reached(), timeout)

    async def close(self) -> None:
        await asyncio.to_thread(self.engine.close)
