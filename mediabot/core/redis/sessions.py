"""Per-user interaction state (query, page, selection) with a TTL.

Values are msgspec-encoded (msgpack) and decoded into the type the caller
asks for, so a plugin reads back the Struct it wrote, validated.

While Redis is unreachable the store keeps working from a bounded in-process
LRU with the same TTL semantics, so a user can keep paging through results.
The trade-offs of that fallback, chosen on purpose:

- State written during the outage lives only in this process. Another bot
  process does not see it, and if this process restarts it is lost.
- When Redis returns, writes go to Redis again and drop the local copy. Until
  a user's next write (or the TTL), a read still prefers the local copy: it
  was written after anything Redis holds for that user, unless another process
  wrote the same user's state after recovery, in which case this process
  serves its own older copy until it expires.
- A delete during the outage leaves a local tombstone for ``ttl`` seconds so
  the pre-outage value in Redis does not come back when Redis does. A value
  written with a longer explicit ``ttl`` before the outage can outlive the
  tombstone and reappear; sessions are short-lived, so this is accepted.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
import redis.asyncio

from mediabot.core.redis.health import REDIS_ERRORS, RedisHealth, is_unavailable
from mediabot.core.redis.keys import hash_tagged
from mediabot.core.redis.local import TtlLru

log = logging.getLogger(__name__)

S = TypeVar("S")


def check_session_args(kind: str, ttl: float) -> None:
    """Refuse a kind that would break the key layout, and a TTL that would never keep anything."""
    if not kind or ":" in kind:
        raise ValueError(f"session kind {kind!r} must be non-empty and contain no ':'")
    if ttl <= 0:
        raise ValueError(f"session ttl must be > 0, got {ttl}")


@dataclass(eq=False)
class _Backing:
    """What all namespaces of one store share: the client, the health, the fallback."""

    redis: redis.asyncio.Redis
    health: RedisHealth
    prefix: str
    fallback: TtlLru[bytes | None]
    encoder: msgspec.msgpack.Encoder = field(default_factory=msgspec.msgpack.Encoder)
    decoders: dict[Any, msgspec.msgpack.Decoder[Any]] = field(default_factory=dict)

    def decoder(self, type_: Any) -> msgspec.msgpack.Decoder[Any]:
        # One decoder per type: building one compiles the type's schema.
        decoder = self.decoders.get(type_)
        if decoder is None:
            decoder = self.decoders[type_] = msgspec.msgpack.Decoder(type_)
        return decoder


class SessionStore:
    """Per-user state of one kind (``search``, ``broadcast``...), expiring after ``ttl``.

    Create one at startup and hand each plugin ``store.namespace("<plugin>")``.

    :param redis: the shared client (see :func:`mediabot.core.redis.connect` for timeouts).
    :param health: shared Redis health, updated by every call.
    :param prefix: key prefix of this deployment; keys are ``<prefix>:sess:<kind>:{user:<id>}``.
    :param kind: the namespace of this store; use :meth:`namespace` for others.
    :param ttl: default seconds a value lives after it is written.
    :param fallback_size: values kept in process while Redis is down (all kinds together).
    """

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        health: RedisHealth,
        *,
        prefix: str,
        kind: str = "default",
        ttl: float = 3600.0,
        fallback_size: int = 10_000,
    ) -> None:
        self._init(_Backing(redis, health, prefix, TtlLru(fallback_size)), kind, ttl)

    def _init(self, backing: _Backing, kind: str, ttl: float) -> None:
        check_session_args(kind, ttl)
        self._backing = backing
        self._kind = kind
        self._ttl = ttl
        hash_tagged(backing.prefix, "check")  # refuse a prefix that would break the hash tag

    @property
    def kind(self) -> str:
        return self._kind

    def namespace(self, kind: str, *, ttl: float | None = None) -> SessionStore:
        """A store for another kind of state, sharing this one's client, health and fallback."""
        store = object.__new__(SessionStore)
        store._init(self._backing, kind, self._ttl if ttl is None else ttl)
        return store

    def redis_key(self, user_id: int) -> str:
        """The user id is the hash tag: all of one user's sessions share a Cluster slot."""
        return hash_tagged(f"{self._backing.prefix}:sess:{self._kind}", f"user:{user_id}")

    async def get(self, user_id: int, type_: type[S]) -> S | None:
        """The user's value decoded as ``type_``, or ``None`` (never set, expired, deleted).

        A stored value that no longer matches ``type_`` (its schema changed
        between releases) reads as ``None``: the user starts over instead of
        hitting an error.
        """
        b = self._backing
        key = self.redis_key(user_id)
        local = b.fallback.get(key)
        payload: bytes | None
        if local is not None:
            payload = local[0]  # written during an outage: newer than Redis (see module doc)
        elif b.health.should_attempt():
            try:
                # redis-py types get() as bytes | str; the kernel's client never decodes responses
                payload = await b.redis.get(key)  # type: ignore[assignment]
            except REDIS_ERRORS as error:
                if not is_unavailable(error):
                    raise
                b.health.record_failure(error)
                return None
            b.health.record_success()
        else:
            return None
        if payload is None:
            return None
        try:
            return b.decoder(type_).decode(payload)
        except msgspec.DecodeError as error:
            log.warning("session %s for a user no longer decodes as %s: %s",
                        self._kind, getattr(type_, "__name__", type_), error)
            return None

    async def set(self, user_id: int, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` (any msgspec-encodable value, usually a Struct) for ``ttl`` seconds."""
        b = self._backing
        ttl = self._ttl if ttl is None else ttl
        if ttl <= 0:
            raise ValueError(f"session ttl must be > 0, got {ttl}")
        key = self.redis_key(user_id)
        payload = b.encoder.encode(value)
        await self._write(key, lambda: b.redis.set(key, payload, px=max(1, round(ttl * 1000))), payload, ttl)

    async def delete(self, user_id: int) -> None:
        """Forget the user's value of this kind."""
        key = self.redis_key(user_id)
        # Locally a deletion is a tombstone (None), see the module doc.
        await self._write(key, lambda: self._backing.redis.delete(key), None, self._ttl)

    async def _write(self, key: str, op: Callable[[], Awaitable[Any]], local: bytes | None, ttl: float) -> None:
        """Apply ``op`` in Redis; when Redis is unavailable, keep ``local`` in process for ``ttl``."""
        b = self._backing
        if b.health.should_attempt():
            try:
                await op()
            except REDIS_ERRORS as error:
                if not is_unavailable(error):
                    raise
                b.health.record_failure(error)
            else:
                b.health.record_success()
                b.fallback.pop(key)  # Redis is authoritative again for this key
                return
        b.fallback.set(key, local, ttl)


__all__ = ["SessionStore"]
