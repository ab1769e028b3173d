"""Per-user sessions against a real Redis: round trip, TTL, delete, namespaces."""

from __future__ import annotations

import msgspec
import pytest
import redis.asyncio

from mediabot.core.redis import RedisHealth, SessionStore
from mediabot.core.redis.local import TtlLru
from mediabot.testing import eventually


class SearchState(msgspec.Struct):
    query: str
    page: int = 0
    selected: list[int] = []


class OtherShape(msgspec.Struct):
    cursor: bytes


@pytest.fixture
def store(client: redis.asyncio.Redis, redis_prefix: str) -> SessionStore:
    return SessionStore(client, RedisHealth(client), prefix=redis_prefix).namespace("search")


async def test_struct_round_trips(store: SessionStore) -> None:
    state = SearchState(query="the matrix [1999]", page=3, selected=[4, 8])
    await store.set(42, state)
    assert await store.get(42, SearchState) == state


async def test_unknown_user_has_no_session(store: SessionStore) -> None:
    assert await store.get(404, SearchState) is None


async def test_set_replaces_the_previous_value(store: SessionStore) -> None:
    await store.set(42, SearchState(query="a"))
    await store.set(42, SearchState(query="a", page=1))
    assert await store.get(42, SearchState) == SearchState(query="a", page=1)


async def test_delete_forgets_the_session(store: SessionStore) -> None:
    await store.set(42, SearchState(query="a"))
    await store.delete(42)
    assert await store.get(42, SearchState) is None


async def test_session_expires_after_its_ttl(store: SessionStore, client: redis.asyncio.Redis) -> None:
    await store.set(42, SearchState(query="a"), ttl=0.2)
    assert await store.get(42, SearchState) is not None
    # Redis holds the expiry (no wall-clock bound here: a busy machine only delays the poll below).
    assert 0 < await client.pttl(store.redis_key(42)) <= 200

    await eventually(lambda: store.get(42, SearchState), lambda state: state is None, what="the session to expire")


async def test_default_ttl_is_applied_in_redis(
    client: redis.asyncio.Redis, redis_prefix: str
) -> None:
    store = SessionStore(client, RedisHealth(client), prefix=redis_prefix, kind="search", ttl=60)
    await store.set(42, SearchState(query="a"))
    assert 59_000 < await client.pttl(store.redis_key(42)) <= 60_000


async def test_namespaces_do_not_see_each_other(store: SessionStore) -> None:
    other = store.namespace("broadcast")
    await store.set(42, SearchState(query="a"))
    assert await other.get(42, SearchState) is None
    await other.delete(42)
    assert await store.get(42, SearchState) == SearchState(query="a")


async def test_keys_are_hash_tagged_by_user(store: SessionStore, redis_prefix: str) -> None:
    assert store.redis_key(42) == f"{redis_prefix}:sess:search:{{user:42}}"
    assert store.namespace("other").redis_key(42).endswith(":{user:42}")


async def test_value_that_no_longer_matches_its_type_reads_as_none(store: SessionStore) -> None:
    await store.set(42, SearchState(query="a"))
    assert await store.get(42, OtherShape) is None


@pytest.mark.parametrize("kind", ["", "a:b"])
def test_bad_namespace_is_refused(store: SessionStore, kind: str) -> None:
    with pytest.raises(ValueError, match="kind"):
        store.namespace(kind)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_fallback_entries_expire_like_redis_keys() -> None:
    clock = FakeClock()
    lru: TtlLru[str] = TtlLru(10, clock=clock)
    lru.set("a", "x", ttl=1.0)
    clock.now = 0.99
    assert lru.get("a") == ("x",)
    clock.now = 1.0
    assert lru.get("a") is None


def test_fallback_drops_the_least_recently_used_beyond_its_size() -> None:
    lru: TtlLru[str] = TtlLru(2)
    lru.set("a", "1", ttl=None)
    lru.set("b", "2", ttl=None)
    lru.get("a")  # "b" is now the least recently used
    lru.set("c", "3", ttl=None)
    assert "b" not in lru and "a" in lru and "c" in lru
