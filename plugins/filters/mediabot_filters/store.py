"""Filters in MongoDB, an in-memory index per scope in every process, and the change signal in Redis.

MongoDB (collection ``filters.filters``) holds the filters, one document
per scope and keyword (``_id`` = ``<scope>:<key>``). Every process keeps
every scope's filters in memory (:class:`~mediabot_filters.index.ScopeIndex`)
and matches messages there: no database or Redis call on the hot path.

The change signal (keys under ``ctx.storage.key``)::

    version   a random token, new at every change, in any process
    scopes    hash: scope -> the token of its last change

A process looks at ``version`` every ``refresh`` seconds (one GET); when it
differs from the last one it saw, it reads ``scopes`` and reloads, from
MongoDB, the scopes whose token is not its copy's. Random tokens, not
counters: a Redis that restarted empty never hands out a version a process
has already seen. A writer updates MongoDB first, then the signal, so a
reader that sees the signal reads the new data. The writing process
reloads its scope at once. Without Redis (a single process) the signal is
local only.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from typing import Any

import msgspec

from mediabot_filters.index import ScopeIndex
from mediabot_filters.model import Filter

__all__ = ["FilterStore"]

log = logging.getLogger("mediabot.plugin.filters.store")


def _doc_id(scope: int, key: str) -> str:
    return f"{scope}:{key}"


class FilterStore:
    """The filters of every scope: durable in MongoDB, matched from memory, kept fresh through Redis."""

    def __init__(self, collection: Any, redis: Any, key: Any, *, refresh: float, sleep: Any) -> None:
        self._coll = collection
        self._redis = redis
        self._key = key  # ctx.storage.key
        self._refresh = refresh
        self._sleep = sleep
        self._indexes: dict[int, ScopeIndex] = {}
        self._seen_version: str | None = None
        self._empty = ScopeIndex()

    # -- the hot path ------------------------------------------------------------------
    def index(self, scope: int) -> ScopeIndex:
        """The scope's filters as this process knows them (an empty index for a scope with none)."""
        return self._indexes.get(scope, self._empty)

    def scopes(self) -> list[int]:
        return [s for s, idx in self._indexes.items() if len(idx)]

    # -- loading -----------------------------------------------------------------------
    async def load_all(self) -> None:
        """Every scope from MongoDB (at start): versions first, so a change during the load is seen again."""
        versions = await self._versions()
        by_scope: dict[int, list[Filter]] = {}
        async for doc in self._coll.find({}):
            f = _decode(doc)
            if f is not None:
                by_scope.setdefault(f.scope, []).append(f)
        self._indexes = {scope: ScopeIndex(fs, versions.get(scope, "")) for scope, fs in by_scope.items()}
        for scope, version in versions.items():
            self._indexes.setdefault(scope, ScopeIndex(version=version))

    async def reload(self, scope: int, version: str | None = None) -> ScopeIndex:
        fs = [f async for doc in self._coll.find({"scope": scope}) if (f := _decode(doc)) is not None]
        old = self._indexes.get(scope)
        index = ScopeIndex(fs, version if version is not None else (old.version if old else ""))
        self._indexes[scope] = index
        return index

    async def follow(self) -> None:
        """Reload what other processes changed, forever (a loop the plugin owns)."""
        if self._redis is None:
            return
        while True:
            await self._sleep(self._refresh)
            try:
                await self.catch_up()
            except (TimeoutError, OSError) as exc:
                log.warning("filters: could not read the change signal: %s: %s", type(exc).__name__, exc)
            except Exception as exc:
                if type(exc).__module__.startswith(("redis", "pymongo")):
                    log.warning("filters: could not refresh: %s: %s", type(exc).__name__, exc)
                else:
                    raise

    async def catch_up(self) -> None:
        """One look at the signal; reloads the scopes changed since this process's copy."""
        if self._redis is None:
            return
        raw = await self._redis.get(self._key("version"))
        version = _text(raw)
        if version == self._seen_version:
            return
        for scope, changed in (await self._versions()).items():
            current = self._indexes.get(scope)
            if current is None or current.version != changed:
                await self.reload(scope, changed)
        self._seen_version = version

    async def _versions(self) -> dict[int, str]:
        if self._redis is None:
            return {}
        raw = await self._redis.hgetall(self._key("scopes"))
        return {int(k): _text(v) for k, v in raw.items()}

    async def _changed(self, scope: int) -> None:
        version = secrets.token_hex(8)
        if self._redis is not None:
            # The scope's token first: a reader that sees the new version finds it.
            await self._redis.hset(self._key("scopes"), str(scope), version)
            await self._redis.set(self._key("version"), version)
        await self.reload(scope, version)

    # -- writing -----------------------------------------------------------------------
    async def put(self, f: Filter) -> None:
        """Add or replace ``f`` (same scope and key)."""
        doc = msgspec.to_builtins(f)
        doc["_id"] = _doc_id(f.scope, f.key)
        await self._coll.replace_one({"_id": doc["_id"]}, doc, upsert=True)
        await self._changed(f.scope)

    async def put_many(self, scope: int, filters: Iterable[Filter]) -> int:
        count = 0
        for f in filters:
            doc = msgspec.to_builtins(f)
            doc["_id"] = _doc_id(scope, f.key)
            await self._coll.replace_one({"_id": doc["_id"]}, doc, upsert=True)
            count += 1
        await self._changed(scope)
        return count

    async def remove(self, scope: int, key: str) -> bool:
        result = await self._coll.delete_one({"_id": _doc_id(scope, key)})
        if result.deleted_count:
            await self._changed(scope)
        return bool(result.deleted_count)

    async def remove_all(self, scope: int) -> int:
        result = await self._coll.delete_many({"scope": scope})
        await self._changed(scope)
        return int(result.deleted_count)


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw or "")


def _decode(doc: dict[str, Any]) -> Filter | None:
    doc = {k: v for k, v in doc.items() if k != "_id"}
    try:
        return msgspec.convert(doc, Filter)
    except msgspec.ValidationError as exc:
        log.warning("filters: skipped a stored filter that does not decode: %s", exc)
        return None
