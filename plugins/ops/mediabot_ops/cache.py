"""Redis memory by namespace, and cleanup, without ever blocking Redis.

Keys are found with ``SCAN`` in batches of ``scan_batch`` (never ``KEYS``):
each call is short and Redis serves other clients between them. One pass
over ``<key_prefix>:*`` attributes every key to its namespace; a
``MATCH`` per plugin would walk the whole keyspace once per plugin, since
``MATCH`` filters after the walk. Sizes come from ``MEMORY USAGE`` on a
uniform sample of each namespace's keys (reservoir sampling), scaled to
its key count. Deletion uses ``UNLINK``, which frees memory off the main
thread.
"""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from typing import Any

import msgspec

__all__ = ["CacheInspector", "CacheReport", "NamespaceUsage", "glob_escape", "namespace_of"]

SESSIONS = "sessions"
RATE_LIMITS = "rate limits"
OTHER = "other"

_GLOB = re.compile(r"([*?\[\]\\])")


def glob_escape(text: str) -> str:
    """``text`` as a literal inside a ``SCAN MATCH`` pattern."""
    return _GLOB.sub(r"\\\1", text)


def namespace_of(key: str, prefix: str) -> str:
    """Who a key belongs to: a plugin's name (``<prefix>:{<plugin>}:...``), or a kernel service.

    The kernel's keys are ``<prefix>:sess:<kind>:{user:N}`` (sessions) and
    ``<prefix>:rl:{<key>}`` (rate limits); the catalogue's change stream is
    ``<prefix>:{catalog}:changes``.
    """
    rest = key[len(prefix) + 1:]
    if rest.startswith("{"):
        end = rest.find("}")
        if end > 1:
            return rest[1:end]
    if rest.startswith("sess:"):
        return SESSIONS
    if rest.startswith("rl:"):
        return RATE_LIMITS
    return OTHER


class NamespaceUsage(msgspec.Struct, kw_only=True):
    """Keys and estimated memory of one namespace.

    :param name: a plugin's name, ``catalog``, ``sessions``, ``rate limits`` or ``other``.
    :param keys: keys found.
    :param sampled: keys measured with ``MEMORY USAGE``.
    :param sampled_bytes: their total size.
    :param sampled_without_ttl: measured keys that never expire.
    """

    name: str
    keys: int = 0
    sampled: int = 0
    sampled_bytes: int = 0
    sampled_without_ttl: int = 0

    @property
    def estimated_bytes(self) -> int:
        return 0 if not self.sampled else round(self.sampled_bytes / self.sampled * self.keys)

    @property
    def without_ttl_share(self) -> float:
        return 0.0 if not self.sampled else self.sampled_without_ttl / self.sampled


class CacheReport(msgspec.Struct, kw_only=True):
    """What one analysis found.

    :param namespaces: largest (estimated bytes) first.
    :param scan_calls: ``SCAN`` calls made.
    :param used_memory: Redis's ``used_memory`` in bytes (the whole server, all prefixes).
    :param maxmemory: its limit (0: none).
    :param hit_rate: ``keyspace_hits / (hits + misses)`` since the server started, ``None`` before any lookup.
    """

    namespaces: list[NamespaceUsage]
    scan_calls: int
    used_memory: int
    maxmemory: int
    hit_rate: float | None


class CacheInspector:
    """Analyses and cleans the keys under ``prefix`` on one Redis.

    :param redis: the app's client.
    :param prefix: ``[redis] key_prefix``.
    :param batch: ``COUNT`` of each ``SCAN`` and size of each ``UNLINK``.
    :param samples: keys measured per namespace.
    :param rng: the sampling's randomness (seeded in tests).
    """

    def __init__(self, redis: Any, prefix: str, *, batch: int, samples: int,
                 rng: random.Random | None = None) -> None:
        self._redis = redis
        self._prefix = prefix
        self._batch = batch
        self._samples = samples
        self._rng = rng or random.Random()

    def namespace_pattern(self, name: str) -> str:
        """The ``MATCH`` pattern of every key of plugin ``name``."""
        return f"{glob_escape(self._prefix)}:{{{glob_escape(name)}}}:*"

    async def analyze(self) -> CacheReport:
        usage: dict[str, NamespaceUsage] = {}
        reservoirs: dict[str, list[bytes]] = {}
        calls = 0
        async for keys in self._scan(f"{glob_escape(self._prefix)}:*"):
            calls += 1
            for raw in keys:
                name = namespace_of(raw.decode("utf-8", "replace"), self._prefix)
                ns = usage.get(name)
                if ns is None:
                    ns = usage[name] = NamespaceUsage(name=name)
                    reservoirs[name] = []
                ns.keys += 1
                _reservoir_add(reservoirs[name], raw, ns.keys, self._samples, self._rng)
        for name, sample in reservoirs.items():
            await self._measure(usage[name], sample)
        info = await self._redis.info("memory")
        stats = await self._redis.info("stats")
        hits, misses = int(stats.get("keyspace_hits", 0)), int(stats.get("keyspace_misses", 0))
        return CacheReport(
            namespaces=sorted(usage.values(), key=lambda n: (-n.estimated_bytes, -n.keys, n.name)),
            scan_calls=calls, used_memory=int(info.get("used_memory", 0)),
            maxmemory=int(info.get("maxmemory", 0)),
            hit_rate=hits / (hits + misses) if hits + misses else None)

    async def count(self, patterns: list[str]) -> int:
        """Keys matching any of ``patterns`` (a key matching two is counted twice: keep them disjoint)."""
        total = 0
        for pattern in patterns:
            async for keys in self._scan(pattern):
                total += len(keys)
        return total

    async def delete(self, patterns: list[str]) -> int:
        """Unlink every key matching ``patterns``, one batch at a time; returns how many went."""
        deleted = 0
        for pattern in patterns:
            async for keys in self._scan(pattern):
                if keys:
                    deleted += int(await self._redis.unlink(*keys))
        return deleted

    async def _scan(self, pattern: str) -> AsyncIterator[list[bytes]]:
        cursor = 0
        while True:
            cursor, keys = await self._redis.scan(cursor, match=pattern, count=self._batch)
            yield list(keys)
            if int(cursor) == 0:
                return

    async def _measure(self, ns: NamespaceUsage, sample: list[bytes]) -> None:
        if not sample:
            return
        pipe = self._redis.pipeline(transaction=False)
        for key in sample:
            pipe.memory_usage(key)
            pipe.pttl(key)
        answers = await pipe.execute()
        for size, ttl in zip(answers[::2], answers[1::2], strict=True):
            if size is None:  # expired or deleted since the scan
                continue
            ns.sampled += 1
            ns.sampled_bytes += int(size)
            if int(ttl) == -1:
                ns.sampled_without_ttl += 1


def _reservoir_add(sample: list[bytes], key: bytes, seen: int, size: int, rng: random.Random) -> None:
    """Algorithm R: after ``seen`` keys, each of them is in ``sample`` with probability ``size / seen``."""
    if len(sample) < size:
        sample.append(key)
        return
    slot = rng.randrange(seen)
    if slot < size:
        sample[slot] = key
