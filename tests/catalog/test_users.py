"""The user directory: throttled sightings, bans without a database round trip, counts."""

from __future__ import annotations

import asyncio

import pytest

from mediabot import User, UserDirectory


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_sightings_are_written_at_most_once_per_interval(database, commands):
    clock = Clock()
    users = UserDirectory(database, touch_interval=300, clock=clock)
    for _ in range(50):
        users.touch(User(id=1, language="en"))
        users.touch(User(id=2))
    assert await users.flush() == 2
    clock.now += 299
    users.touch(User(id=1))
    assert await users.flush() == 0
    clock.now += 2
    users.touch(User(id=1))
    assert await users.flush() == 1
    assert commands.count("update") == 2  # two bulk writes for 102 sightings
    first = await users.get(1)
    assert first is not None and first.language == "en" and first.status == "active"
    assert first.last_seen >= first.first_seen


async def test_the_tracking_map_is_bounded(database):
    users = UserDirectory(database, max_tracked=10)
    for uid in range(1, 101):
        users.touch(User(id=uid))
    assert len(users._written) == 10
    assert await users.flush() == 100


async def test_ban_check_costs_no_database_round_trip(database, commands):
    users = UserDirectory(database)
    await users.ban(666, reason="spam", by=1)
    other = UserDirectory(database)  # another deployment, started after the ban
    await other.refresh_bans()
    before = commands.count()
    assert all(other.is_banned(666) for _ in range(1000))
    assert not any(other.is_banned(uid) for uid in range(1000) if uid != 666)
    assert commands.count() == before
    banned = await other.get(666)
    assert banned is not None and (banned.status, banned.ban_reason, banned.banned_by) == ("banned", "spam", 1)


async def test_an_unban_reaches_other_deployments_at_their_next_refresh(database):
    a, b = UserDirectory(database), UserDirectory(database)
    await a.ban(7)
    await b.refresh_bans()
    assert b.is_banned(7)
    assert await a.unban(7) is True
    assert not a.is_banned(7) and b.is_banned(7)
    await b.refresh_bans()
    assert not b.is_banned(7)
    assert await a.unban(7) is False


async def test_a_sighting_never_lifts_a_ban_set_elsewhere(database):
    a, b = UserDirectory(database), UserDirectory(database)
    b.touch(User(id=9))  # b has not heard of the ban yet
    await a.ban(9, reason="abuse")
    await b.flush()
    user = await a.get(9)
    assert user is not None and user.status == "banned" and user.last_seen is not None


async def test_blocked_users_leave_the_audience_and_come_back_when_they_write(database):
    clock = Clock()
    users = UserDirectory(database, clock=clock)
    for uid in range(1, 6):
        users.touch(User(id=uid))
    await users.flush()
    await users.mark_blocked(2)
    await users.mark_deactivated(4)
    await users.ban(5)
    assert [uid async for uid in users.iter_active_ids(batch=2)] == [1, 3]
    counts = await users.counts()
    assert counts == {"active": 2, "blocked": 1, "deactivated": 1, "banned": 1, "total": 5, "recent": 5}
    clock.now += 301
    users.touch(User(id=2))
    await users.flush()
    assert (await users.get(2)).status == "active"


async def test_a_flush_cancelled_mid_write_keeps_its_sightings_for_the_next_one(database):
    # The app stops while the flush loop is writing: the shutdown's flush must still write them.
    users = UserDirectory(database)
    users.touch(User(id=41))
    write = users.collection.bulk_write
    started = asyncio.Event()

    async def stalls(*args, **kwargs):
        started.set()
        await asyncio.Event().wait()

    users.collection.bulk_write = stalls
    flush = asyncio.create_task(users.flush())
    await started.wait()
    flush.cancel()
    with pytest.raises(asyncio.CancelledError):
        await flush
    assert users.pending == 1
    users.collection.bulk_write = write
    assert await users.flush() == 1
    assert (await users.get(41)).status == "active"
