"""The broadcast's state in Redis: one job, its lease, and who was (or may have been) sent it.

Keys (``ctx.storage.key``, all under the ``{broadcast}`` hash tag, so each
script below touches one Redis Cluster slot)::

    job                 hash: the current (or last) job, counters, lease
    claimed:<job id>    set: users the message was (or may have been) sent to
    pending:<job id>    set: claimed users whose send has no outcome yet
    doubt:<job id>      set: users left pending by an owner that died (counted ``unknown``)
    retry:<job id>      set: claimed users given back unsent (FloodWait too long)
    draft:<id>          a previewed, not yet confirmed broadcast (TTL)

**At most once.** A user is added to ``claimed`` *before* the send, in one
script with the check that the caller still owns the job; nobody sends to a
claimed user again. ``pending`` is the in-flight window: when the owner dies,
the users left in it may or may not have received the message; the next
owner moves them to ``doubt``, counts them as ``unknown`` and does not send
to them again.

**Retried calls.** The app's Redis client retries a call once after a
timeout, so a script may run twice for one call (the first reply lost).
The scripts that decide who is sent to (claim, reclaim, settle, release)
and who reports give the same answer the second time: a claim returns the
users it claimed even if an earlier run already moved them to ``pending``
-- otherwise they would be claimed, never sent and never counted. A
retried acquire answers "held" (the lease is taken over one lease later).

**Lease with fencing.** The job hash holds ``fence`` (a counter bumped at
each takeover) and ``lease_until``. Every write of a runner carries its
token; a runner whose lease was taken over gets ``fenced`` and stops, and
its late writes change nothing. Lease times are the app clock's wall time
(``ctx.clock.wall()``), given to the scripts, so tests drive them virtually.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Literal

import msgspec

__all__ = ["ACTIVE", "Claim", "Job", "JobSpec", "JobStore", "Outcome"]

State = Literal["running", "paused", "cancelled", "done", "failed"]
ACTIVE: tuple[State, ...] = ("running", "paused")
Outcome = Literal["sent", "blocked", "deactivated", "failed"]
COUNTERS = ("sent", "blocked", "deactivated", "failed", "unknown")

# Sets of a finished job stay a week, for a late look at who got it.
_KEEP_FINISHED = 7 * 86_400


class JobSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What to send to whom: fixed when the admin confirms.

    :param chat_id: the chat holding the message to copy (the admin's private chat).
    :param message_id: the message (for an album: any of its messages).
    :param album: how many messages the album holds; 0 for a single message.
    :param silent: deliver without a notification sound.
    :param pin: pin the copy in each user's chat.
    :param days: only users seen in the last ``days`` days; 0 for every active user.
    :param admin: who started it (gets progress and the report).
    :param audience: the audience size when it was confirmed (for ETA and progress).
    """

    chat_id: int
    message_id: int
    album: int = 0
    silent: bool = False
    pin: bool = False
    days: int = 0
    admin: int
    audience: int = 0


class Job(msgspec.Struct, frozen=True, kw_only=True):
    """A snapshot of the job hash."""

    id: str
    spec: JobSpec
    state: State
    reason: str = ""
    fence: int = 0
    owner: str = ""
    lease_until: float = 0.0
    beat: int = 0
    cursor: int | None = None
    sent: int = 0
    blocked: int = 0
    deactivated: int = 0
    failed: int = 0
    unknown: int = 0
    created: float = 0.0
    finished: float = 0.0
    progress_message: int = 0
    reported: bool = False
    #: the process sending the final report, and until when its claim lasts (wall clock, s)
    reporter: str = ""
    report_until: float = 0.0

    @property
    def processed(self) -> int:
        return self.sent + self.blocked + self.deactivated + self.failed + self.unknown

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def lease_live(self, now: float) -> bool:
        return self.lease_until > now

    def report_due(self, now: float) -> bool:
        """Finished, its report not sent, and nobody is sending it now."""
        return not self.active and not self.reported and self.report_until <= now


class Claim(msgspec.Struct, frozen=True):
    """The answer to a claim: ``ok`` with the users now owned, or why not (``fenced``, ``paused``...)."""

    status: str
    users: list[int]


# Every runner script starts with this check: the job is the caller's and its token is current.
_OWNED = """
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return {'gone'} end
if redis.call('HGET', KEYS[1], 'fence') ~= ARGV[2] then return {'fenced'} end
"""

# KEYS: job. ARGV: id, now, then field/value pairs.
_CREATE = """
if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then return 1 end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'running' or state == 'paused' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'created', ARGV[2], 'state', 'running', 'fence', '0',
  'lease_until', '0', unpack(ARGV, 3))
return 1
"""

# KEYS: job, pending, doubt. ARGV: id, owner, now, lease seconds, expected beat ('' = any), state.
# -> {token, users in doubt} or {-1 wrong job | -2 not in that state | -3 held by a live owner}
_ACQUIRE = """
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return {-1, 0} end
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[6] then return {-2, 0} end
local now = tonumber(ARGV[3])
if (tonumber(redis.call('HGET', KEYS[1], 'lease_until')) or 0) > now then return {-3, 0} end
if ARGV[5] ~= '' and (redis.call('HGET', KEYS[1], 'beat') or '0') ~= ARGV[5] then return {-3, 0} end
local token = redis.call('HINCRBY', KEYS[1], 'fence', 1)
local doubt = redis.call('SCARD', KEYS[2])
if doubt > 0 then
  redis.call('SUNIONSTORE', KEYS[3], KEYS[3], KEYS[2])
  redis.call('DEL', KEYS[2])
end
redis.call('HINCRBY', KEYS[1], 'unknown', doubt)
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'lease_until', tostring(now + tonumber(ARGV[4])),
  'heartbeat', ARGV[3])
return {token, doubt}
"""

# KEYS: job. ARGV: id, token, now, lease seconds. -> {'ok', state} or {'fenced'|'gone'}
_RENEW = _OWNED + """
redis.call('HSET', KEYS[1], 'lease_until', tostring(tonumber(ARGV[3]) + tonumber(ARGV[4])), 'heartbeat', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'beat', 1)
return {'ok', redis.call('HGET', KEYS[1], 'state')}
"""

# KEYS: job, claimed, pending. ARGV: id, token, new cursor ('' keeps it), users...
# -> {'ok', users claimed by this call...} or {'fenced'|'gone'|<state>}
# Fresh users come after the cursor: one already claimed and still pending was
# claimed by an earlier run of this same call (a retry), and is returned again.
_CLAIM = _OWNED + """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'running' then return {state} end
local out = {'ok'}
for i = 4, #ARGV do
  if redis.call('SADD', KEYS[2], ARGV[i]) == 1 then
    redis.call('SADD', KEYS[3], ARGV[i])
    out[#out + 1] = ARGV[i]
  elseif redis.call('SISMEMBER', KEYS[3], ARGV[i]) == 1 then
    out[#out + 1] = ARGV[i]
  end
end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'cursor', ARGV[3]) end
return out
"""

# KEYS: job, pending. ARGV: id, token, then user/outcome pairs. -> {'ok'} or {'fenced'|'gone'}
# Only a user still pending is counted: an outcome is counted once, whoever reports it.
_SETTLE = _OWNED + """
for i = 3, #ARGV, 2 do
  if redis.call('SREM', KEYS[2], ARGV[i]) == 1 then redis.call('HINCRBY', KEYS[1], ARGV[i + 1], 1) end
end
return {'ok'}
"""

# KEYS: job, claimed, pending, retry. ARGV: id, token, user.
_RELEASE = _OWNED + """
redis.call('SREM', KEYS[2], ARGV[3])
redis.call('SREM', KEYS[3], ARGV[3])
redis.call('SADD', KEYS[4], ARGV[3])
return {'ok'}
"""

# KEYS: job, claimed, pending, retry. ARGV: id, token, users (read from retry just before).
# -> {'ok', users claimed again...} or {'fenced'|'gone'|<state>}
# Moved from retry to claimed and pending in one step (a user given back is never
# out of every set); one already moved and still pending was moved by an earlier
# run of this same call (a retry), and is returned again.
_RECLAIM = _OWNED + """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'running' then return {state} end
local out = {'ok'}
for i = 3, #ARGV do
  if redis.call('SREM', KEYS[4], ARGV[i]) == 1 then
    redis.call('SADD', KEYS[2], ARGV[i])
    redis.call('SADD', KEYS[3], ARGV[i])
    out[#out + 1] = ARGV[i]
  elseif redis.call('SISMEMBER', KEYS[3], ARGV[i]) == 1 then
    out[#out + 1] = ARGV[i]
  end
end
return out
"""

# KEYS: job. ARGV: id, from states (comma separated), to state, reason, now.
# -> the state before (the change happened when it is one of the from states)
_TRANSITION = """
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return '' end
local state = redis.call('HGET', KEYS[1], 'state')
if not string.find(',' .. ARGV[2] .. ',', ',' .. state .. ',', 1, true) then return state end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'reason', ARGV[4])
if ARGV[3] == 'paused' then redis.call('HSET', KEYS[1], 'lease_until', '0') end
if ARGV[3] ~= 'running' and ARGV[3] ~= 'paused' then redis.call('HSET', KEYS[1], 'finished', ARGV[5]) end
return state
"""

# KEYS: job. ARGV: id, token. Give the lease up (shutdown, pause): someone else may take it at once.
_RELEASE_LEASE = _OWNED + """
redis.call('HSET', KEYS[1], 'lease_until', '0')
return {'ok'}
"""

# KEYS: job. ARGV: id, caller, now, lease. -> 1: the caller sends the final report now (and again if it
# asks again while its claim lasts: a retried call gives the same answer); 0: it was sent, or another
# process claimed it less than ``lease`` ago. A claimant that dies before _REPORTED leaves the claim to
# lapse, and the next process sends the report: at least once, never lost.
_CLAIM_REPORT = """
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'reported') == '1' then return 0 end
local who = redis.call('HGET', KEYS[1], 'reporter')
local until_ = tonumber(redis.call('HGET', KEYS[1], 'report_until') or '0')
if who and who ~= ARGV[2] and until_ > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'reporter', ARGV[2],
           'report_until', string.format('%.3f', tonumber(ARGV[3]) + tonumber(ARGV[4])))
return 1
"""

# KEYS: job. ARGV: id. The final report was sent.
_REPORTED = """
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'reported', '1')
return 1
"""


class JobStore:
    """Reads and writes the job through the scripts above.

    :param redis: the app's Redis client.
    :param key: the plugin's key function (``ctx.storage.key``).
    """

    def __init__(self, redis: Any, key: Any) -> None:
        self._redis = redis
        self._key = key
        self.job_key = key("job")
        s = redis.register_script
        self._create, self._acquire, self._renew = s(_CREATE), s(_ACQUIRE), s(_RENEW)
        self._claim, self._settle, self._release = s(_CLAIM), s(_SETTLE), s(_RELEASE)
        self._reclaim, self._transition = s(_RECLAIM), s(_TRANSITION)
        self._release_lease = s(_RELEASE_LEASE)
        self._claim_report, self._reported = s(_CLAIM_REPORT), s(_REPORTED)

    def _sets(self, job_id: str, *names: str) -> list[str]:
        return [self._key(name, job_id) for name in names]

    # -- drafts ----------------------------------------------------------------------
    async def save_draft(self, spec: JobSpec, ttl: float = 3600.0) -> str:
        draft = secrets.token_hex(4)
        await self._redis.set(self._key("draft", draft), msgspec.json.encode(spec), px=int(ttl * 1000))
        return draft

    async def take_draft(self, draft: str) -> JobSpec | None:
        raw = await self._redis.getdel(self._key("draft", draft))
        return msgspec.json.decode(raw, type=JobSpec) if raw else None

    async def drop_draft(self, draft: str) -> None:
        await self._redis.delete(self._key("draft", draft))

    # -- the job ---------------------------------------------------------------------
    async def load(self) -> Job | None:
        raw = await self._redis.hgetall(self.job_key)
        if not raw:
            return None
        f = {k.decode(): v.decode() for k, v in raw.items()}
        return Job(id=f["id"], spec=msgspec.json.decode(f["spec"], type=JobSpec), state=f["state"],  # type: ignore[arg-type]
                   reason=f.get("reason", ""), fence=int(f.get("fence", 0)), owner=f.get("owner", ""),
                   lease_until=float(f.get("lease_until", 0)), beat=int(f.get("beat", 0)),
                   cursor=int(f["cursor"]) if f.get("cursor") else None,
                   created=float(f.get("created", 0)), finished=float(f.get("finished", 0)),
                   progress_message=int(f.get("progress_message", 0)), reported=f.get("reported") == "1",
                   reporter=f.get("reporter", ""), report_until=float(f.get("report_until", 0)),
                   **{c: int(f.get(c, 0)) for c in COUNTERS})

    async def create(self, spec: JobSpec, now: float) -> str | None:
        """Start a job; ``None`` while another one is running or paused."""
        job_id = f"{int(time.time()):x}{secrets.token_hex(2)}"
        created = await self._create(keys=(self.job_key,), args=(
            job_id, now, "spec", msgspec.json.encode(spec), *(x for c in COUNTERS for x in (c, 0))))
        return job_id if created else None

    async def set_progress_message(self, job_id: str, message_id: int) -> None:
        # Written once by whoever started the job, before any runner reads it: no fence needed.
        await self._redis.hset(self.job_key, "progress_message", message_id)

    async def acquire(self, job_id: str, owner: str, now: float, lease: float,
                      beat: int | None = None, state: State = "running") -> tuple[int, int]:
        """Take the job's lease: ``(token, users in doubt)``; token < 0 when it cannot be taken.

        The previous owner is fenced out: its later writes are rejected, and
        the users it left in flight move to ``doubt`` (counted ``unknown``).

        :param beat: take it only if the owner's heartbeat count is still this
            (it missed every heartbeat since it was seen), not merely because
            the clock says the lease ran out.
        :param state: the state the job must be in (``cancelled``: to close
            the books of a job whose owner died before reporting it).
        """
        token, doubt = await self._acquire(keys=(self.job_key, *self._sets(job_id, "pending", "doubt")),
                                           args=(job_id, owner, now, lease, "" if beat is None else beat, state))
        return int(token), int(doubt)

    async def renew(self, job_id: str, token: int, now: float, lease: float) -> str:
        """Extend the lease: the job's state, or ``fenced``/``gone``."""
        reply = await self._renew(keys=(self.job_key,), args=(job_id, token, now, lease))
        return _text(reply[1] if reply[0] in (b"ok", "ok") else reply[0])

    async def claim(self, job_id: str, token: int, users: list[int], cursor: int | None) -> Claim:
        reply = await self._claim(keys=(self.job_key, *self._sets(job_id, "claimed", "pending")),
                                  args=(job_id, token, "" if cursor is None else cursor, *users))
        status = _text(reply[0])
        return Claim(status, [int(u) for u in reply[1:]] if status == "ok" else [])

    async def settle(self, job_id: str, token: int, user: int, outcome: Outcome) -> bool:
        """Record one user's outcome; ``False`` when the caller no longer owns the job."""
        return await self.settle_many(job_id, token, [(user, outcome)])

    async def settle_many(self, job_id: str, token: int, outcomes: list[tuple[int, Outcome]]) -> bool:
        """Record several outcomes in one call (and one round trip); ``False`` when fenced out."""
        reply = await self._settle(keys=(self.job_key, *self._sets(job_id, "pending")),
                                   args=(job_id, token, *(x for pair in outcomes for x in pair)))
        return _text(reply[0]) == "ok"

    async def give_back(self, job_id: str, token: int, user: int) -> bool:
        """The user was not sent to (FloodWait too long): retry them later in this job."""
        reply = await self._release(keys=(self.job_key, *self._sets(job_id, "claimed", "pending", "retry")),
                                    args=(job_id, token, user))
        return _text(reply[0]) == "ok"

    async def take_retries(self, job_id: str, token: int, count: int) -> Claim:
        """Claim again up to ``count`` users given back earlier (as :meth:`claim` does)."""
        retry = self._sets(job_id, "retry")[0]
        users = [int(u) for u in await self._redis.srandmember(retry, count)]
        return await self.reclaim(job_id, token, users) if users else Claim("ok", [])

    async def reclaim(self, job_id: str, token: int, users: list[int]) -> Claim:
        """Claim again these users given back earlier (those still given back, or moved by this same call)."""
        reply = await self._reclaim(keys=(self.job_key, *self._sets(job_id, "claimed", "pending", "retry")),
                                    args=(job_id, token, *users))
        status = _text(reply[0])
        return Claim(status, [int(u) for u in reply[1:]] if status == "ok" else [])

    async def transition(self, job_id: str, from_states: tuple[str, ...], to: State, now: float,
                         reason: str = "") -> str:
        """Move the job to ``to`` if it is in one of ``from_states``; returns the state it was in."""
        return _text(await self._transition(keys=(self.job_key,),
                                            args=(job_id, ",".join(from_states), to, reason, now)))

    async def release_lease(self, job_id: str, token: int) -> None:
        await self._release_lease(keys=(self.job_key,), args=(job_id, token))

    async def claim_report(self, job_id: str, caller: str, now: float, lease: float) -> bool:
        """``True`` when ``caller`` should send the final report now (see ``_CLAIM_REPORT``)."""
        return bool(await self._claim_report(keys=(self.job_key,), args=(job_id, caller, now, lease)))

    async def mark_reported(self, job_id: str) -> None:
        """The final report was sent: nobody sends it again; the job's sets expire in a week."""
        if await self._reported(keys=(self.job_key,), args=(job_id,)):
            for key in self._sets(job_id, "claimed", "pending", "doubt", "retry"):
                await self._redis.expire(key, _KEEP_FINISHED)

    async def claimed_count(self, job_id: str) -> int:
        return int(await self._redis.scard(self._sets(job_id, "claimed")[0]))

    async def was_claimed(self, job_id: str, user: int) -> bool:
        return bool(await self._redis.sismember(self._sets(job_id, "claimed")[0], user))

    async def in_doubt(self, job_id: str) -> set[int]:
        """Users an owner that died left in flight: they may or may not have the message (``unknown``)."""
        return {int(u) for u in await self._redis.smembers(self._sets(job_id, "doubt")[0])}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
