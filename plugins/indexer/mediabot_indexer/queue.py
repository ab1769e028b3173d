"""The durable live queue: one Redis Stream and one consumer group.

Keys (``<prefix>`` is the plugin's key prefix)::

    <prefix>stream   the stream; entry fields: p = msgpack Post
    <prefix>dead     entries that did not decode (the newest ~10,000 kept for an operator, not retried)

and the consumer group ``indexer`` on ``<prefix>stream``.

An entry is written by :meth:`StreamQueue.add` (the buffer's flusher),
delivered to one consumer by :meth:`read` or, when that consumer died, taken
over by :meth:`claim`, and removed from the pending list by :meth:`ack` once
the catalogue holds it. History is trimmed by :meth:`trim` with ``MINID``
below the oldest pending entry -- never by ``MAXLEN``, which would cut
entries nobody has acknowledged. On Redis 6.2 an entry trimmed or deleted
while pending stays pending and ``XAUTOCLAIM`` returns it as nil: :meth:`claim`
reports such entries with no payload so the consumer acknowledges them.

Every call has a timeout; errors are the client's (``RedisError``) or ``TimeoutError``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Sequence
from typing import Any

import msgspec
from redis.exceptions import ResponseError

__all__ = ["Backlog", "Entry", "StreamQueue", "consumer_name"]

#: dead-letter entries kept (about: trimmed with MAXLEN ~)
DEAD_KEPT = 10_000

GROUP = "indexer"
FIELD = b"p"

# XAUTOCLAIM ... JUSTID returns the ids even of deleted entries (the normal
# form gives 6.2's anonymous nil); each id is then read with XRANGE, so a
# deleted one is known by its id and can be acknowledged. Works unchanged on
# 7.x, where deleted ids are dropped from the pending list and not returned.
# KEYS: stream. ARGV: group, consumer, min idle ms, start id, count.
# Returns: next start id, then id, fields-or-false pairs.
_CLAIM = """
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5], 'JUSTID')
local out = {r[1]}
for _, id in ipairs(r[2]) do
  local e = redis.call('XRANGE', KEYS[1], id, id)
  out[#out + 1] = id
  if e[1] then out[#out + 1] = e[1][2] else out[#out + 1] = false end
end
return out
"""


def consumer_name() -> str:
    """A consumer name no other process uses: host, pid and a random part (a restart is a new consumer)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _str(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class Entry(msgspec.Struct, frozen=True):
    """One stream entry: its id and payload (``None``: trimmed while pending, nothing to deliver)."""

    id: str
    payload: bytes | None


class Backlog(msgspec.Struct, frozen=True, kw_only=True):
    """How much work the stream holds.

    :param length: entries in the stream (``XLEN``).
    :param pending: delivered to a consumer, not acknowledged yet.
    :param undelivered: not yet delivered to any consumer. Redis 7 reports it
        (``lag``); on 6.2 it is ``length - pending``, exact while acknowledged
        history is trimmed and an upper bound otherwise.
    :param safe_trim_id: every entry below this id is acknowledged
        (``XTRIM MINID`` may cut below it); ``None`` when nothing is.
    :param estimated: ``undelivered`` is the 6.2 estimate, not Redis 7's ``lag``.
    """

    length: int
    pending: int
    undelivered: int
    safe_trim_id: str | None = None
    estimated: bool = True

    @property
    def total(self) -> int:
        """Entries not acknowledged: pending plus undelivered."""
        return self.pending + self.undelivered

    def after_trim(self, trimmed: int) -> Backlog:
        """The backlog once ``trimmed`` acknowledged entries were cut (they inflated the 6.2 estimate)."""
        undelivered = max(0, self.undelivered - trimmed) if self.estimated else self.undelivered
        return msgspec.structs.replace(self, length=self.length - trimmed, undelivered=undelivered)


class StreamQueue:
    """The indexer's Redis Stream and consumer group.

    :param redis: a ``redis.asyncio.Redis`` client (the app's); bytes replies.
    :param prefix: every key starts with it.
    :param timeout: seconds for each call that does not block.
    """

    def __init__(self, redis: Any, prefix: str, *, timeout: float = 2.0) -> None:
        self._redis = redis
        self.stream_key = f"{prefix}stream"
        self.dead_key = f"{prefix}dead"
        self.group = GROUP
        self._timeout = timeout
        self._claim_script = redis.register_script(_CLAIM)

    async def ensure_group(self) -> None:
        """Create the stream and the group if missing (idempotent; also after Redis lost its data).

        The group starts at ``0``: entries added before it existed are delivered too.
        """
        try:
            async with asyncio.timeout(self._timeout):
                await self._redis.xgroup_create(self.stream_key, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _grouped(self, call: Any, timeout: float | None = None) -> Any:
        """Run ``call()``; if Redis lost the group (a restart without data), make it again and retry once."""
        for attempt in (1, 2):
            try:
                async with asyncio.timeout(timeout or self._timeout):
                    return await call()
            except ResponseError as exc:
                if attempt == 2 or not ("NOGROUP" in str(exc) or "no such key" in str(exc)):
                    raise
            await self.ensure_group()
        raise AssertionError("unreachable")

    async def add(self, payloads: Sequence[bytes]) -> None:
        """Append entries, one pipelined round trip. No ``MAXLEN``: unacknowledged entries are never cut.

        If the connection fails mid-way some entries may be in the stream
        already; adding them again duplicates entries, which the catalogue's
        dedup absorbs (at least once, never lost).
        """
        async with asyncio.timeout(self._timeout):
            pipe = self._redis.pipeline(transaction=False)
            for payload in payloads:
                pipe.xadd(self.stream_key, {FIELD: payload})
            await pipe.execute()

    async def read(self, consumer: str, count: int, block_ms: int, *, own_pending: bool = False) -> list[Entry]:
        """Up to ``count`` new entries for ``consumer``, waiting up to ``block_ms`` when there are none.

        ``block_ms`` must stay below the client's socket timeout. With
        ``own_pending`` it returns instead the entries already delivered to
        ``consumer`` and not acknowledged, oldest first, without waiting: a
        read whose reply was lost (the connection broke) is found again so.
        """
        start = "0" if own_pending else ">"

        async def call() -> Any:
            return await self._redis.xreadgroup(self.group, consumer, {self.stream_key: start}, count=count,
                                                block=None if own_pending else block_ms)
        reply = await self._grouped(call, self._timeout + block_ms / 1000)
        if not reply:
            return []
        _, items = reply[0]
        return [Entry(_str(entry_id), fields.get(FIELD) if fields else None) for entry_id, fields in items]

    async def claim(self, consumer: str, min_idle_ms: int, count: int,
                    start: str = "0-0") -> tuple[str, list[Entry]]:
        """Take over entries pending longer than ``min_idle_ms`` (their consumer died or hangs).

        Returns the id to start the next claim from (``"0-0"``: the scan is
        complete) and the entries; an entry with no payload was trimmed while
        pending and only needs acknowledging.
        """
        async def call() -> Any:
            return await self._claim_script(keys=[self.stream_key],
                                            args=[self.group, consumer, min_idle_ms, start, count])
        reply = await self._grouped(call)
        entries: list[Entry] = []
        for i in range(1, len(reply), 2):
            fields = reply[i + 1]
            payload = None
            if fields:
                pairs = dict(zip(fields[::2], fields[1::2], strict=True))
                payload = pairs.get(FIELD)
            entries.append(Entry(_str(reply[i]), payload))
        return _str(reply[0]), entries

    async def ack(self, ids: Sequence[str], *, dead: Sequence[Entry] = ()) -> int:
        """Acknowledge ``ids``; ``dead`` entries are copied to the dead-letter stream first.

        Returns how many were still pending (an entry acknowledged twice counts once).
        """
        if not ids:
            return 0
        async with asyncio.timeout(self._timeout):
            pipe = self._redis.pipeline(transaction=True)
            for entry in dead:
                # Kept for an operator to look at, not forever: the newest DEAD_KEPT or so.
                pipe.xadd(self.dead_key, {b"id": entry.id, FIELD: entry.payload or b""}, maxlen=DEAD_KEPT,
                          approximate=True)
            pipe.xack(self.stream_key, self.group, *ids)
            replies = await pipe.execute()
        return int(replies[-1])

    async def length(self) -> int:
        """Entries in the stream (``XLEN``): acknowledged history not trimmed yet included."""
        async with asyncio.timeout(self._timeout):
            return int(await self._redis.xlen(self.stream_key))

    async def backlog(self) -> Backlog:
        """Length, pending and undelivered entries, and the id below which all is acknowledged.

        One round trip. ``last-delivered-id`` is read before the pending list:
        an entry delivered in between is above it, so the trim id stays safe.
        """
        async def call() -> Any:
            pipe = self._redis.pipeline(transaction=True)
            pipe.xlen(self.stream_key)
            pipe.xinfo_groups(self.stream_key)
            pipe.xpending(self.stream_key, self.group)
            return await pipe.execute()
        length, groups, pending = await self._grouped(call)
        group = next((g for g in groups if _str(g["name"]) == self.group), None)
        if group is None:
            raise ResponseError(f"NOGROUP group {self.group} vanished from {self.stream_key}")
        count = int(pending["pending"])
        lag = group.get("lag")
        estimated = not isinstance(lag, int)
        undelivered = max(0, int(length) - count) if estimated else int(lag)
        if count:
            safe: str | None = _str(pending["min"])
        else:
            ms, seq = _id_key(_str(group["last-delivered-id"]))
            safe = None if (ms, seq) == (0, 0) else f"{ms}-{seq + 1}"
        return Backlog(length=int(length), pending=count, undelivered=undelivered, safe_trim_id=safe,
                       estimated=estimated)

    async def trim(self, min_id: str) -> int:
        """Remove entries below ``min_id`` (take it from :meth:`backlog`); returns how many.

        Exact, not ``~``: the 6.2 estimate of undelivered entries counts what is left.
        """
        async with asyncio.timeout(self._timeout):
            return int(await self._redis.xtrim(self.stream_key, minid=min_id, approximate=False))

    async def pending_of(self, consumer: str, count: int = 1000) -> list[str]:
        """Ids pending for ``consumer`` (for tests and operators)."""
        async with asyncio.timeout(self._timeout):
            rows = await self._redis.xpending_range(self.stream_key, self.group, "-", "+", count,
                                                    consumername=consumer)
        return [_str(r["message_id"]) for r in rows]

    async def prune_consumers(self, idle_ms: int) -> int:
        """Delete consumers idle over ``idle_ms`` with nothing pending (past processes); returns how many.

        A live consumer deleted by mistake is recreated by its next read.
        """
        async with asyncio.timeout(self._timeout):
            consumers = await self._redis.xinfo_consumers(self.stream_key, self.group)
            gone = [_str(c["name"]) for c in consumers if int(c["pending"]) == 0 and int(c["idle"]) > idle_ms]
            for name in gone:
                await self._redis.xgroup_delconsumer(self.stream_key, self.group, name)
        return len(gone)
