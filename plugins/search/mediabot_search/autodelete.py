"""Auto-delete: files the search plugin delivered leave the user's chat after ``auto_delete`` seconds.

The schedule is durable, in Redis, so it survives restarts and is shared by
every process of a deployment::

    <prefix>:{search}:autodelete   sorted set; member "chat_id:message_id", score = due (Unix seconds, app wall clock)

A loop in every process takes due entries with one Lua script that also
moves them :data:`LEASE` seconds into the future (the claim): two processes
never take one entry at the same time, and a process that dies between the
claim and the delete leaves entries that come due again after the lease, for
any process to finish. After Telegram answers, the entries are removed. So a
message is deleted once, and at least once while Redis keeps the set.

A message the bot can no longer delete (the chat is gone, the user blocked
the bot, Telegram refuses) is dropped from the schedule; a FloodWait or a
network error puts the entries back for later.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from redis.exceptions import RedisError

from mediabot import FloodWaitTooLong, PermanentTelegramError, TransientTelegramError

__all__ = ["LEASE", "MAX_AUTO_DELETE", "AutoDelete", "deletion_notice", "human_duration"]

log = logging.getLogger("mediabot.plugin.search.autodelete")

#: Telegram lets a bot delete its own messages for 48 hours.
MAX_AUTO_DELETE = 48 * 3600
#: seconds a claimed entry stays out of the others' reach before it comes due again
LEASE = 300.0
#: entries taken per claim
BATCH = 500
#: seconds to wait after a network error before trying entries again
RETRY = 30.0
#: the loop looks at the schedule at least this often (other processes add entries too)
MAX_POLL = 30.0

# KEYS[1] the schedule. ARGV[1] now, ARGV[2] how many, ARGV[3] when a claimed entry comes due again.
# Returns the members taken.
_CLAIM_LUA = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], 'XX', ARGV[3], member)
end
return due
"""


def human_duration(seconds: float) -> str:
    """``30 s``, ``10 min``, ``1 h 30 min``, ``48 h``."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{round(s / 60)} min"
    hours, rest = divmod(s, 3600)
    minutes = round(rest / 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def deletion_notice(seconds: float, count: int) -> str:
    """What the user reads under delivered files."""
    what = "This file" if count == 1 else "These files"
    return f"{what} will be deleted in {human_duration(seconds)}: save {'it' if count == 1 else 'them'} elsewhere."


def _member(chat_id: int, message_id: int) -> str:
    return f"{int(chat_id)}:{int(message_id)}"


def _parse(member: bytes | str) -> tuple[int, int] | None:
    text = member.decode() if isinstance(member, bytes) else member
    chat, _, message = text.rpartition(":")
    try:
        return int(chat), int(message)
    except ValueError:
        return None


class AutoDelete:
    """The deletion schedule and the loop that works through it (see the module docstring).

    :param app: the application (``app.telegram``, ``app.clock``, ``app.metrics``).
    :param redis: the app's Redis client.
    :param key: the schedule's Redis key (``ctx.storage.key("autodelete")``).
    :param after: seconds between a delivery and the deletion.
    """

    def __init__(self, app: Any, redis: Any, key: str, *, after: float) -> None:
        self.app = app
        self.after = float(after)
        self._redis = redis
        self._key = key
        self._claim = redis.register_script(_CLAIM_LUA)
        self._poll = min(MAX_POLL, self.after)
        self._deleted = app.metrics.counter(
            "mediabot_search_autodelete_total",
            "Delivered messages handled by auto-delete, by outcome (deleted, dropped: Telegram refused)",
            ["outcome"])

    def _wall(self) -> float:
        return self.app.clock.wall().timestamp()

    async def schedule(self, messages: Iterable[tuple[int, int]]) -> None:
        """Delete these ``(chat_id, message_id)`` messages ``after`` seconds from now."""
        due = self._wall() + self.after
        mapping = {_member(c, m): due for c, m in messages}
        if mapping:
            await self._redis.zadd(self._key, mapping)

    async def pending(self) -> int:
        """Messages waiting to be deleted (claimed ones included)."""
        return int(await self._redis.zcard(self._key))

    async def run(self) -> None:
        """The loop (``ctx.spawn_loop``): delete what is due, sleep until the next entry is."""
        clock = self.app.clock
        while True:
            try:
                taken = await self.run_once()
                wait = 0.0 if taken >= BATCH else await self._until_next()
            except (RedisError, OSError) as exc:
                log.warning("auto-delete: Redis unavailable (%s: %s); retrying", type(exc).__name__, exc)
                wait = self._poll
            await clock.sleep(wait)  # the clock stops a loop whose cancel a driver swallowed

    async def _until_next(self) -> float:
        first = await self._redis.zrange(self._key, 0, 0, withscores=True)
        if not first:
            return self._poll
        return max(0.05, min(float(first[0][1]) - self._wall(), self._poll))

    async def run_once(self) -> int:
        """Claim the due entries and delete their messages, batched per chat; return how many were taken."""
        now = self._wall()
        raw = await self._claim(keys=(self._key,), args=(repr(now), BATCH, repr(now + LEASE)))
        if not raw:
            return 0
        by_chat: dict[int, list[int]] = defaultdict(list)
        for member in raw:
            parsed = _parse(member)
            if parsed is None:
                await self._redis.zrem(self._key, member)  # not ours to read: never due again
                continue
            by_chat[parsed[0]].append(parsed[1])
        for chat_id, ids in by_chat.items():
            members = [_member(chat_id, m) for m in ids]
            try:
                await self.app.telegram.delete(chat_id, ids)
            except PermanentTelegramError as exc:
                # The chat is gone, the user blocked the bot, or the messages are too old: never deletable.
                log.info("auto-delete: dropped %d messages in chat %d: %s", len(ids), chat_id, exc.reason)
                self._deleted.labels(outcome="dropped").inc(len(ids))
            except FloodWaitTooLong as exc:
                await self._later(members, exc.seconds)
                continue
            except TransientTelegramError as exc:
                log.warning("auto-delete: could not delete %d messages in chat %d: %s", len(ids), chat_id, exc)
                await self._later(members, RETRY)
                continue
            else:
                self._deleted.labels(outcome="deleted").inc(len(ids))
            await self._redis.zrem(self._key, *members)
        return len(raw)

    async def _later(self, members: list[str], seconds: float) -> None:
        due = self._wall() + max(1.0, seconds)
        await self._redis.zadd(self._key, dict.fromkeys(members, due), xx=True)
