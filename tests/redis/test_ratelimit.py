"""Rate limiting against a real Redis: GCRA arithmetic, independence of keys, notify once."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio

from mediabot.core.redis import Decision, Rate, RateLimiter, RedisHealth, connect
from mediabot.testing import eventually


@pytest.fixture
def limiter(client: redis.asyncio.Redis, redis_prefix: str) -> RateLimiter:
    return RateLimiter(client, RedisHealth(client), prefix=redis_prefix)


async def test_burst_is_allowed_then_the_next_call_is_refused_with_retry_after(
    limiter: RateLimiter,
) -> None:
    rate = Rate.parse("5/10s")
    decisions = [await limiter.check("user:1", rate) for _ in range(6)]

    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    refused = decisions[5]
    # One emission interval (10s / 5) minus the few ms the calls took.
    assert 1.5 < refused.retry_after <= 2.0
    assert refused.remaining == 0
    assert not refused.degraded


async def test_calls_are_allowed_again_after_retry_after(limiter: RateLimiter) -> None:
    rate = Rate.parse("5/1s")
    for _ in range(5):
        assert (await limiter.check("user:1", rate)).allowed
    refused = await limiter.check("user:1", rate)
    assert not refused.allowed

    # Refused polls (every 10 ms) do not push the answer back: if each one
    # cost an interval (0.2 s), no poll would ever be allowed before the deadline.
    start = time.monotonic()
    await eventually(lambda: limiter.check("user:1", rate), lambda d: d.allowed, interval=0.01, what="an allowed call")
    waited = time.monotonic() - start

    # Not before retry_after.
    assert refused.retry_after - 0.05 <= waited


async def test_steady_rate_after_burst_is_one_call_per_interval(limiter: RateLimiter) -> None:
    rate = Rate.parse("1/10s burst 1")
    assert (await limiter.check("user:1", rate)).allowed
    second = await limiter.check("user:1", rate)
    assert not second.allowed
    # The next call is one interval after the first (minus the time between the two calls).
    assert 5.0 < second.retry_after <= 10.0


async def test_users_and_commands_are_limited_independently(limiter: RateLimiter) -> None:
    rate = Rate.parse("2/10s")
    for _ in range(2):
        await limiter.check("user:1", rate)
    assert not (await limiter.check("user:1", rate)).allowed

    assert (await limiter.check("user:2", rate)).allowed
    assert (await limiter.check("user:1:search", rate)).allowed
    assert (await limiter.check("user:1:send", rate)).allowed


async def test_notify_is_true_once_per_refusal_window(limiter: RateLimiter) -> None:
    rate = Rate.parse("1/300ms")
    assert (await limiter.check("user:1", rate)).allowed

    refusals = [await limiter.check("user:1", rate) for _ in range(4)]
    assert [d.notify for d in refusals] == [True, False, False, False]

    await eventually(lambda: limiter.check("user:1", rate), lambda d: d.allowed, deadline=2.0, interval=0.01,
                     what="an allowed call")
    next_window = [await limiter.check("user:1", rate) for _ in range(2)]
    assert [d.notify for d in next_window] == [True, False]


async def test_allowed_decisions_never_notify(limiter: RateLimiter) -> None:
    rate = Rate.parse("3/10s")
    decisions = [await limiter.check("user:1", rate) for _ in range(3)]
    assert [d.notify for d in decisions] == [False] * 3


async def test_state_key_is_hash_tagged_and_expires_with_the_window(
    limiter: RateLimiter, client: redis.asyncio.Redis, redis_prefix: str
) -> None:
    await limiter.check("user:7:search", Rate.parse("5/10s"))

    key = f"{redis_prefix}:rl:{{user:7:search}}"
    assert limiter.redis_key("user:7:search") == key
    # Cluster hashes only the tag, so the key lands on the slot of "user:7:search".
    assert 0 < await client.pttl(key) <= 2000  # one interval (10s / 5) ahead


@pytest.mark.parametrize("bad", ["user:{1}", "", "a}b"])
async def test_keys_with_braces_are_refused(limiter: RateLimiter, bad: str) -> None:
    with pytest.raises(ValueError, match="braces"):
        await limiter.check(bad, Rate.parse("1/s"))


async def test_check_survives_script_cache_flush(redis_factory, redis_prefix: str) -> None:
    # A dedicated server: SCRIPT FLUSH would disturb other tests on the shared one.
    server = redis_factory()
    client = connect(server.url)
    try:
        limiter = RateLimiter(client, RedisHealth(client), prefix=redis_prefix)
        rate = Rate.parse("2/10s")
        assert (await limiter.check("user:1", rate)).allowed
        await client.script_flush()

        decision = await limiter.check("user:1", rate)

        assert decision == Decision(allowed=True, retry_after=0.0, remaining=0)
    finally:
        await client.aclose()


async def test_one_round_trip_per_check(limiter: RateLimiter, client: redis.asyncio.Redis) -> None:
    rate = Rate.parse("100/s")
    await limiter.check("user:1", rate)  # script is now cached server-side
    before = await client.info("commandstats")

    await limiter.check("user:1", rate)

    after = await client.info("commandstats")

    def calls(stats: dict, command: str) -> int:
        return stats.get(f"cmdstat_{command}", {}).get("calls", 0)

    # Commands run inside the script are counted too, so count what the client sent.
    assert calls(after, "evalsha") - calls(before, "evalsha") == 1
    for sent_otherwise in ("eval", "script"):
        assert calls(after, sent_otherwise) == calls(before, sent_otherwise)


async def test_a_burst_beyond_the_pool_size_waits_for_connections_instead_of_degrading(
    redis_url: str, redis_prefix: str
) -> None:
    # 300 checks at once on a pool of 8: redis-py's default pool would raise
    # MaxConnectionsError, which looks like an outage and degrades the bot.
    client = connect(redis_url, max_connections=8)
    health = RedisHealth(client)
    limiter = RateLimiter(client, health, prefix=redis_prefix)
    try:
        decisions = await asyncio.gather(*(limiter.check(f"user:{i}", Rate.parse("5/s")) for i in range(300)))
    finally:
        await client.aclose()
    assert all(d.allowed and not d.degraded for d in decisions)
    assert health.state == "ok"
