"""Inserting documents unique by a key across several databases.

A unique index only covers one database, so the router keeps one more
collection, in the home database: ``<collection>_claims``, with the key as
``_id``. Its unique ``_id`` index is the single source of truth for "which
database holds this file":

1. **claim** — insert ``{_id: key, db: target, at, w: writer}`` for the
   whole batch (``insert_many(ordered=False)``). Won claims are ours.
2. a **lost** claim names the database that holds (or is receiving) the key:

   * the target itself: write anyway, the target's unique index decides;
   * another database that has the document: a duplicate, counted;
   * another database that does not have it: a writer is on its way there
     (left alone: *deferred*, the caller retries later) or died on the way
     (the claim is older than ``claim_lease``: taken over by compare-and-set);
   * an unreachable database: deferred.

3. **write** the documents whose claims are ours to the target.

Each batch (or chunk) goes through these steps as one :class:`WriteAttempt`,
round after round until nothing is left to write: a database that fails or
fills up under it is left for the next one.

When the home database is not the target (a dedicated home, or writes moved
on) and measurements say it pays, a batch is cut in two: a head of
``head`` documents and the rest, each an attempt of its own. The rest is
claimed (home server) while the head is written (target server), so the
claim no longer adds its whole time to the batch, at the price of one more
insert command (:mod:`mediabot_dbrouter.cutting` decides). When one server
does both there is nothing to overlap, and the batch stays whole.

If the target fails mid-write, the claims of this call are moved to the next
database by compare-and-set (only if still ours), after the failed database
is recorded as a *suspect* for those keys (``<collection>_suspects``): it may
have applied the write before dying. The reconciler removes such a stray copy
once the new owner's copy is confirmed.

When the home database itself is unreachable there is no registry: writes
continue (**degraded**) — serialised in this process, checked against every
reachable database, and their keys recorded in the target's
``<collection>_pending``. The reconciler claims pending documents when the
home database is back and deletes the losing copy of any
key written twice meanwhile (possible only across processes, or with a copy
on a database that was unreachable too). It never deletes a copy unless the
owner's copy is confirmed. Keys whose claim the home refuses as over its
space quota are written the same way: no registry takes them.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import bson
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, OperationFailure

from mediabot import DatabaseUnavailable, InsertReport, utcnow
from mediabot_dbrouter.cutting import BatchCutter, CutMode
from mediabot_dbrouter.member import Member, MemberUnavailable, is_quota_error
from mediabot_dbrouter.naming import claims_collection, pending_collection, suspects_collection

if TYPE_CHECKING:
    from mediabot_dbrouter.router import DatabaseRouter

__all__ = ["UniqueWriter", "WriteAttempt", "insert_outcome", "mark_suspects"]

Batch = dict[Any, dict[str, Any]]


def insert_outcome(exc: BulkWriteError) -> tuple[int, list[int], list[int]]:
    """From an unordered insert: (inserted, duplicate-key positions, over-quota positions).

    The kernel's parser (:meth:`mediabot.InsertReport.outcome_of`), told what "over quota" is
    on a database here; any other write error is re-raised.
    """
    return InsertReport.outcome_of(exc, is_full=_over_quota)


def _over_quota(err: dict[str, Any]) -> bool:
    return is_quota_error(OperationFailure(err.get("errmsg", ""), err.get("code")))


def refused_as_full(m: Member, exc: BulkWriteError) -> MemberUnavailable:
    """A bulk write whose documents must all land (markers, suspects) met a full database: it is unavailable.

    :raises BulkWriteError: ``exc``, when it says anything but duplicates and a full database.
    """
    _, _, full = insert_outcome(exc)
    if not full:
        raise exc
    m.capacity.full = True
    m.last_error = "over quota"
    return MemberUnavailable(m.name, "full", exc)


class WriteAttempt:
    """One batch, or one chunk of a cut batch, on its way: everything a round of the write path needs.

    :param collection: the catalogue collection (``files``).
    :param key: the key unique across databases (``file_unique_id``).
    :param batch: documents still to write, by key; each round leaves what is left.
    :param token: the writer's mark on its claims (shared by the chunks of one batch).
    :param report: what the call did (shared by the chunks of one batch).
    :param after: the chunk before this one: it claims first and writes first.
    """

    def __init__(self, collection: str, key: str, batch: Batch, *, token: str, report: InsertReport,
                 after: WriteAttempt | None = None) -> None:
        self.collection = collection
        self.key = key
        self.batch = batch
        self.token = token
        self.report = report
        self.after = after
        #: databases that failed or filled up under this attempt: not tried again by it
        self.failed: list[Member] = []
        #: set once its claim is settled: the next chunk may claim
        self.claimed = asyncio.Event()
        #: set once it is over: the next chunk may write
        self.done = asyncio.Event()

    def defer(self, keep: Batch, k: Any) -> None:
        """Leave ``k`` for a later call (another writer holds it, or its database cannot be asked)."""
        if keep.pop(k, None) is not None:
            self.report.deferred.append(k)

    def stored(self, target: Member, keys: list[Any]) -> None:
        """``keys`` are now in ``target`` (acknowledged)."""
        if not keys:
            return
        report = self.report
        report.inserted += len(keys)
        report.databases[target.name] = report.databases.get(target.name, 0) + len(keys)
        assert report.stored is not None
        report.stored.extend(keys)


class Claimed(NamedTuple):
    """What a claim left to write: ``ours`` under the registry, ``unregistered`` without it (home full)."""

    ours: Batch
    unregistered: Batch


class UniqueWriter:
    """The write path of :class:`~mediabot_dbrouter.router.DatabaseRouter` (see the module docstring).

    :param pipeline_chunk: documents claimed and written first when a batch is cut.
    :param pipeline: the cutting switch (:class:`~mediabot_dbrouter.cutting.BatchCutter`).
    """

    def __init__(self, router: DatabaseRouter, *, pipeline_chunk: int = 15, pipeline: CutMode = "auto") -> None:
        self.router = router
        self.cutter = BatchCutter(head=pipeline_chunk, mode=pipeline)
        self._degraded = asyncio.Lock()

    # What the cutter measured, under the names the benchmark reports.
    @property
    def pipeline_chunk(self) -> int:
        return self.cutter.head

    @property
    def pipelined(self) -> int:
        return self.cutter.cut

    @property
    def claim_ms_per_key(self) -> float | None:
        return self.cutter.claim_ms_per_key

    async def insert(self, collection: str, docs: list[dict[str, Any]], key: str) -> InsertReport:
        router = self.router
        router.unique_collections.setdefault(collection, key)
        report, batch = InsertReport.for_batch(docs, key)
        report.stored = []  # said exactly: the catalogue need not read the batch back
        token = secrets.token_hex(8)
        attempts: list[WriteAttempt] = []
        for chunk in self._chunks(batch):
            attempts.append(WriteAttempt(collection, key, chunk, token=token, report=report,
                                         after=attempts[-1] if attempts else None))
        # Every chunk runs to its end even when another one fails; the first error is raised after.
        outcomes = await asyncio.gather(*(self._run(a) for a in attempts), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        if report.deferred:
            router.counters.deferred.inc(len(report.deferred))
        return report

    def _chunks(self, batch: Batch) -> list[Batch]:
        """The batch whole, or cut in two when the claims and the files go to two servers and it pays."""
        router = self.router
        if not self.cutter.could_cut(len(batch)) or not router.home.readable:
            return [batch]
        try:
            target = router.choose_target()
        except DatabaseUnavailable:
            return [batch]
        if target is router.home or not self.cutter.cuts(len(batch), target.rtt_ms):
            return [batch]  # one server does both: nothing to overlap
        return self.cutter.halves(batch)

    async def _run(self, attempt: WriteAttempt) -> None:
        """Rounds until nothing is left: claim (in order with the chunk before), then write."""
        try:
            if attempt.after is not None:
                await attempt.after.claimed.wait()
            while attempt.batch:
                await self._round(attempt)
        finally:
            attempt.claimed.set()  # never leave the next chunk waiting
            attempt.done.set()

    async def _round(self, attempt: WriteAttempt) -> None:
        router = self.router
        target = router.choose_target(exclude=attempt.failed)
        home = router.home
        if home in attempt.failed or not home.readable:
            attempt.batch = await self._write_unregistered(attempt, target, attempt.batch)
            return
        try:
            claimed = await self._claim(attempt, target)
        except MemberUnavailable as exc:
            if exc.member != home.name:
                raise
            attempt.batch = await self._write_unregistered(attempt, target, attempt.batch)
            return
        finally:
            attempt.claimed.set()
        if attempt.after is not None:
            await attempt.after.done.wait()  # writes one at a time: concurrent inserts only contend
        left = await self._write(attempt, target, claimed.ours, pending=False)
        if claimed.unregistered:
            failed = target in attempt.failed  # then the next round takes them elsewhere
            left |= claimed.unregistered if failed else \
                await self._write_unregistered(attempt, target, claimed.unregistered)
        attempt.batch = left

    async def _write_unregistered(self, attempt: WriteAttempt, target: Member, batch: Batch) -> Batch:
        """Degraded: no registry. Serialised in this process, checked elsewhere, marked pending."""
        async with self._degraded:
            batch = await self._check_elsewhere(attempt, target, batch)
            return await self._write(attempt, target, batch, pending=True)

    # -- 1. claim ------------------------------------------------------------------
    async def _claim(self, attempt: WriteAttempt, target: Member) -> Claimed:
        """Claim the attempt's batch for ``target``: what to write there, with and without the registry."""
        home = self.router.home
        batch = attempt.batch
        claims = home.db[claims_collection(attempt.collection)]
        now = utcnow()
        keys = list(batch)
        mine = [{"_id": k, "db": target.name, "at": now, "w": attempt.token} for k in keys]
        start = time.perf_counter()
        try:
            await home.run(lambda: claims.insert_many(mine, ordered=False))
            self.router.note_written(home, 0, 48 * len(keys))
            ms = (time.perf_counter() - start) * 1000
            self.cutter.note_claim(max(0.0, ms - (home.rtt_ms or 0.0)) / len(keys))
            return Claimed(batch, {})
        except BulkWriteError as exc:
            inserted, dups, full = insert_outcome(exc)
        self.router.note_written(home, 0, 48 * inserted)
        keep = dict(batch)
        unregistered: Batch = {}
        if full:
            # The registry has no room for these keys: they are written as while the
            # home is unreachable (pending markers), never without any trace.
            home.capacity.full = True
            home.last_error = "over quota"
            unregistered = {keys[i]: keep.pop(keys[i]) for i in full}
        lost = [keys[i] for i in dups]
        existing = {c["_id"]: c for c in await home.run(lambda: claims.find({"_id": {"$in": lost}}).to_list(None))}
        failed_names = {m.name for m in attempt.failed}
        moves: dict[tuple[str, Any], list[Any]] = defaultdict(list)
        to_check: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for k in lost:
            claim = existing.get(k)
            owner = None if claim is None else claim["db"]
            if claim is None:
                attempt.defer(keep, k)  # released meanwhile; next call claims it
            elif owner == target.name:
                pass  # ours from an earlier attempt, or a concurrent writer's: target's unique index decides
            elif claim.get("w") == attempt.token and owner in failed_names:
                moves[(owner, attempt.token)].append(k)  # our own claim, for a database that failed under us
            else:
                to_check[owner].append(claim)
        for owner, held in to_check.items():
            await self._judge(attempt, owner, held, keep, moves)
        if moves:
            await self._move_claims(attempt, moves, target, now, keep)
        return Claimed(keep, unregistered)

    async def _judge(self, attempt: WriteAttempt, owner: str, held: list[dict[str, Any]], keep: Batch,
                     moves: dict[tuple[str, Any], list[Any]]) -> None:
        """Keys claimed for another database: duplicate, deferred, or taken over."""
        m = self.router.member(owner)
        keys = [c["_id"] for c in held]
        if m is None:  # no longer configured: nothing there to keep
            for c in held:
                moves[(owner, c.get("w"))].append(c["_id"])
            return
        collection, key = attempt.collection, attempt.key
        try:
            present = set(await m.run(lambda: m.db[collection].distinct(key, {key: {"$in": keys}})))
        except MemberUnavailable:
            for k in keys:
                attempt.defer(keep, k)
            return
        lease = self.router.settings.claim_lease
        now = utcnow()
        for c in held:
            k = c["_id"]
            if k in present:
                keep.pop(k, None)
                attempt.report.duplicates += 1
            elif (now - c["at"]).total_seconds() >= lease:
                moves[(owner, c.get("w"))].append(k)  # its writer died on the way
            else:
                attempt.defer(keep, k)  # a writer is on its way there

    async def _move_claims(self, attempt: WriteAttempt, moves: dict[tuple[str, Any], list[Any]], target: Member,
                           now: datetime, keep: Batch) -> None:
        home = self.router.home
        claims = home.db[claims_collection(attempt.collection)]
        token = attempt.token
        moved: list[Any] = []
        for (owner, writer), keys in moves.items():
            # Suspect first: were we to stop between the two writes, a suspect
            # that is still the owner is simply cleared later.
            await mark_suspects(home, attempt.collection, keys, owner)
            # Compare-and-set on (owner, writer): a claim someone else moved meanwhile stays theirs.
            await home.run(lambda keys=keys, owner=owner, writer=writer: claims.update_many(
                {"_id": {"$in": keys}, "db": owner, "w": writer},
                {"$set": {"db": target.name, "at": now, "w": token}}))
            moved += keys
        final = {c["_id"]: c for c in await home.run(lambda: claims.find({"_id": {"$in": moved}}).to_list(None))}
        for k in moved:
            c = final.get(k)
            if c is None or c["db"] != target.name or c.get("w") != token:
                attempt.defer(keep, k)

    # -- degraded: no registry -----------------------------------------------------
    async def _check_elsewhere(self, attempt: WriteAttempt, target: Member, batch: Batch) -> Batch:
        """Drop keys another reachable database already holds (best effort without the registry)."""
        others = [m for m in self.router.members
                  if m is not target and m is not self.router.home and m not in attempt.failed and m.readable
                  and m.holds_files]
        collection, key = attempt.collection, attempt.key
        keys = list(batch)
        found = await asyncio.gather(*(m.run(lambda m=m: m.db[collection].distinct(key, {key: {"$in": keys}}))
                                       for m in others), return_exceptions=True)
        for answer in found:
            if isinstance(answer, MemberUnavailable):
                continue  # cannot check there; the reconciler settles it later
            if isinstance(answer, BaseException):
                raise answer
            for k in answer:
                if batch.pop(k, None) is not None:
                    attempt.report.duplicates += 1
        return batch

    @staticmethod
    async def _mark_pending(collection: str, keys: list[Any], target: Member) -> None:
        markers = target.db[pending_collection(collection)]
        now = utcnow()
        try:
            await target.run(lambda: markers.insert_many([{"_id": k, "at": now} for k in keys], ordered=False))
        except BulkWriteError as exc:
            # Already marked by an earlier attempt: fine. No room for a marker: no write there.
            if insert_outcome(exc).full:
                raise refused_as_full(target, exc) from exc

    # -- 3. write ------------------------------------------------------------------
    async def _write(self, attempt: WriteAttempt, target: Member, batch: Batch, *, pending: bool) -> Batch:
        """Insert into ``target``; returns what is left to write elsewhere (empty when done)."""
        if not batch:
            return {}
        keys = list(batch)
        docs = list(batch.values())
        try:
            if pending:
                # The marker first: if the documents land, the reconciler finds them.
                await self._mark_pending(attempt.collection, keys, target)
            await target.run(lambda: target.db[attempt.collection].insert_many(docs, ordered=False))
            inserted, dups, full = len(docs), [], []
        except MemberUnavailable:
            attempt.failed.append(target)
            return batch
        except BulkWriteError as exc:
            inserted, dups, full = insert_outcome(exc)
        attempt.report.duplicates += len(dups)
        # An unordered insert stores every document but those it reports.
        refused = {*dups, *full}
        attempt.stored(target, [k for i, k in enumerate(keys) if i not in refused])
        self.router.note_written(target, inserted, inserted * _average_size(docs))
        if not full:
            return {}
        target.capacity.full = True
        attempt.failed.append(target)
        return {keys[i]: batch[keys[i]] for i in full}


def _average_size(docs: list[dict[str, Any]], samples: int = 8) -> int:
    """Average BSON size of a few documents: the capacity estimate needs no more (measured anyway later)."""
    step = max(1, len(docs) // samples)
    sizes = [len(bson.encode(d)) for d in docs[::step]]
    return sum(sizes) // len(sizes) if sizes else 0


async def mark_suspects(home: Member, collection: str, keys: list[Any], suspect: str) -> None:
    """Record that ``suspect`` may hold a stray copy of ``keys`` (home database)."""
    if not keys:
        return
    suspects = home.db[suspects_collection(collection)]
    ops = [UpdateOne({"_id": k}, {"$addToSet": {"on": suspect}}, upsert=True) for k in keys]
    try:
        await home.run(lambda: suspects.bulk_write(ops, ordered=False))
    except BulkWriteError as exc:
        raise refused_as_full(home, exc) from exc
