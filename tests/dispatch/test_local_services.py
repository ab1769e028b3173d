"""Rate limits and sessions without Redis (one process, development)."""

from __future__ import annotations

import msgspec

from mediabot.core.local_services import LocalRateLimiter, LocalSessionStore
from mediabot.core.redis import Rate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_burst_is_allowed_then_refused_and_told_once():
    clock = Clock()
    limiter = LocalRateLimiter(clock=clock)
    rate = Rate.parse("3/30s")
    assert [(await limiter.check("u:1", rate)).allowed for _ in range(3)] == [True, True, True]
    first, second = await limiter.check("u:1", rate), await limiter.check("u:1", rate)
    assert not first.allowed and first.notify and 9 < first.retry_after <= 10
    assert not second.allowed and not second.notify
    assert (await limiter.check("u:2", rate)).allowed  # another user has their own budget
    clock.now += 10
    assert (await limiter.check("u:1", rate)).allowed
    refused = await limiter.check("u:1", rate)
    assert not refused.allowed and refused.notify  # a new refusal window is told again


class Page(msgspec.Struct):
    query: str
    page: int


async def test_sessions_expire_and_are_separate_per_kind_and_user():
    clock = Clock()
    store = LocalSessionStore(ttl=60, clock=clock)
    search = store.namespace("search")
    await search.set(1, Page("cats", 2))
    assert await search.get(1, Page) == Page("cats", 2)
    assert await search.get(2, Page) is None
    assert await store.namespace("quota").get(1, Page) is None
    clock.now += 61
    assert await search.get(1, Page) is None


async def test_a_session_that_no_longer_decodes_reads_as_none():
    store = LocalSessionStore()
    await store.set(1, {"unrelated": True})
    assert await store.get(1, Page) is None
