"""Reloading the banned ids: paged, and never undoing a ban or unban made while it reads."""

from __future__ import annotations

import asyncio

from mediabot import UserDirectory


class HeldFind:
    """The users collection, with one ``find`` held before it answers until the test lets it go."""

    def __init__(self, collection, *, hold: int) -> None:
        self._collection = collection
        self._hold = hold
        self.finds = 0
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name):
        return getattr(self._collection, name)

    def find(self, *args, **kwargs):
        self.finds += 1
        cursor = self._collection.find(*args, **kwargs)
        return _HeldCursor(cursor, self) if self.finds == self._hold else cursor


class _HeldCursor:
    def __init__(self, cursor, gate: HeldFind) -> None:
        self._cursor, self._gate = cursor, gate

    def sort(self, *args, **kwargs):
        self._cursor = self._cursor.sort(*args, **kwargs)
        return self

    def limit(self, n):
        self._cursor = self._cursor.limit(n)
        return self

    async def __aiter__(self):
        self._gate.reached.set()
        await self._gate.release.wait()
        async for doc in self._cursor:
            yield doc


async def test_a_ban_and_an_unban_made_while_a_reload_reads_survive_it(database):
    users = UserDirectory(database, ban_page=2)
    for uid in (10, 20, 30, 40):
        await users.ban(uid)
    held = HeldFind(users.collection, hold=2)  # page one (10, 20) is read, page two waits
    users.collection = held
    reload = asyncio.create_task(users.refresh_bans())
    await asyncio.wait_for(held.reached.wait(), 10)
    await users.ban(5)  # below the reload's cursor: the pages still to come cannot contain it
    assert await users.unban(10)  # already read as banned by the reload
    held.release.set()
    await asyncio.wait_for(reload, 10)
    assert users.is_banned(5), "the reload reopened a ban made while it read"
    assert not users.is_banned(10), "the reload undid an unban made while it read"
    assert all(users.is_banned(uid) for uid in (20, 30, 40))
    await users.refresh_bans()  # and the next reload agrees with the database
    assert users.is_banned(5) and not users.is_banned(10) and users.banned_count == 4


async def test_an_older_reload_finishing_last_does_not_overwrite_a_newer_one(database):
    users = UserDirectory(database, ban_page=10)
    await users.ban(1)
    held = HeldFind(users.collection, hold=1)
    users.collection = held
    old = asyncio.create_task(users.refresh_bans())
    await asyncio.wait_for(held.reached.wait(), 10)
    other = UserDirectory(database)  # another deployment lifts the ban meanwhile
    await other.unban(1)
    await users.refresh_bans()  # a newer reload sees that
    assert not users.is_banned(1)
    held.release.set()
    await asyncio.wait_for(old, 10)
    assert not users.is_banned(1)


async def test_a_reload_over_more_ids_than_one_page_loads_all_of_them(database, commands):
    users = UserDirectory(database, ban_page=100)
    await users.collection.insert_many(
        [{"_id": uid, "status": "banned" if uid % 3 else "active"} for uid in range(1, 751)])
    await users.refresh_bans()
    banned = [uid for uid in range(1, 751) if uid % 3]
    assert users.banned_count == len(banned) == 500
    assert all(users.is_banned(uid) for uid in banned) and not users.is_banned(3)
    assert commands.count("find") == 6 and commands.count("distinct") == 0  # 5 full pages, then an empty one
