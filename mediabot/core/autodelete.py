"""Auto-delete: what ``app.delivery`` delivered leaves the user's chat after ``[delivery] auto_delete`` seconds.

Every plugin's deliveries share it: :meth:`mediabot.Delivery.send` schedules
the file messages it sent (unless the call says ``auto_delete=False``) and
posts the notice ("These files will be deleted in 10 min: save them
elsewhere."). The schedule is durable, in Redis, so it survives restarts and
is shared by every process of a deployment::

    <prefix>:{delivery}:autodelete   sorted set; member "chat_id:message_id", score = due (Unix seconds, app wall clock)

A loop in every process (kernel plugin ``kernel.autodelete``) takes due
entries with one Lua script that also moves them :data:`LEASE` seconds into
the future (the claim): two processes never take one entry at the same time,
and a process that dies between the claim and the delete leaves entries that
come due again after the lease, for any process to finish. After Telegram
answers, the entries are removed. So a message is deleted once, and at least
once while Redis keeps the set.

A message the bot can no longer delete (the chat is gone, the user blocked
the bot, Telegram refuses) is dropped from the schedule; a FloodWait or a
network error puts the entries back for later.

While Redis is away, nothing fails open: a delivery's deletions the set
cannot take are **held in this process's memory** (the user is still told
when the file goes, and it does go). The loop hands them to Redis as soon
as it answers again; one that comes due first is deleted from memory, on
time, by this process. When the process stops with entries still held and
Redis still away, it deletes those messages at once (early rather than
never). Metric ``mediabot_autodelete_held``: entries held right now.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from mediabot.core.errors import ConfigError
from mediabot.core.plugin import hookimpl
from mediabot.core.telegram.exceptions import FloodWaitTooLong, PermanentTelegramError, TransientTelegramError

if TYPE_CHECKING:
    from mediabot.core.app import App
    from mediabot.core.config import DeliverySection

__all__ = ["LEASE", "MAX_AUTO_DELETE", "AutoDelete", "AutoDeleteLoop", "deletion_notice", "human_duration",
           "require_redis"]

log = logging.getLogger("mediabot.autodelete")

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
#: seconds a stopping process spends handing held entries to Redis, or else deleting their messages
STOP_GRACE = 3.0

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


def require_redis(section: DeliverySection, env: Mapping[str, str]) -> None:
    """Refuse ``[delivery] auto_delete`` without Redis: the schedule must survive restarts.

    :raises ConfigError: naming ``MEDIABOT_REDIS_URL`` and both fixes.
    """
    if section.auto_delete > 0 and not env.get("MEDIABOT_REDIS_URL"):
        raise ConfigError("[delivery] auto_delete needs Redis for its schedule, and MEDIABOT_REDIS_URL is not set",
                          file="environment", key="MEDIABOT_REDIS_URL",
                          fix="export MEDIABOT_REDIS_URL=redis://host:6379/0, or set [delivery] auto_delete = 0")


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

    ``app.delivery.auto_delete`` when ``[delivery] auto_delete`` is above 0.

    :param app: the application (``app.redis``, ``app.telegram``, ``app.clock``,
        ``app.metrics``; Redis and Telegram are read when used, since both
        are set after the app is built).
    :param after: seconds between a delivery and the deletion.
    """

    def __init__(self, app: App, *, after: float) -> None:
        self.app = app
        self.after = float(after)
        #: the schedule's Redis key
        self.key = f"{app.section('redis').key_prefix}:{{delivery}}:autodelete"
        self._claim: Any = None
        self._poll = min(MAX_POLL, self.after)
        self._deleted = app.metrics.counter(
            "mediabot_autodelete_total",
            "Delivered messages handled by auto-delete, by outcome (deleted, dropped: Telegram refused)",
            ["outcome"])
        # Entries Redis could not take yet: member -> due. Owned by this object, emptied into Redis.
        self._held: dict[str, float] = {}
        self._held_gauge = app.metrics.gauge(
            "mediabot_autodelete_held",
            "Deletions held in this process's memory because Redis could not take them (retried)")

    @property
    def _redis(self) -> Any:
        redis = self.app.redis
        if redis is None:  # only an app opened without Redis (a tool): held, as for an outage
            raise RedisError("this app has no Redis")
        return redis

    def _wall(self) -> float:
        return self.app.clock.wall().timestamp()

    async def schedule(self, messages: Iterable[tuple[int, int]]) -> None:
        """Delete these ``(chat_id, message_id)`` messages ``after`` seconds from now.

        Never fails for Redis: while it is away the entries are held in
        memory and handed over later (see the module docstring).
        """
        due = self._wall() + self.after
        mapping = {_member(c, m): due for c, m in messages}
        if not mapping:
            return
        try:
            await self._redis.zadd(self.key, mapping)
        except (RedisError, OSError) as exc:
            log.warning("auto-delete: Redis unavailable (%s: %s); %d deletions held in memory until it answers",
                        type(exc).__name__, exc, len(mapping))
            self._hold(mapping)

    async def adopt(self, key: str) -> int:
        """Move the entries of another schedule ``key`` (an older one) into this one; how many moved.

        An entry already here keeps the earlier of its two due times. The
        search plugin calls it at startup for the schedule it kept before
        auto-delete moved into delivery (``<prefix>:{search}:autodelete``).
        """
        redis = self._redis
        entries = await redis.zrange(key, 0, -1, withscores=True)
        if not entries:
            return 0
        mapping = {(m.decode() if isinstance(m, bytes) else m): float(score) for m, score in entries}
        await redis.zadd(self.key, mapping, lt=True)  # LT still adds the new members
        await redis.zrem(key, *mapping)
        log.info("auto-delete: %d deletions moved from %s into %s", len(mapping), key, self.key)
        return len(mapping)

    @property
    def held(self) -> int:
        """Deletions held in memory, waiting for Redis."""
        return len(self._held)

    def _hold(self, mapping: dict[str, float]) -> None:
        for member, due in mapping.items():
            self._held[member] = min(due, self._held.get(member, due))
        self._held_gauge.set(len(self._held))

    async def pending(self) -> int:
        """Messages waiting to be deleted (claimed and held ones included)."""
        return int(await self._redis.zcard(self.key)) + len(self._held)
    async def run(self) -> None:
        """The loop (run by ``kernel.autodelete``): delete what is due, sleep until the next entry is."""
        clock = self.app.clock
        try:
            while True:
                try:
                    await self._hand_over()
                    taken = await self.run_once()
                    wait = 0.0 if taken >= BATCH else await self._until_next()
                except (RedisError, OSError) as exc:
                    log.warning("auto-delete: Redis unavailable (%s: %s); retrying", type(exc).__name__, exc)
                    wait = self._poll
                if self._held:
                    wait = min(wait, await self._delete_held_due())
                await clock.sleep(wait)  # the clock stops a loop whose cancel a driver swallowed
        except asyncio.CancelledError:
            if self._held:
                await self._persist_or_delete()
            raise

    async def _hand_over(self) -> None:
        """Move held entries to Redis (raises while it is still away)."""
        if not self._held:
            return
        batch = dict(self._held)
        await self._redis.zadd(self.key, batch)
        for member, due in batch.items():
            if self._held.get(member) == due:
                del self._held[member]
        self._held_gauge.set(len(self._held))
        log.info("auto-delete: Redis is back; %d held deletions are in its schedule again", len(batch))

    async def _delete_held_due(self) -> float:
        """Delete the held entries that are due, from memory; seconds until the next one is."""
        now = self._wall()
        due = [member for member, at in self._held.items() if at <= now]
        for member in due:
            self._held.pop(member, None)
        if due:
            later = await self._delete(due)
            self._hold(later)
        self._held_gauge.set(len(self._held))
        if not self._held:
            return self._poll
        return max(0.05, min(self._held.values()) - self._wall())

    async def _persist_or_delete(self) -> None:
        """At shutdown: give held entries to Redis, or, if it is still away, delete their messages now."""
        try:
            async with asyncio.timeout(STOP_GRACE):
                try:
                    await self._hand_over()
                    return
                except (RedisError, OSError):
                    pass
                members = list(self._held)
                log.warning("auto-delete: stopping with Redis unavailable: deleting %d held messages now, "
                            "before their time, rather than never", len(members))
                self._held.clear()
                await self._delete(members)
        except TimeoutError:
            log.error("auto-delete: stopping: %d held deletions could not be saved or done in %.0f s",
                      len(self._held), STOP_GRACE)
        self._held_gauge.set(len(self._held))

    async def _until_next(self) -> float:
        first = await self._redis.zrange(self.key, 0, 0, withscores=True)
        if not first:
            return self._poll
        return max(0.05, min(float(first[0][1]) - self._wall(), self._poll))

    async def run_once(self) -> int:
        """Claim the due entries and delete their messages, batched per chat; return how many were taken."""
        now = self._wall()
        if self._claim is None:
            self._claim = self._redis.register_script(_CLAIM_LUA)
        raw = await self._claim(keys=(self.key,), args=(repr(now), BATCH, repr(now + LEASE)))
        if not raw:
            return 0
        members: list[str] = []
        for member in raw:
            if _parse(member) is None:
                await self._redis.zrem(self.key, member)  # not ours to read: never due again
                continue
            members.append(member.decode() if isinstance(member, bytes) else member)
        later = await self._delete(members)
        if later:
            await self._redis.zadd(self.key, later, xx=True)
        done = [m for m in members if m not in later]
        if done:
            await self._redis.zrem(self.key, *done)
        return len(raw)

    async def _delete(self, members: list[str]) -> dict[str, float]:
        """Delete these entries' messages, batched per chat; the entries to try again, with their new due time.

        A FloodWait or a network error puts a chat's entries back for later;
        a refusal (the chat is gone, too old) drops them.
        """
        by_chat: dict[int, list[int]] = defaultdict(list)
        for member in members:
            parsed = _parse(member)
            if parsed is not None:
                by_chat[parsed[0]].append(parsed[1])
        later: dict[str, float] = {}
        for chat_id, ids in by_chat.items():
            try:
                await self.app.telegram.delete(chat_id, ids)
            except PermanentTelegramError as exc:
                # The chat is gone, the user blocked the bot, or the messages are too old: never deletable.
                log.info("auto-delete: dropped %d messages in chat %d: %s", len(ids), chat_id, exc.reason)
                self._deleted.labels(outcome="dropped").inc(len(ids))
            except FloodWaitTooLong as exc:
                later.update(dict.fromkeys((_member(chat_id, m) for m in ids), self._wall() + max(1.0, exc.seconds)))
            except TransientTelegramError as exc:
                log.warning("auto-delete: could not delete %d messages in chat %d: %s", len(ids), chat_id, exc)
                later.update(dict.fromkeys((_member(chat_id, m) for m in ids), self._wall() + RETRY))
            else:
                self._deleted.labels(outcome="deleted").inc(len(ids))
        return later


class AutoDeleteLoop:
    """Kernel plugin ``kernel.autodelete``: runs :meth:`AutoDelete.run` in every process that talks to Telegram.

    Not in an app opened for a tool (:func:`mediabot.open_app`, no gateway):
    its deletions are the running bot's work.
    """

    name = "autodelete"

    def __init__(self, app: App) -> None:
        self.app = app

    @hookimpl
    async def mediabot_startup(self, app: App) -> None:
        auto_delete = app.delivery.auto_delete
        if auto_delete is None or app.redis is None or app.gateway is None:
            return
        app.supervisor.spawn_loop(auto_delete.run, name="autodelete", owner=f"kernel.{self.name}")
