"""Fault tests: Redis killed, paused and restarted under the services.

Each test owns a dedicated Redis server. What is asserted: what the user gets
(answers per policy, sessions keep working), what the operator sees (health),
and that the same client recovers on its own after the restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest
import redis.asyncio

from mediabot.core.redis import (
    Decision,
    Rate,
    RateLimiter,
    RateLimitPolicy,
    RedisHealth,
    SessionStore,
    connect,
)
from mediabot.testing import eventually
from mediabot.testing.servers import RedisServer

SOCKET_TIMEOUT = 0.3
RETRY_INTERVAL = 0.1
RATE = Rate.parse("3/10s")


class Page(msgspec.Struct):
    query: str
    page: int


class HealthClock:
    """Monotonic time for the health's retry interval, which a test can freeze.

    Frozen, no retry interval ever passes: a test counts Redis calls instead
    of timing them (a timing bound fails whenever the machine is busy).
    """

    def __init__(self) -> None:
        self.frozen: float | None = None

    def __call__(self) -> float:
        return time.monotonic() if self.frozen is None else self.frozen

    def freeze(self) -> None:
        self.frozen = time.monotonic()


@dataclass
class Services:
    server: RedisServer
    client: redis.asyncio.Redis
    health: RedisHealth
    prefix: str
    clock: HealthClock

    def limiter(self, policy: RateLimitPolicy = "fail_open") -> RateLimiter:
        return RateLimiter(
            self.client, self.health, prefix=self.prefix, policy=policy, fail_closed_retry_after=7.0
        )

    def sessions(self) -> SessionStore:
        return SessionStore(self.client, self.health, prefix=self.prefix, kind="search", ttl=60)


@pytest.fixture
async def services(redis_factory, redis_prefix: str) -> AsyncIterator[Services]:
    server = redis_factory()
    client = connect(server.url, socket_timeout=SOCKET_TIMEOUT)
    clock = HealthClock()
    health = RedisHealth(client, retry_interval=RETRY_INTERVAL, probe_timeout=SOCKET_TIMEOUT, clock=clock)
    yield Services(server, client, health, redis_prefix, clock)
    await client.aclose()


async def test_fail_open_allows_while_redis_is_down(services: Services) -> None:
    limiter = services.limiter("fail_open")
    assert not (await limiter.check("user:1", RATE)).degraded
    services.clock.freeze()
    services.server.kill()

    decisions = [await limiter.check("user:1", RATE) for _ in range(50)]

    assert all(d.allowed and d.degraded and not d.notify for d in decisions)
    # A dead Redis must not stall checks: the first check pays for the failure
    # (a try and its retry), the 49 others answer without calling Redis.
    assert services.health.snapshot().failures <= 2, "a dead Redis must not stall checks"
    snapshot = services.health.snapshot()
    assert snapshot.state == "degraded"
    assert snapshot.last_error is not None and "ConnectionError" in snapshot.last_error


async def test_fail_closed_refuses_with_configured_retry_after_and_notifies_once(
    services: Services,
) -> None:
    limiter = services.limiter("fail_closed")
    services.server.kill()

    decisions = [await limiter.check("user:1", RATE) for _ in range(5)]

    assert all(not d.allowed and d.degraded and d.retry_after == 7.0 for d in decisions)
    assert [d.notify for d in decisions] == [True] + [False] * 4
    assert (await limiter.check("user:2", RATE)).notify, "another user is told too"
    assert services.health.state == "degraded"


async def test_same_client_recovers_after_restart_and_script_is_reloaded(
    services: Services,
) -> None:
    limiter = services.limiter("fail_open")
    assert not (await limiter.check("user:1", RATE)).degraded
    services.server.kill()
    assert (await limiter.check("user:1", RATE)).degraded

    services.server.restart()  # same port, empty script cache: EVALSHA gets NOSCRIPT

    async def real_answer() -> bool:
        return not (await limiter.check("user:9", RATE)).degraded

    await eventually(real_answer)
    assert services.health.state == "ok"
    stats = await services.client.info("commandstats")
    assert stats["cmdstat_script"]["calls"] == 1, "NOSCRIPT answered by one SCRIPT LOAD"
    # Real GCRA again: user:9 already spent one call above, two remain.
    decisions = [await limiter.check("user:9", RATE) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[-1].notify and not decisions[-1].degraded


async def test_paused_redis_costs_one_timeout_then_answers_at_once(services: Services) -> None:
    limiter = services.limiter("fail_open")
    assert not (await limiter.check("user:1", RATE)).degraded
    services.server.pause()
    try:
        services.clock.freeze()  # before the failure: no retry interval passes after it
        start = time.monotonic()
        first = await limiter.check("user:1", RATE)
        first_took = time.monotonic() - start
        failures = services.health.snapshot().failures
        following = [await limiter.check("user:1", RATE) for _ in range(20)]
    finally:
        services.server.resume()
        services.clock.frozen = None

    assert first.degraded and first.allowed
    # A try and its retry, each ended by the socket timeout: a timeout, not a hang.
    assert 1 <= failures <= 2 and first_took < 10
    # Meanwhile calls skip Redis until the retry interval lets a trial through.
    assert all(d.degraded for d in following)
    assert services.health.snapshot().failures == failures, "no call waited on the paused server"

    async def recovered() -> bool:
        return not (await limiter.check("user:1", RATE)).degraded

    await eventually(recovered)
    assert services.health.state == "ok"


async def test_timed_out_connection_does_not_return_stale_replies(services: Services) -> None:
    store = services.sessions()
    await store.set(1, Page(query="one", page=1))
    await store.set(2, Page(query="two", page=2))
    services.server.pause()
    try:
        # Sent, never answered: the reply arrives after resume on that socket.
        assert await store.get(1, Page) is None
    finally:
        services.server.resume()

    async def answers_for_user_2() -> bool:
        return await store.get(2, Page) is not None

    await eventually(answers_for_user_2)
    assert await store.get(2, Page) == Page(query="two", page=2)
    assert await store.get(1, Page) == Page(query="one", page=1)


async def test_probe_detects_outage_and_recovery_without_traffic(services: Services) -> None:
    assert await services.health.probe()
    services.server.kill()

    assert not await services.health.probe()
    assert services.health.state == "degraded"
    report = services.health.report()
    assert report.status == "degraded" and "ConnectionError" in report.detail

    services.server.restart()
    assert await services.health.probe()
    assert services.health.state == "ok"
    assert services.health.report().status == "ok"


async def test_watch_task_notices_recovery(services: Services) -> None:
    services.server.kill()
    await services.health.probe()
    task = asyncio.create_task(services.health.watch(interval=0.05))
    try:
        services.server.restart()

        async def ok() -> bool:
            return services.health.state == "ok"

        await eventually(ok)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_sessions_keep_paging_while_redis_is_down(services: Services) -> None:
    store = services.sessions()
    await store.set(42, Page(query="q", page=1))
    services.server.kill()

    for page in (2, 3, 4):
        await store.set(42, Page(query="q", page=page))
        assert await store.get(42, Page) == Page(query="q", page=page)
    assert services.health.state == "degraded"


async def test_session_ttl_holds_in_the_fallback(services: Services) -> None:
    store = services.sessions()
    services.server.kill()
    await store.set(42, Page(query="q", page=1), ttl=0.2)
    assert await store.get(42, Page) is not None

    async def expired() -> bool:
        return await store.get(42, Page) is None

    start = time.monotonic()
    await eventually(expired, deadline=2.0)
    assert time.monotonic() - start < 1.0


async def test_writes_go_to_redis_again_after_recovery(services: Services) -> None:
    store = services.sessions()
    services.server.kill()
    await store.set(42, Page(query="q", page=2))
    services.server.restart()

    async def written_to_redis() -> bool:
        await store.set(42, Page(query="q", page=3))
        return await services.client.exists(store.redis_key(42)) == 1

    await eventually(written_to_redis)
    assert services.health.state == "ok"
    assert await store.get(42, Page) == Page(query="q", page=3)


async def test_outage_state_stays_readable_after_recovery(services: Services) -> None:
    store = services.sessions()
    services.server.kill()
    await store.set(42, Page(query="q", page=2))
    services.server.restart()
    assert await services.health.probe()

    assert await store.get(42, Page) == Page(query="q", page=2)


async def test_delete_during_outage_does_not_resurrect_the_old_value(
    redis_factory, redis_prefix: str, tmp_path: Path
) -> None:
    # A persistent Redis: the pre-outage value comes back with it after the restart.
    server = redis_factory(data_dir=tmp_path / "redis")
    client = connect(server.url, socket_timeout=SOCKET_TIMEOUT)
    try:
        health = RedisHealth(client, retry_interval=RETRY_INTERVAL)
        store = SessionStore(client, health, prefix=redis_prefix, kind="search")
        await store.set(42, Page(query="q", page=1))
        server.kill()
        await store.delete(42)
        server.restart()
        assert await health.probe()
        assert await client.exists(store.redis_key(42)) == 1, "the old value is back in Redis"

        assert await store.get(42, Page) is None
    finally:
        await client.aclose()


async def test_limiter_and_sessions_share_one_health(services: Services) -> None:
    limiter, store = services.limiter(), services.sessions()
    services.clock.freeze()  # before the failure: no retry interval passes after it
    services.server.kill()
    await store.set(1, Page(query="q", page=1))
    assert services.health.state == "degraded"
    failures = services.health.snapshot().failures
    # The limiter sees the outage without paying for a failed call of its own.
    decision = await limiter.check("user:1", RATE)
    assert decision == Decision(allowed=True, retry_after=0.0, remaining=0, degraded=True)
    assert services.health.snapshot().failures == failures


@pytest.mark.parametrize("outage", ["oom", "readonly"])
async def test_a_full_or_read_only_redis_follows_the_policy_and_shows_in_health(services: Services,
                                                                              outage: str) -> None:
    limiter, store = services.limiter("fail_closed"), services.sessions()
    assert not (await limiter.check("user:1", RATE)).degraded
    admin = redis.asyncio.Redis.from_url(services.server.url)
    try:
        if outage == "oom":  # every write refused: "OOM command not allowed when used memory > 'maxmemory'"
            await admin.config_set("maxmemory-policy", "noeviction")
            await admin.config_set("maxmemory", "1")
        else:  # after a failover this server became a replica: "READONLY You can't write against a replica"
            await admin.execute_command("REPLICAOF", "127.0.0.1", "1")
        decision = await limiter.check("user:2", RATE)
        assert not decision.allowed and decision.degraded and decision.retry_after == 7.0
        await store.set(5, Page(query="q", page=1))  # kept in process, no error
        assert await store.get(5, Page) == Page(query="q", page=1)
        assert services.health.state == "degraded"
        assert ("-OOM" if outage == "oom" else "-READONLY") in services.health.snapshot().last_error
    finally:
        await admin.execute_command("REPLICAOF", "NO", "ONE")
        await admin.config_set("maxmemory", "0")
        await admin.aclose()
