"""The result cache: engine answers shared in Redis by every process, under a catalogue version.

Keys (all under the plugin's hash tag, so one Redis Cluster slot)::

    <prefix>:{search}:version            the catalogue version: a change-stream id
    <prefix>:{search}:bump               held for invalidation_interval after a bump (the throttle)
    <prefix>:{search}:rc:<version>:<h>   one cached page (msgpack SearchResult), TTL cache_ttl
    <prefix>:{search}:lock:<version>:<h> who computes a missing page (SET NX, short TTL)

``<h>`` hashes the *normalised* query (what the engine reads the text as:
words, prefix, filters), the page offset and size: "Dune  2021" and
"dune 2021" share an entry.

Invalidation: a process that applied catalogue changes up to stream id X
asks to move the version to X. The ``bump`` key lets one bump through per
interval for the whole deployment (bursts coalesce); a refused bump is
retried by the follower until it goes through. Old entries are never
deleted by pattern: they stop being read and expire with their TTL.

Consistency: the version is a stream position, so a process stores a page
only when its own index has applied at least that position. A process still
catching up computes from its index and answers, but never caches a page
that could hide a file another process already sees.

Stampedes: concurrent misses of one key in one process share one
computation; across processes the first to ``SET NX`` the lock computes and
the others poll the entry for a short while (on the app clock).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from mediabot_search.engine import SearchResult

__all__ = ["ResultCache", "cache_hash", "stream_id_at_least"]

log = logging.getLogger("mediabot.plugin.search.cache")

LOCK_TTL_MS = 5000
WAIT_STEP = 0.02
WAIT_LIMIT = 2.0
ZERO = "0-0"

# KEYS[1] version, KEYS[2] bump throttle. ARGV[1] new stream id, ARGV[2] interval in ms.
# Returns 2 when the version was already at or past ARGV[1], 1 when this call moved it, 0 when the
# throttle refused.
_BUMP_LUA = """
local function parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms or '0'), tonumber(seq or '0')
end
local function before(a, b)
  local am, as = parts(a)
  local bm, bs = parts(b)
  return am < bm or (am == bm and as < bs)
end
local current = redis.call('GET', KEYS[1]) or '0-0'
if not before(current, ARGV[1]) then return 2 end
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(SearchResult)


def _id_parts(x: str) -> tuple[int, int]:
    ms, _, seq = x.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        return 0, 0


def stream_id_at_least(a: str | None, b: str) -> bool:
    """Whether stream position ``a`` is at or after ``b`` (``None``: nowhere yet)."""
    return a is not None and _id_parts(a) >= _id_parts(b)


def cache_hash(normalised: bytes, offset: int, limit: int) -> str:
    return hashlib.blake2b(normalised + f"|{offset}|{limit}".encode(), digest_size=12).hexdigest()


class ResultCache:
    """Cached engine results (see the module docstring).

    :param redis: the app's Redis client.
    :param key: the plugin's key function (``ctx.storage.key``).
    :param ttl: seconds an entry lives.
    :param interval: at most one version bump per this many seconds.
    :param position: the stream position this process's index has applied (``None``: rebuilding).
    :param sleep: the app clock's sleep (polling while another process computes).
    :param metrics: the app's metrics.
    """

    def __init__(self, redis: Any, key: Callable[..., str], *, ttl: float, interval: float,
                 position: Callable[[], str | None], sleep: Callable[[float], Awaitable[None]],
                 now: Callable[[], float], metrics: Any) -> None:
        self._redis = redis
        self._key = key
        self._ttl_ms = max(1, int(ttl * 1000))
        self._interval_ms = max(1, int(interval * 1000))
        self._position = position
        self._sleep = sleep
        self._now = now
        self._bump = redis.register_script(_BUMP_LUA)
        self._inflight: dict[str, asyncio.Future[SearchResult]] = {}
        self.pending_bump: str | None = None
        self._lookups = metrics.counter("mediabot_search_cache_total",
                                        "Result cache lookups, by result (hit, miss, wait: another process computed it)",
                                        ["result"])
        self._bumps = metrics.counter("mediabot_search_cache_bumps_total", "Catalogue version bumps that went through")

    async def version(self) -> str:
        raw = await self._redis.get(self._key("version"))
        if raw is None:
            return ZERO
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    async def get_or_compute(self, normalised: bytes, offset: int, limit: int,
                             compute: Callable[[], Awaitable[SearchResult]]) -> SearchResult:
        """The cached page, or ``compute()``'s answer (stored when this index is current enough)."""
        version = await self.version()
        digest = cache_hash(normalised, offset, limit)
        entry = self._key("rc", version, digest)
        raw = await self._redis.get(entry)
        if raw is not None:
            self._lookups.labels(result="hit").inc()
            return _decoder.decode(raw)
        shared = self._inflight.get(entry)
        if shared is not None:  # the same miss in this process: one computation
            self._lookups.labels(result="hit").inc()
            return await asyncio.shield(shared)
        future: asyncio.Future[SearchResult] = asyncio.get_running_loop().create_future()
        self._inflight[entry] = future
        try:
            result = await self._miss(entry, self._key("lock", version, digest), version, compute)
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc)
                future.exception()  # retrieved: a lone failure must not log "never retrieved"
            raise
        else:
            future.set_result(result)
            return result
        finally:
            self._inflight.pop(entry, None)

    async def _miss(self, entry: str, lock: str, version: str,
                    compute: Callable[[], Awaitable[SearchResult]]) -> SearchResult:
        current = stream_id_at_least(self._position(), version)
        if current and not await self._redis.set(lock, b"1", nx=True, px=LOCK_TTL_MS):
            # Another process computes this page: wait a little for its entry.
            deadline = self._now() + WAIT_LIMIT
            while self._now() < deadline:
                await self._sleep(WAIT_STEP)
                raw = await self._redis.get(entry)
                if raw is not None:
                    self._lookups.labels(result="wait").inc()
                    return _decoder.decode(raw)
                if not await self._redis.exists(lock):
                    break
        self._lookups.labels(result="miss").inc()
        result = await compute()
        if current:
            try:
                await self._redis.set(entry, _encoder.encode(result), px=self._ttl_ms)
                await self._redis.delete(lock)
            except Exception as exc:  # noqa: BLE001 - the user has the answer; the cache is best effort
                log.warning("could not store a result page: %s: %s", type(exc).__name__, exc)
        return result

    async def bump(self, position: str) -> bool:
        """Move the version to ``position`` unless a bump went through within the interval.

        Returns whether the version is now at or past ``position``; a refused
        bump stays in :attr:`pending_bump` for the follower to retry.
        """
        answer = int(await self._bump(keys=(self._key("version"), self._key("bump")),
                                      args=(position, self._interval_ms)))
        done = answer > 0
        if answer == 1:
            self._bumps.inc()
        if done:
            if self.pending_bump is not None and stream_id_at_least(position, self.pending_bump):
                self.pending_bump = None
        else:
            self.pending_bump = position
        return done
