"""The reconciler: settles what the write path could not decide at once.

Two kinds of loose ends (see :mod:`mediabot_dbrouter.writes`):

* **pending** keys (``<collection>_pending`` in each database), written
  while the home database (the claim registry) was unreachable: each is
  claimed for the database holding it; if the key turns out to be claimed
  for another database that has its copy, the pending copy is deleted.
* **suspects** (``<collection>_suspects`` in the home database): keys whose
  claim moved away from a database that failed in the middle of a write, so
  it may hold a stray copy. It is deleted once the owner's copy is
  confirmed; if the owner never got the document but the suspect did, the
  claim goes to the suspect instead.

A copy is only ever deleted when another database's copy is confirmed, so
the reconciler cannot lose a file. It runs every ``reconcile_interval``
seconds, in batches, and only while the home database is reachable.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from pymongo.errors import BulkWriteError

from mediabot import utcnow
from mediabot_dbrouter.member import Member, MemberUnavailable
from mediabot_dbrouter.naming import claims_collection, pending_collection, suspects_collection
from mediabot_dbrouter.writes import insert_outcome, mark_suspects

if TYPE_CHECKING:
    from mediabot_dbrouter.router import DatabaseRouter

__all__ = ["Reconciler"]

log = logging.getLogger("mediabot.plugin.dbrouter")


class Reconciler:
    """Settles pending documents and suspect claims.

    :param router: the router whose databases it settles.
    :param batch: documents (or claims) looked at per database per pass.
    """

    def __init__(self, router: DatabaseRouter, *, batch: int = 500) -> None:
        self.router = router
        self.batch = batch
        self.totals: dict[str, int] = defaultdict(int)

    async def run_once(self) -> dict[str, int]:
        """One pass; returns what it did (``claimed``, ``removed``, ``taken_over``, ``cleared``)."""
        done: dict[str, int] = defaultdict(int)
        if not self.router.home.readable:
            return done
        try:
            for collection, key in list(self.router.unique_collections.items()):
                for m in self.router.members:
                    if m.readable and m.holds_files:
                        await self._pending(collection, key, m, done)
                await self._suspects(collection, key, done)
        except MemberUnavailable as exc:
            log.info("reconciliation paused: %s", exc)
        for action, n in done.items():
            self.totals[action] += n
            self.router.counters.reconciled.labels(action=action).inc(n)
        if any(done.values()):
            log.info("reconciled: %s", ", ".join(f"{k} {v}" for k, v in sorted(done.items())))
        return done

    async def idle(self) -> bool:
        """True when nothing is pending or suspect on any reachable database (tests wait on it)."""
        home = self.router.home
        for collection in self.router.unique_collections:
            suspects = home.db[suspects_collection(collection)]
            if await home.run(lambda suspects=suspects: suspects.find_one({})):
                return False
            for m in self.router.members:
                if await m.run(lambda m=m, c=collection: m.db[pending_collection(c)].find_one({})):
                    return False
        return True

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.router.settings.reconcile_interval)
            await self.run_once()

    # -- pending documents -----------------------------------------------------------
    async def _pending(self, collection: str, key: str, m: Member, done: dict[str, int]) -> None:
        home = self.router.home
        markers = m.db[pending_collection(collection)]
        marked = await m.run(lambda: markers.find({}).limit(self.batch).to_list(None))
        if not marked:
            return
        keys = [d["_id"] for d in marked]
        stored = set(await m.run(lambda: m.db[collection].distinct(key, {key: {"$in": keys}})))
        lease = self.router.settings.claim_lease
        now = utcnow()
        # A marker without its document: the write never landed (or is still on its way).
        dropped = [d["_id"] for d in marked if d["_id"] not in stored and (now - d["at"]).total_seconds() >= lease]
        keys = [k for k in keys if k in stored]
        settled: list[Any] = []
        if keys:
            claims = home.db[claims_collection(collection)]
            token = f"reconciler:{secrets.token_hex(6)}"
            lost: list[Any] = []
            unclaimed: set[Any] = set()
            try:
                await home.run(lambda: claims.insert_many(
                    [{"_id": k, "db": m.name, "at": now, "w": token} for k in keys], ordered=False))
            except BulkWriteError as exc:
                _, dups, full = insert_outcome(exc)
                lost = [keys[i] for i in dups]
                # The registry has no room for these: they stay pending, tried again next pass.
                unclaimed = {keys[i] for i in full}
                if full:
                    home.capacity.full = True
            settled = [k for k in keys if k not in set(lost) and k not in unclaimed]
            done["claimed"] += len(settled)
            if lost:
                existing = await home.run(lambda: claims.find({"_id": {"$in": lost}}).to_list(None))
                by_owner: dict[str, list[dict[str, Any]]] = defaultdict(list)
                for c in existing:
                    if c["db"] == m.name:
                        settled.append(c["_id"])
                    else:
                        by_owner[c["db"]].append(c)
                for owner, held in by_owner.items():
                    settled += await self._contest(collection, key, m, owner, held, token, done)
        if settled or dropped:
            await m.run(lambda: markers.delete_many({"_id": {"$in": settled + dropped}}))

    async def _contest(self, collection: str, key: str, m: Member, owner: str, held: list[dict[str, Any]],
                       token: str, done: dict[str, int]) -> list[Any]:
        """Keys pending in ``m`` but claimed for ``owner``; returns those settled (kept by ``m`` or removed)."""
        o = self.router.member(owner)
        keys = [c["_id"] for c in held]
        if o is not None and not o.readable:
            return []  # cannot confirm the owner's copy: wait
        present: set[Any] = set()
        if o is not None:
            present = set(await o.run(lambda: o.db[collection].distinct(key, {key: {"$in": keys}})))
        dup = [k for k in keys if k in present]
        if dup:
            # m's copy is the pending one (a database holds one copy of a key at most).
            result = await m.run(lambda: m.db[collection].delete_many({key: {"$in": dup}}))
            done["removed"] += result.deleted_count
        lease = self.router.settings.claim_lease
        now = utcnow()
        stale = [c for c in held if c["_id"] not in present
                 and (o is None or (now - c["at"]).total_seconds() >= lease)]
        return dup + await self._take_over(collection, m, stale, token, done)

    async def _take_over(self, collection: str, m: Member, held: list[dict[str, Any]], token: str,
                         done: dict[str, int]) -> list[Any]:
        """Move claims to ``m`` by compare-and-set; returns the keys that are now ``m``'s."""
        if not held:
            return []
        home = self.router.home
        claims = home.db[claims_collection(collection)]
        groups: dict[tuple[str, Any], list[Any]] = defaultdict(list)
        for c in held:
            groups[(c["db"], c.get("w"))].append(c["_id"])
        now = utcnow()
        for (owner, writer), keys in groups.items():
            if owner != m.name:  # a late write may still land there
                await mark_suspects(home, collection, keys, owner)
            await home.run(lambda keys=keys, owner=owner, writer=writer: claims.update_many(
                {"_id": {"$in": keys}, "db": owner, "w": writer},
                {"$set": {"db": m.name, "at": now, "w": token}}))
        ids = [c["_id"] for c in held]
        final = await home.run(lambda: claims.find({"_id": {"$in": ids}, "db": m.name, "w": token}).to_list(None))
        done["taken_over"] += len(final)
        return [c["_id"] for c in final]

    # -- suspects --------------------------------------------------------------------
    async def _suspects(self, collection: str, key: str, done: dict[str, int]) -> None:
        home = self.router.home
        suspects = home.db[suspects_collection(collection)]
        marks = await home.run(lambda: suspects.find({}).limit(self.batch).to_list(None))
        if not marks:
            return
        claims = home.db[claims_collection(collection)]
        ids = [mark["_id"] for mark in marks]
        owners = {c["_id"]: c for c in await home.run(lambda: claims.find({"_id": {"$in": ids}}).to_list(None))}
        pairs: dict[tuple[str, str | None], list[Any]] = defaultdict(list)
        for mark in marks:
            claim = owners.get(mark["_id"])
            for s in mark.get("on", []):
                pairs[(s, claim["db"] if claim else None)].append(mark["_id"])
        settled: dict[str, list[Any]] = defaultdict(list)
        for (suspect, owner), keys in pairs.items():
            settled[suspect] += await self._suspect(collection, key, suspect, owner, keys, owners, done)
        for suspect, keys in settled.items():
            if keys:
                await home.run(lambda suspect=suspect, keys=keys: suspects.update_many(
                    {"_id": {"$in": keys}}, {"$pull": {"on": suspect}}))
                done["cleared"] += len(keys)
        await home.run(lambda: suspects.delete_many({"_id": {"$in": ids}, "on": {"$size": 0}}))

    async def _suspect(self, collection: str, key: str, suspect: str, owner: str | None, keys: list[Any],
                       claims: dict[Any, dict[str, Any]], done: dict[str, int]) -> list[Any]:
        """Settle ``suspect``'s possible stray copies of ``keys``; returns the keys settled."""
        s = self.router.member(suspect)
        if suspect == owner or s is None:
            return keys  # the suspect owns them, or is no longer configured: nothing stray to remove
        o = self.router.member(owner) if owner is not None else None
        if not s.readable or (o is not None and not o.readable):
            return []  # wait until both answer
        in_s = set(await s.run(lambda: s.db[collection].distinct(key, {key: {"$in": keys}})))
        in_o: set[Any] = set()
        if o is not None:
            in_o = set(await o.run(lambda: o.db[collection].distinct(key, {key: {"$in": keys}})))
        stray = [k for k in keys if k in in_o and k in in_s]
        if stray:
            result = await s.run(lambda: s.db[collection].delete_many({key: {"$in": stray}}))
            done["removed"] += result.deleted_count
        lease = self.router.settings.claim_lease
        now = utcnow()
        # The owner never got it but the suspect did: the suspect's copy is the one.
        orphans = [claims[k] for k in keys if k in claims and k not in in_o and k in in_s
                   and (o is None or (now - claims[k]["at"]).total_seconds() >= lease)]
        adopted = await self._take_over(collection, s, orphans, f"reconciler:{secrets.token_hex(6)}", done)
        return [k for k in keys if k in in_o or k not in in_s] + adopted
