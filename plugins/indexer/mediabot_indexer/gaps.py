"""Message ids of source channels that may be missing from the catalogue.

Two ways a post goes missing: the in-memory buffer was full and dropped it
(Telegram cannot be asked to pause), or it never arrived (a jump in a
channel's id sequence). Both are written down here as ranges of message ids
per channel, and the plugin backfills them by reading those ids again.
Channel ids also skip legitimately (a deleted post keeps its id), so a range
here is *suspected*: the backfill decides, this module only records.

Recording is synchronous and in memory (it happens on the update path and
while Redis may be down); :meth:`GapLog.persist` moves what was recorded to
Redis when it is reachable, where every process and the backfill see it::

    <prefix>gaps            set of channel ids with gaps
    <prefix>gaps:<channel>  sorted set, member "<first>:<last>", score <first>
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Iterable
from typing import Any

from redis.exceptions import RedisError

__all__ = ["GapDetector", "GapLog", "id_ranges"]

log = logging.getLogger("mediabot.plugin.indexer")

Range = tuple[int, int]  # first and last message id, inclusive

# Removes ranges of ids from one channel's sorted set atomically, splitting
# the stored ranges they cut (two backfills may resolve at once).
# KEYS: the channel's set, the set of channels. ARGV: channel, then first/last pairs.
_RESOLVE = """
local key = KEYS[1]
for i = 2, #ARGV, 2 do
  local a = tonumber(ARGV[i])
  local b = tonumber(ARGV[i + 1])
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', key, '-inf', b)) do
    local sep = string.find(m, ':', 1, true)
    local s = tonumber(string.sub(m, 1, sep - 1))
    local e = tonumber(string.sub(m, sep + 1))
    if e >= a then
      redis.call('ZREM', key, m)
      if s < a then redis.call('ZADD', key, s, string.format('%d:%d', s, a - 1)) end
      if e > b then redis.call('ZADD', key, b + 1, string.format('%d:%d', b + 1, e)) end
    end
  end
end
if redis.call('ZCARD', key) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
return 0
"""


def id_ranges(ids: Iterable[int]) -> list[Range]:
    """Sorted, merged inclusive ranges covering ``ids``: ``[1, 2, 3, 7]`` -> ``[(1, 3), (7, 7)]``."""
    out: list[Range] = []
    for i in sorted(set(ids)):
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def _add(ranges: list[Range], first: int, last: int) -> None:
    """Insert ``[first, last]`` into sorted disjoint ``ranges``, merging what touches it."""
    i = bisect.bisect_left(ranges, (first, first))
    if i > 0 and ranges[i - 1][1] >= first - 1:
        i -= 1
    j = i
    while j < len(ranges) and ranges[j][0] <= last + 1:
        first, last = min(first, ranges[j][0]), max(last, ranges[j][1])
        j += 1
    ranges[i:j] = [(first, last)]


def _remove(ranges: list[Range], first: int, last: int) -> None:
    """Take ``[first, last]`` out of sorted disjoint ``ranges``, splitting the ranges it cuts."""
    i = bisect.bisect_left(ranges, (first, first))
    if i > 0 and ranges[i - 1][1] >= first:
        i -= 1
    j, kept = i, []
    while j < len(ranges) and ranges[j][0] <= last:
        s, e = ranges[j]
        if s < first:
            kept.append((s, first - 1))
        if e > last:
            kept.append((last + 1, e))
        j += 1
    ranges[i:j] = kept


def _coalesce(ranges: list[Range]) -> None:
    """Merge the two closest neighbours: fewer ranges, a few ids too many (the backfill skips them)."""
    k = min(range(len(ranges) - 1), key=lambda n: ranges[n + 1][0] - ranges[n][1])
    ranges[k:k + 2] = [(ranges[k][0], ranges[k + 1][1])]


class GapLog:
    """Suspected missing message ids per channel: bounded in memory, durable in Redis.

    :param redis: a ``redis.asyncio.Redis`` client.
    :param prefix: every key starts with it (the plugin's key prefix).
    :param max_ranges: bound on the ranges held in memory until they reach
        Redis; beyond it neighbouring ranges are merged (so the memory stays
        bounded while Redis is down, at the cost of re-reading a few ids that
        were not missing -- a gap is never forgotten).
    :param timeout: seconds for each Redis call.
    """

    def __init__(self, redis: Any, prefix: str, *, max_ranges: int = 10_000, timeout: float = 2.0) -> None:
        if max_ranges < 1:
            raise ValueError("max_ranges must be at least 1")
        self._redis = redis
        self._prefix = prefix
        self._max_ranges = max_ranges
        self._timeout = timeout
        self._staged: dict[int, list[Range]] = {}
        self._staged_count = 0
        self._resolve_script = redis.register_script(_RESOLVE)
        #: ids recorded since start (a merged range counts the ids it was given).
        self.recorded = 0

    def channel_key(self, channel: int) -> str:
        return f"{self._prefix}gaps:{channel}"

    @property
    def index_key(self) -> str:
        return f"{self._prefix}gaps"

    @property
    def unpersisted(self) -> int:
        """Ranges recorded in memory that have not reached Redis yet."""
        return self._staged_count

    def record(self, channel: int, first: int, last: int | None = None) -> None:
        """Write down ids ``first..last`` (inclusive; one id if ``last`` is omitted) as missing.

        Synchronous and in memory: safe on the update path and while Redis is down.
        """
        last = first if last is None else last
        if last < first:
            raise ValueError(f"empty gap {first}..{last}")
        self.recorded += last - first + 1
        ranges = self._staged.setdefault(channel, [])
        before = len(ranges)
        _add(ranges, first, last)
        self._staged_count += len(ranges) - before
        while self._staged_count > self._max_ranges:
            fullest = max(self._staged.values(), key=len)
            if len(fullest) < 2:
                break  # one range per channel: nothing left to merge
            _coalesce(fullest)
            self._staged_count -= 1

    def forget(self, channel: int, first: int, last: int | None = None) -> None:
        """Un-record ids that turned up after all, if they have not reached Redis yet."""
        ranges = self._staged.get(channel)
        if not ranges:
            return
        before = len(ranges)
        _remove(ranges, first, first if last is None else last)
        self._staged_count += len(ranges) - before
        if not ranges:
            del self._staged[channel]

    async def persist(self) -> bool:
        """Write the ranges recorded in memory to Redis; ``False`` (kept in memory) if it is unreachable."""
        if not self._staged:
            return True
        staged, self._staged, count = self._staged, {}, self._staged_count
        self._staged_count = 0
        try:
            async with asyncio.timeout(self._timeout):
                pipe = self._redis.pipeline(transaction=True)
                pipe.sadd(self.index_key, *[str(c) for c in staged])
                for channel, ranges in staged.items():
                    pipe.zadd(self.channel_key(channel), {f"{a}:{b}": a for a, b in ranges})
                await pipe.execute()
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("indexer: %d gap ranges stay in memory until Redis answers (%s)", count, exc)
            for channel, ranges in staged.items():
                for a, b in ranges:
                    self._merge_back(channel, a, b)
            return False
        return True

    def _merge_back(self, channel: int, first: int, last: int) -> None:
        recorded = self.recorded
        self.record(channel, first, last)
        self.recorded = recorded  # not new ids: recorded already once

    async def channels(self) -> list[int]:
        """Channels with recorded gaps (in Redis or still in memory)."""
        await self.persist()
        try:
            async with asyncio.timeout(self._timeout):
                stored = await self._redis.smembers(self.index_key)
        except (RedisError, OSError, TimeoutError):
            stored = set()
        return sorted({int(c) for c in stored} | set(self._staged))

    async def take(self, channel: int, max_ids: int) -> list[int]:
        """Up to ``max_ids`` of the lowest missing ids of ``channel``, ascending.

        They stay recorded until :meth:`resolve`: a backfill that dies before
        resolving leaves them for the next one. Two backfills of one channel
        must be kept apart by the caller (a job lease).
        """
        await self.persist()
        ranges = list(self._staged.get(channel, []))
        try:
            async with asyncio.timeout(self._timeout):
                members = await self._redis.zrange(self.channel_key(channel), 0, max_ids - 1)
        except (RedisError, OSError, TimeoutError):
            members = []
        for m in members:
            a, _, b = (m.decode() if isinstance(m, bytes) else m).partition(":")
            _add(ranges, int(a), int(b))
        ids: list[int] = []
        for a, b in ranges:
            ids.extend(range(a, min(b, a + max_ids - len(ids) - 1) + 1))
            if len(ids) >= max_ids:
                break
        return ids

    async def resolve(self, channel: int, ids: Iterable[int]) -> None:
        """Remove ids the backfill has dealt with (found and indexed, or confirmed absent).

        :raises redis.exceptions.RedisError: Redis is unreachable; the ids stay recorded.
        """
        ranges = id_ranges(ids)
        if not ranges:
            return
        for a, b in ranges:
            self.forget(channel, a, b)
        args: list[Any] = [str(channel)]
        for a, b in ranges:
            args += [a, b]
        async with asyncio.timeout(self._timeout):
            await self._resolve_script(keys=[self.channel_key(channel), self.index_key], args=args)


class GapDetector:
    """Holes in each channel's id sequence, from the ids seen on the live path.

    It tracks the highest message id seen per channel; a jump (10 then 14)
    records the ids in between (11-13) in the :class:`GapLog`. The first id
    seen of a channel only sets the mark. Memory: one integer per channel.
    """

    def __init__(self, gaps: GapLog) -> None:
        self._gaps = gaps
        self._highest: dict[int, int] = {}
        self._moved: set[int] = set()  # channels whose mark moved since the last save

    def highest(self, channel: int) -> int | None:
        """The highest message id seen of ``channel``, if any."""
        return self._highest.get(channel)

    def observe(self, channel: int, message_id: int) -> bool:
        """Note that ``message_id`` arrived; ``True`` when it is older than the highest seen (late)."""
        top = self._highest.get(channel)
        if top is None or message_id > top:
            if top is not None and message_id > top + 1:
                self._gaps.record(channel, top + 1, message_id - 1)
            self._highest[channel] = message_id
            self._moved.add(channel)
            return False
        return True

    def seed(self, marks: dict[int, int]) -> None:
        """Start from saved marks (the highest ids seen before a restart, by any process).

        The first post after the restart then reveals the posts that arrived
        while no process was listening: the jump is recorded as a gap and re-read.
        """
        for channel, mark in marks.items():
            if mark > self._highest.get(channel, 0):
                self._highest[channel] = mark

    def moved(self) -> dict[int, int]:
        """The marks that moved since the last call (to save them)."""
        out = {c: self._highest[c] for c in self._moved}
        self._moved.clear()
        return out

    def unsaved(self, marks: dict[int, int]) -> None:
        """Marks a save could not write: saved with the next ones."""
        self._moved.update(marks)
