"""The user directory (``app.users``): who talks to the bot, and who is banned.

Two things happen on every update, so neither may cost a database round trip:

* **is_banned** is a set lookup. The set is loaded at startup and kept fresh
  by a periodic reload (``refresh_bans``, every ``ban_refresh`` seconds) of
  the banned ids, served by an index on ``status``. Why polling and not
  Redis pub/sub: a reload is self-healing (a deployment that was
  disconnected, restarted or started later converges by itself, where a
  missed pub/sub message is lost for good), needs nothing besides MongoDB,
  and costs one indexed query per interval per deployment. The deployment
  that runs ``/ban`` applies it at once; others follow within the interval.
  The reload pages through the ids in ``_id`` order (``ban_page`` at a time,
  resuming after the last id: no single reply holds them all), and is
  monotonic: a ban or unban this deployment makes while a reload is reading
  is applied again on top of what the reload read, so a reload that started
  before a ``/ban`` never reopens it.
* **touch** records first/last seen at most once per user per
  ``touch_interval`` seconds: an in-memory map (bounded, least recently
  written evicted first) says when each user was last written; due users
  are queued and written by one background flush as a single unordered
  ``bulk_write`` of upserts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from mediabot.catalog.models import BotUser, UserStatus, from_document, utcnow
from mediabot.core.types import User

__all__ = ["USERS", "UserDirectory"]

log = logging.getLogger("mediabot.catalog.users")
USERS = "users"
ASCENDING = 1
STATUSES: tuple[UserStatus, ...] = ("active", "blocked", "deactivated", "banned")


class UserDirectory:
    """Users of the bot, stored in the provider's home database.

    :param database: the ``AsyncDatabase`` holding the ``users`` collection.
    :param role_of: user id -> ``user``/``admin``/``owner`` (``App.role_of``).
    :param touch_interval: seconds between two recorded sightings of one user.
    :param max_tracked: users whose last write time is remembered; beyond it
        the least recently written are forgotten (they may be written again
        early: harmless).
    :param clock: monotonic clock (tests inject one).
    :param ban_page: banned ids read per query when reloading them.
    """

    def __init__(self, database: Any, *, role_of: Callable[[int], str] | None = None,
                 touch_interval: float = 300.0, max_tracked: int = 100_000,
                 clock: Callable[[], float] = time.monotonic, ban_page: int = 10_000,
                 on_new: Callable[[list[User]], None] | None = None) -> None:
        if ban_page < 1:
            raise ValueError("ban_page must be at least 1")
        self.collection = database[USERS]
        self.ban_page = ban_page
        self.role_of = role_of or (lambda _uid: "user")
        self.touch_interval = touch_interval
        self.max_tracked = max_tracked
        self.clock = clock
        #: called with the users a flush stored for the first time (exactly one process sees each)
        self.on_new = on_new
        self._banned: frozenset[int] = frozenset()
        # Local bans and unbans, numbered, kept while a reload runs: (number, user id, banned).
        self._ban_changes = 0
        self._changes_during_reload: list[tuple[int, int, bool]] = []
        self._reloads = 0  # reloads reading now
        self._reload_tickets = 0  # reloads started, ever
        self._applied_ticket = 0  # the ticket of the reload whose result is in _banned
        self._written: OrderedDict[int, float] = OrderedDict()
        self._due: dict[int, tuple[User, datetime]] = {}
        self._flush_lock = asyncio.Lock()
        self.writes = 0  # users written by flushes: what an operator checks against traffic

    # -- setup ---------------------------------------------------------------------
    async def ensure_indexes(self) -> None:
        """Indexes for the ban reload, audience iteration and counts (idempotent)."""
        await self.collection.create_index([("status", ASCENDING), ("_id", ASCENDING)], name="status_id")
        await self.collection.create_index([("last_seen", ASCENDING)], name="last_seen")

    # -- bans ----------------------------------------------------------------------
    def is_banned(self, user_id: int) -> bool:
        """Whether updates from ``user_id`` are ignored. In memory: no database call."""
        return user_id in self._banned

    @property
    def banned_count(self) -> int:
        return len(self._banned)

    async def refresh_bans(self) -> None:
        """Reload the banned ids (at startup and then periodically), a page at a time.

        Bans and unbans made here while the reload reads win over what it
        read; a reload that ends after a later-started one was applied is
        dropped (what it read is older).
        """
        started = self._ban_changes
        self._reload_tickets += 1
        ticket = self._reload_tickets
        self._reloads += 1
        try:
            ids: set[int] = set()
            after: int | None = None
            while True:
                query: dict[str, Any] = {"status": "banned"}
                if after is not None:
                    query["_id"] = {"$gt": after}
                page = [int(d["_id"]) async for d in self.collection.find(query, {"_id": 1})
                        .sort("_id", ASCENDING).limit(self.ban_page)]
                ids.update(page)
                if len(page) < self.ban_page:
                    break
                after = page[-1]
            if ticket < self._applied_ticket:
                return  # a reload that started later has already been applied: this one is older news
            for number, user_id, banned in self._changes_during_reload:
                if number > started:  # made after this reload began reading: may be missing from it
                    if banned:
                        ids.add(user_id)
                    else:
                        ids.discard(user_id)
            self._banned = frozenset(ids)
            self._applied_ticket = ticket
        finally:
            self._reloads -= 1
            if not self._reloads:
                self._changes_during_reload.clear()

    def _changed(self, user_id: int, banned: bool) -> None:
        """Apply a ban or unban made here to the in-memory set, and note it for running reloads."""
        self._ban_changes += 1
        if self._reloads:
            self._changes_during_reload.append((self._ban_changes, user_id, banned))
        self._banned = self._banned | {user_id} if banned else self._banned - {user_id}

    async def ban(self, user_id: int, *, reason: str | None = None, by: int | None = None) -> None:
        """Ban a user now (this deployment at once, the others at their next reload)."""
        now = utcnow()
        await self.collection.update_one(
            {"_id": user_id},
            {"$set": {"status": "banned", "ban_reason": reason, "banned_by": by, "banned_at": now},
             "$setOnInsert": {"first_seen": now, "role": "user"}},
            upsert=True)
        self._changed(user_id, True)
        self._due.pop(user_id, None)

    async def unban(self, user_id: int) -> bool:
        """Lift a ban; ``False`` when the user was not banned."""
        result = await self.collection.update_one(
            {"_id": user_id, "status": "banned"},
            {"$set": {"status": "active"}, "$unset": {"ban_reason": "", "banned_by": "", "banned_at": ""}})
        self._changed(user_id, False)
        return result.modified_count > 0

    # -- sightings -----------------------------------------------------------------
    def touch(self, user: User) -> None:
        """Note that ``user`` wrote to the bot; written by the next :meth:`flush` when due."""
        if user.id in self._banned or user.is_bot:
            return
        now = self.clock()
        last = self._written.get(user.id)
        if last is not None and now - last < self.touch_interval:
            return
        self._written[user.id] = now
        self._written.move_to_end(user.id)
        while len(self._written) > self.max_tracked:
            self._written.popitem(last=False)
        self._due[user.id] = (user, utcnow())

    @property
    def pending(self) -> int:
        """Sightings waiting for the next flush."""
        return len(self._due)

    async def flush(self) -> int:
        """Write the queued sightings as one bulk write; returns how many users were written.

        On failure the sightings are dropped (logged): a missed "last seen" is
        corrected by the user's next message, and a dead database must not
        grow an unbounded queue.
        """
        async with self._flush_lock:
            if not self._due:
                return 0
            due, self._due = self._due, {}
            ops = [self._upsert(user, seen) for user, seen in due.values()]
            try:
                result = await self.collection.bulk_write(ops, ordered=False)
            except asyncio.CancelledError:
                # Stopped mid-write (the app is shutting down): the shutdown's flush writes them
                # again (an upsert with $max: harmless if this one was applied after all).
                for uid, sighting in due.items():
                    self._due.setdefault(uid, sighting)  # a newer sighting taken meanwhile wins
                raise
            except Exception as exc:
                for uid in due:  # so they are written again on their next message
                    self._written.pop(uid, None)
                log.warning("could not record %d user(s): %s: %s", len(ops), type(exc).__name__, exc)
                raise
            self.writes += len(ops)
            if self.on_new is not None:
                # An upsert that inserted is a first sighting; the database decides, so two
                # processes never both call a user new.
                written = [user for user, _ in due.values()]
                new = [written[i] for i in sorted(getattr(result, "upserted_ids", None) or {})]
                if new:
                    self.on_new(new)
            return len(ops)

    def _upsert(self, user: User, seen: datetime) -> Any:
        # An update pipeline keeps it one atomic write: a ban set meanwhile
        # (by this or another deployment) is never overwritten, and someone
        # who had blocked the bot and writes again is active again.
        fields: dict[str, Any] = {
            "status": {"$cond": [{"$eq": ["$status", "banned"]}, "banned", "active"]},
            "first_seen": {"$ifNull": ["$first_seen", seen]},
            "last_seen": {"$max": [{"$ifNull": ["$last_seen", seen]}, seen]},
            "role": {"$literal": self.role_of(user.id)},
        }
        if user.language:
            fields["language"] = {"$literal": user.language}
        from pymongo import UpdateOne  # the driver loads with the first write, not with `import mediabot`

        return UpdateOne({"_id": user.id}, [{"$set": fields}], upsert=True)

    # -- reachability (broadcast) --------------------------------------------------
    async def mark_blocked(self, user_id: int) -> None:
        """The user blocked the bot (a send failed with "user is blocked")."""
        await self._set_status(user_id, "blocked")

    async def mark_deactivated(self, user_id: int) -> None:
        """The account is deleted (a send failed with "user is deactivated")."""
        await self._set_status(user_id, "deactivated")

    async def _set_status(self, user_id: int, status: UserStatus) -> None:
        if user_id in self._due:
            # A sighting not written yet would create the user as active after this
            # write (or this write would find no user): write it first.
            await self.flush()
        await self.collection.update_one({"_id": user_id, "status": {"$ne": "banned"}},
                                         {"$set": {"status": status}})

    async def iter_active_ids(self, *, batch: int = 1000, after: int | None = None,
                              seen_since: datetime | None = None) -> AsyncIterator[int]:
        """Ids of active users in ascending order, by id cursor (resume with ``after``).

        :param seen_since: only users who wrote to the bot at or after this time.
        """
        while True:
            query = self._active_query(seen_since)
            if after is not None:
                query["_id"] = {"$gt": max(after, 0)}
            ids = [d["_id"] async for d in self.collection.find(query, {"_id": 1})
                   .sort("_id", ASCENDING).limit(batch)]
            for uid in ids:
                yield uid
            if len(ids) < batch:
                return
            after = ids[-1]

    async def count_active(self, *, seen_since: datetime | None = None) -> int:
        """How many users :meth:`iter_active_ids` would yield with the same ``seen_since``."""
        return int(await self.collection.count_documents(self._active_query(seen_since)))

    @staticmethod
    def _active_query(seen_since: datetime | None) -> dict[str, Any]:
        # Users only: a chat's (negative) id is here only to be banned, never an audience.
        query: dict[str, Any] = {"status": "active", "_id": {"$gt": 0}}
        if seen_since is not None:
            query["last_seen"] = {"$gte": seen_since}
        return query

    # -- reading -------------------------------------------------------------------
    async def get(self, user_id: int) -> BotUser | None:
        doc = await self.collection.find_one({"_id": user_id})
        return from_document(doc, BotUser) if doc else None

    async def banned_users(self, *, limit: int = 50) -> tuple[list[BotUser], int]:
        """The most recently banned users (at most ``limit``) and how many are banned in all."""
        query = {"status": "banned"}
        total = int(await self.collection.count_documents(query))
        cursor = self.collection.find(query).sort([("banned_at", -1), ("_id", 1)]).limit(limit)
        return [from_document(doc, BotUser) async for doc in cursor], total

    async def counts(self, *, active_within: float = 86_400.0) -> dict[str, int]:
        """Users by status, the total, and ``recent``: seen within ``active_within`` seconds."""
        out = dict.fromkeys(STATUSES, 0)
        async for row in await self.collection.aggregate([{"$group": {"_id": "$status", "n": {"$sum": 1}}}]):
            if row["_id"] in out:
                out[row["_id"]] = int(row["n"])
        out["total"] = sum(out[s] for s in STATUSES)
        since = datetime.fromtimestamp(time.time() - active_within, UTC)
        out["recent"] = int(await self.collection.count_documents({"last_seen": {"$gte": since}}))
        return out
