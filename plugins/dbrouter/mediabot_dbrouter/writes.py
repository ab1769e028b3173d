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

When the home database is not the target (a dedicated home, or writes moved
on) and measurements say it pays, a batch is cut in two: a head of
``pipeline_chunk`` documents and the rest, each going through 1–3 on its
own. The rest is claimed (home server) while the head is written (target
server), so the claim no longer adds its whole time to the batch, at the
price of one more insert command: it pays with servers on one machine or
network, not across the internet to a hosted cluster
(:meth:`UniqueWriter.pays_to_cut`). When one server does both there is
nothing to overlap, and the batch stays whole.

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
owner's copy is confirmed.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import time
from collections import defaultdict, deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import bson
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, OperationFailure

from mediabot import DatabaseUnavailable, InsertReport
from mediabot_dbrouter.member import Member, MemberUnavailable, is_quota_error
from mediabot_dbrouter.naming import claims_collection, pending_collection, suspects_collection

if TYPE_CHECKING:
    from mediabot_dbrouter.router import DatabaseRouter

__all__ = ["UniqueWriter", "cut_pays", "duplicate_indexes", "mark_suspects", "utcnow"]

DUPLICATE_KEY = 11000


def utcnow() -> datetime:
    # Milliseconds, like MongoDB stores them: a claim read back compares equal.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def duplicate_indexes(exc: BulkWriteError) -> tuple[int, list[int], list[int]]:
    """From an unordered insert: (inserted, duplicate-key indexes, over-quota indexes).

    Any other write error is re-raised.
    """
    details = exc.details or {}
    dups, full, others = [], [], []
    for err in details.get("writeErrors", []):
        if err.get("code") == DUPLICATE_KEY:
            dups.append(int(err["index"]))
        elif is_quota_error(_as_failure(err)):
            full.append(int(err["index"]))
        else:
            others.append(err)
    if others or details.get("writeConcernErrors"):
        raise exc
    return int(details.get("nInserted", 0)), dups, full


def _as_failure(err: dict[str, Any]) -> Exception:
    return OperationFailure(err.get("errmsg", ""), err.get("code"))


def cut_pays(*, claim_ms_per_key: float | None, rtt_ms: float | None, n: int, head: int) -> bool:
    """The rule of :meth:`UniqueWriter.pays_to_cut`, a pure function of what was measured.

    Cutting a batch of ``n`` keys hides the claim of the ``n - head`` keys
    behind the head's write, and costs one more insert command on the target,
    counted as two round trips (its round trip and its own fixed cost).

    :param claim_ms_per_key: the home's claim work per key, round trip taken out (``None``: not measured yet).
    :param rtt_ms: the target's round trip (``None``: not measured yet).
    :param n: keys in the batch.
    :param head: keys in the head, claimed and written first.
    :returns: ``True`` when the hidden work outweighs the extra command; ``False`` when anything is unmeasured.
    """
    if claim_ms_per_key is None or rtt_ms is None:
        return False
    return claim_ms_per_key * (n - head) > 2 * rtt_ms


class UniqueWriter:
    """The write path of :class:`~mediabot_dbrouter.router.DatabaseRouter` (see the module docstring)."""

    def __init__(self, router: DatabaseRouter, *, pipeline_chunk: int = 15,
                 pipeline: Literal["auto", "always", "never"] = "auto") -> None:
        self.router = router
        #: documents claimed and written first when a batch is cut
        self.pipeline_chunk = pipeline_chunk
        #: ``auto``: cut batches when :meth:`pays_to_cut`; ``always``/``never``: for tests and benchmarks
        self.pipeline = pipeline
        # Milliseconds the home spent per claimed key, over the last claims (their median is used).
        self._claim_costs: deque[float] = deque(maxlen=15)
        #: batches cut in two so far
        self.pipelined = 0
        self._degraded = asyncio.Lock()

    async def insert(self, collection: str, docs: list[dict[str, Any]], key: str) -> InsertReport:
        router = self.router
        router.unique_collections.setdefault(collection, key)
        report, batch = InsertReport.for_batch(docs, key)
        token = secrets.token_hex(8)
        target = self._split_target(batch)
        if target is not None and (self.pipeline == "always" or self.pays_to_cut(len(batch), target)):
            self.pipelined += 1
            await self._pipelined(collection, key, self._halves(batch), token, report)
        else:
            await self._insert(collection, key, batch, token, [], report)
        if report.deferred:
            router.counters.deferred.inc(len(report.deferred))
        return report

    def _split_target(self, batch: dict[Any, dict[str, Any]]) -> Member | None:
        """The target, when the batch could be cut: bigger than a head, and the claims and
        the files go to two servers (when one server does both there is nothing to overlap)."""
        router = self.router
        if self.pipeline == "never" or self.pipeline_chunk <= 0 or len(batch) <= self.pipeline_chunk:
            return None
        if not router.home.readable:
            return None
        try:
            target = router.choose_target()
        except DatabaseUnavailable:
            return None
        return None if target is router.home else target

    def pays_to_cut(self, n: int, target: Member) -> bool:
        """Whether cutting a batch of ``n`` should save time, from what was measured.

        Cutting hides the home's work on the claim of the rest (``n - head``
        keys: the median time per key of the last claims, their round trip
        taken out) behind the head's write, and costs one more insert
        command on the target: a round trip (the fastest recent ping) and the
        command's own fixed cost, counted as a second round trip. With servers
        on one machine or network the claim's work wins; across the internet
        to a hosted cluster the round trip does, and batches stay whole.
        Nothing measured yet: whole.
        """
        return cut_pays(claim_ms_per_key=self.claim_ms_per_key, rtt_ms=target.rtt_ms, n=n,
                        head=self.pipeline_chunk)

    def note_claim(self, ms_per_key: float) -> None:
        """Record the home's work per key of one claim (its round trip taken out)."""
        self._claim_costs.append(ms_per_key)

    @property
    def claim_ms_per_key(self) -> float | None:
        """The home's time per claimed key: median of the last claims (``None`` before the first)."""
        return statistics.median(self._claim_costs) if self._claim_costs else None

    def _halves(self, batch: dict[Any, dict[str, Any]]) -> list[dict[Any, dict[str, Any]]]:
        # Two chunks: a small head, claimed alone, whose write starts early
        # and covers the claim of the rest. More chunks cost more than they
        # hide: every insert command has its own fixed cost on the target.
        items = list(batch.items())
        return [dict(items[:self.pipeline_chunk]), dict(items[self.pipeline_chunk:])]

    async def _pipelined(self, collection: str, key: str, chunks: list[dict[Any, dict[str, Any]]], token: str,
                         report: InsertReport) -> None:
        """Claim chunk i+1 in the home database while chunk i is written to the target.

        Each chunk goes through the whole protocol (claim, then write) on its
        own; only the claims are ordered, so the first chunk's write starts
        after one small claim instead of the batch's. Every chunk runs to its
        end even when another one fails; the first error is raised after.
        """
        claimed = [asyncio.Event() for _ in chunks]
        done = [asyncio.Event() for _ in chunks]

        async def one(i: int, chunk: dict[Any, dict[str, Any]]) -> None:
            try:
                if i:
                    await claimed[i - 1].wait()
                # Writes one at a time too: concurrent inserts into one collection only contend.
                await self._insert(collection, key, chunk, token, [], report, claimed=claimed[i],
                                   turn=done[i - 1] if i else None)
            finally:
                done[i].set()

        outcomes = await asyncio.gather(*(one(i, c) for i, c in enumerate(chunks)), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _insert(self, collection: str, key: str, batch: dict[Any, dict[str, Any]], token: str,
                      failed: list[Member], report: InsertReport, *, claimed: asyncio.Event | None = None,
                      turn: asyncio.Event | None = None) -> None:
        try:
            await self._insert_rounds(collection, key, batch, token, failed, report, claimed, turn)
        finally:
            if claimed is not None:
                claimed.set()  # never leave the next chunk waiting

    async def _insert_rounds(self, collection: str, key: str, batch: dict[Any, dict[str, Any]], token: str,
                             failed: list[Member], report: InsertReport, claimed: asyncio.Event | None,
                             turn: asyncio.Event | None) -> None:
        router = self.router
        while batch:
            target = router.choose_target(exclude=failed)
            home = router.home
            degraded = home in failed or not home.readable
            if not degraded:
                try:
                    batch = await self._claim(collection, key, batch, target, token, failed, report)
                except MemberUnavailable as exc:
                    if exc.member != home.name:
                        raise
                    degraded = True
                finally:
                    if claimed is not None:
                        claimed.set()
            if degraded:
                async with self._degraded:
                    batch = await self._check_elsewhere(collection, key, batch, target, failed, report)
                    batch = await self._write(collection, key, batch, target, failed, report, pending=True)
            else:
                if turn is not None:
                    await turn.wait()  # the previous chunk's write is done
                    turn = None
                batch = await self._write(collection, key, batch, target, failed, report, pending=False)

    # -- 1. claim ------------------------------------------------------------------
    async def _claim(self, collection: str, key: str, batch: dict[Any, dict[str, Any]], target: Member,
                     token: str, failed: list[Member], report: InsertReport) -> dict[Any, dict[str, Any]]:
        """Claim the batch for ``target``; returns the documents to write there."""
        home = self.router.home
        claims = home.db[claims_collection(collection)]
        now = utcnow()
        keys = list(batch)
        mine = [{"_id": k, "db": target.name, "at": now, "w": token} for k in keys]
        start = time.perf_counter()
        try:
            await home.run(lambda: claims.insert_many(mine, ordered=False))
            self.router.note_written(home, 0, 48 * len(keys))
            ms = (time.perf_counter() - start) * 1000
            self.note_claim(max(0.0, ms - (home.rtt_ms or 0.0)) / len(keys))
            return batch
        except BulkWriteError as exc:
            _, dups, _ = duplicate_indexes(exc)
        lost = [keys[i] for i in dups]
        existing = {c["_id"]: c for c in await home.run(lambda: claims.find({"_id": {"$in": lost}}).to_list(None))}
        keep = dict(batch)
        failed_names = {m.name for m in failed}
        moves: dict[tuple[str, Any], list[Any]] = defaultdict(list)
        to_check: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for k in lost:
            claim = existing.get(k)
            owner = None if claim is None else claim["db"]
            if claim is None:
                self._defer(keep, k, report)  # released meanwhile; next call claims it
            elif owner == target.name:
                pass  # ours from an earlier attempt, or a concurrent writer's: target's unique index decides
            elif claim.get("w") == token and owner in failed_names:
                moves[(owner, token)].append(k)  # our own claim, for a database that failed under us
            else:
                to_check[owner].append(claim)
        for owner, held in to_check.items():
            await self._judge(collection, key, owner, held, keep, moves, report)
        if moves:
            await self._move_claims(collection, moves, target, token, now, keep, report)
        return keep

    async def _judge(self, collection: str, key: str, owner: str, held: list[dict[str, Any]],
                     keep: dict[Any, dict[str, Any]], moves: dict[tuple[str, Any], list[Any]],
                     report: InsertReport) -> None:
        """Keys claimed for another database: duplicate, deferred, or taken over."""
        m = self.router.member(owner)
        keys = [c["_id"] for c in held]
        if m is None:  # no longer configured: nothing there to keep
            for c in held:
                moves[(owner, c.get("w"))].append(c["_id"])
            return
        try:
            present = set(await m.run(lambda: m.db[collection].distinct(key, {key: {"$in": keys}})))
        except MemberUnavailable:
            for k in keys:
                self._defer(keep, k, report)
            return
        lease = self.router.settings.claim_lease
        now = utcnow()
        for c in held:
            k = c["_id"]
            if k in present:
                keep.pop(k, None)
                report.duplicates += 1
            elif (now - c["at"]).total_seconds() >= lease:
                moves[(owner, c.get("w"))].append(k)  # its writer died on the way
            else:
                self._defer(keep, k, report)  # a writer is on its way there

    async def _move_claims(self, collection: str, moves: dict[tuple[str, Any], list[Any]], target: Member,
                           token: str, now: datetime, keep: dict[Any, dict[str, Any]],
                           report: InsertReport) -> None:
        home = self.router.home
        claims = home.db[claims_collection(collection)]
        moved: list[Any] = []
        for (owner, writer), keys in moves.items():
            # Suspect first: were we to stop between the two writes, a suspect
            # that is still the owner is simply cleared later.
            await mark_suspects(home, collection, keys, owner)
            # Compare-and-set on (owner, writer): a claim someone else moved meanwhile stays theirs.
            await home.run(lambda keys=keys, owner=owner, writer=writer: claims.update_many(
                {"_id": {"$in": keys}, "db": owner, "w": writer},
                {"$set": {"db": target.name, "at": now, "w": token}}))
            moved += keys
        final = {c["_id"]: c for c in await home.run(lambda: claims.find({"_id": {"$in": moved}}).to_list(None))}
        for k in moved:
            c = final.get(k)
            if c is None or c["db"] != target.name or c.get("w") != token:
                self._defer(keep, k, report)

    @staticmethod
    def _defer(keep: dict[Any, dict[str, Any]], k: Any, report: InsertReport) -> None:
        if keep.pop(k, None) is not None:
            report.deferred.append(k)

    # -- degraded: no registry -----------------------------------------------------
    async def _check_elsewhere(self, collection: str, key: str, batch: dict[Any, dict[str, Any]],
                               target: Member, failed: list[Member],
                               report: InsertReport) -> dict[Any, dict[str, Any]]:
        """Drop keys another reachable database already holds (best effort without the registry)."""
        others = [m for m in self.router.members
                  if m is not target and m is not self.router.home and m not in failed and m.readable
                  and m.holds_files]
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
                    report.duplicates += 1
        return batch

    @staticmethod
    async def _mark_pending(collection: str, keys: list[Any], target: Member) -> None:
        markers = target.db[pending_collection(collection)]
        now = utcnow()
        try:
            await target.run(lambda: markers.insert_many([{"_id": k, "at": now} for k in keys], ordered=False))
        except BulkWriteError as exc:
            duplicate_indexes(exc)  # already marked by an earlier attempt: fine

    # -- 3. write ------------------------------------------------------------------
    async def _write(self, collection: str, key: str, batch: dict[Any, dict[str, Any]], target: Member,
                     failed: list[Member], report: InsertReport, *, pending: bool) -> dict[Any, dict[str, Any]]:
        """Insert into ``target``; returns what is left to write elsewhere (empty when done)."""
        if not batch:
            return {}
        docs = list(batch.values())
        try:
            if pending:
                # The marker first: if the documents land, the reconciler finds them.
                await self._mark_pending(collection, list(batch), target)
            await target.run(lambda: target.db[collection].insert_many(docs, ordered=False))
            inserted, dups, full = len(docs), [], []
        except MemberUnavailable:
            failed.append(target)
            return batch
        except BulkWriteError as exc:
            inserted, dups, full = duplicate_indexes(exc)
        report.inserted += inserted
        report.duplicates += len(dups)
        if inserted:
            report.databases[target.name] = report.databases.get(target.name, 0) + inserted
        self.router.note_written(target, inserted, inserted * _average_size(docs))
        if not full:
            return {}
        target.capacity.full = True
        failed.append(target)
        keys = list(batch)
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
    await home.run(lambda: suspects.bulk_write(ops, ordered=False))
