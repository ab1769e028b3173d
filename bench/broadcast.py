"""Benchmark: a broadcast to 20,000 users against a fake Telegram allowing L messages per second.

One Redis and one MongoDB-wire server (``secantusd-py``) are started, and one
real bot (:class:`~mediabot.testing.BotHarness`: :func:`mediabot.create_app`,
the kernel's gateway, flood control, pacing and Redis-shared send budget)
with the ``broadcast`` plugin, over the testing kit's fake Telegram on the
real clock. The production path, end to end: the admin replies
``/broadcast`` to a message and presses Confirm; the plugin claims users in
Redis, reads the audience from the catalogue by id cursor, copies the
message with ``priority="bulk"`` (one budget booking per send in Redis),
settles each outcome in Redis.

Only the numbers are scaled up, so the run is short: the fake's global send
limit is raised from Telegram's ~30 to L = 1,000 messages/s
(``fake.limits.global_per_second``, the one limit the fake enforces across
chats), and the bot is configured for that account as an operator would for
Telegram: ``[telegram] global_rate`` a little under the limit (``--headroom``,
0.95 by default: a pacer running at exactly the limit earns FloodWaits from
scheduling jitter on a real clock), ``bulk_share = 1`` (nothing else is sent:
a broadcast may take every slot), ``[plugins.broadcast] rate = L``. The
baseline is L itself: what Telegram lets through.

The achieved rate is the fake's successful ``copy_message`` calls divided by
the time from the first to the last of them. FloodWaits are every send the
fake refused with one (steady state: the whole run; there is no ramp-up).
Duplicates are counted from the fake's record of deliveries, per user: every
copy beyond the first to one user. The run also prints how the audience is
accounted for (counters, and what is left in the job's Redis sets), and the
process's CPU time per copy: the bot and the fake share one process, so a
rate far below what that CPU time allows is time spent waiting (for Redis
round trips and pacing sleeps), not computing.

    uv run python bench/broadcast.py            # 20,000 users, L = 1,000/s
    uv run python bench/broadcast.py --quick    # 5,000 users, under a minute
    uv run python bench/broadcast.py --profile  # and where the process's time goes
    uv run python bench/broadcast.py --no-freeze  # let the fake's records slow the collector (see below)

The fake Telegram runs in the bot's process and keeps Telegram's side of the
world: every copy leaves a pyrogram ``Message`` with its ``Chat`` and
``User`` and a call record, some 25 objects per delivery that a real bot
never holds. Left to the garbage collector they make its full collections
longer and longer (75 ms at 1,000 deliveries, 400 ms at 18,000), pauses that
stop the bot too. As ``mediabot run`` freezes the app's objects after the
start (``gc.freeze()``), the benchmark freezes the fake's records as they
grow (every 0.2 s), so the run measures the bot, not the fake's memory;
``--no-freeze`` leaves both out and prints how long the full collections took.

Ends with one line:
``RESULT achieved_rate_ratio=<achieved / L> floodwaits=<n> duplicates=<n>``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import itertools
import os
import platform
import pstats
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mediabot_broadcast import BroadcastConfig, BroadcastPlugin
from pyrogram.errors import FloodWait

from mediabot.core.clock import MonotonicClock
from mediabot.testing import BotHarness
from mediabot.testing.servers import MongoServer, RedisServer

ADMIN = 9
FIRST_USER = 100_000


def config(limit: int, headroom: float, concurrency: int, window: int) -> str:
    return f"""
    [telegram]
    global_rate = {limit * headroom:g}
    bulk_share = 1.0
    send_concurrency = {concurrency + 2}

    [plugins.broadcast]
    rate = {limit:g}
    concurrency = {concurrency}
    window = {window}
    progress_every = 1.0
    """


async def seed(bot: BotHarness, users: int) -> None:
    assert bot.app.users is not None
    seen = datetime.now(UTC)
    docs = [{"_id": u, "status": "active", "first_seen": seen, "last_seen": seen, "role": "user"}
            for u in range(FIRST_USER, FIRST_USER + users)]
    for i in range(0, len(docs), 5000):
        await bot.app.users.collection.insert_many(docs[i:i + 5000], ordered=False)


async def until(condition: Any, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.05)


async def freeze_records(every: float = 0.2) -> None:
    """Keep the fake's growing records out of the collector's walks (see the module's docstring)."""
    while True:
        gc.freeze()
        await asyncio.sleep(every)


async def run(users: int, limit: int, headroom: float, concurrency: int, window: int,
              profile: bool, freeze: bool) -> dict[str, Any]:
    with RedisServer() as redis_srv, MongoServer() as mongo_srv, \
            tempfile.TemporaryDirectory(prefix="bench-broadcast-") as tmp:
        env = {"MEDIABOT_REDIS_URL": redis_srv.url, "MEDIABOT_MONGO_URI": mongo_srv.uri,
               "MEDIABOT__MONGO__DATABASE": "bench"}
        bot = BotHarness.build(plugins=[BroadcastPlugin], config=config(limit, headroom, concurrency, window),
                               admins=[ADMIN], env=env, directory=Path(tmp), clock=MonotonicClock(),  # type: ignore[arg-type]
                               timeout=60.0)
        assert bot.fake.limits is not None
        bot.fake.limits.global_per_second = limit
        await bot.start()
        try:
            await seed(bot, users)
            source = await bot.fake.user_message(ADMIN, "Big news")
            await bot.settle()
            assert bot.app.users is not None and bot.app.redis is not None
            await bot.app.users.flush()  # the admin wrote: a user too
            preview = (await bot.send("/broadcast", user=ADMIN, reply_to=source.id)).last
            plugin = bot.plugin("broadcast")
            profiler = cProfile.Profile() if profile else None
            started, cpu_started = time.monotonic(), time.process_time()
            if profiler is not None:
                profiler.enable()
            freezer = asyncio.create_task(freeze_records()) if freeze else None
            await bot.press(preview, "Confirm", user=ADMIN)

            async def finished() -> bool:
                job = await plugin.store.load()
                return job is not None and job.state == "done" and job.reported

            await until(finished, "the broadcast to finish", timeout=60 + 10 * users / limit)
            if freezer is not None:
                freezer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await freezer
            if profiler is not None:
                profiler.disable()
            took, cpu = time.monotonic() - started, time.process_time() - cpu_started
            job = await plugin.store.load()
            # Who is where, from the deliveries in MongoDB (the broadcast keeps nothing in Redis).
            deliveries = plugin.ctx.storage.collection("deliveries")
            left = {name: {int(d["user"]) async for d in deliveries.find({"job": job.id, "status": name})}
                    for name in ("pending", "retry", "doubt")}
            left["claimed"] = {int(d["user"]) async for d in deliveries.find({"job": job.id,
                                                                              "status": {"$ne": "retry"}})}
            return {"calls": list(bot.fake.calls), "job": job, "took": took, "cpu": cpu, "profiler": profiler,
                    "kernel_floods": bot.app.telegram.send_flood_waits, "left": left}
        finally:
            await bot.stop()
            gc.unfreeze()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 users: under a minute")
    parser.add_argument("--users", type=int, default=None, help="users in the catalogue (default 20,000)")
    parser.add_argument("--limit", type=int, default=1000, help="the fake's global limit L, messages/s")
    parser.add_argument("--headroom", type=float, default=0.95, help="[telegram] global_rate as a share of L")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="[plugins.broadcast] concurrency (default: the plugin's)")
    parser.add_argument("--window", type=int, default=None, help="[plugins.broadcast] window (default: the plugin's)")
    parser.add_argument("--profile", action="store_true", help="print where the time goes (cProfile)")
    parser.add_argument("--no-freeze", action="store_true",
                        help="do not freeze the fake's records: its memory then slows the collector")
    args = parser.parse_args()
    users = args.users or (5_000 if args.quick else 20_000)
    defaults = BroadcastConfig()
    concurrency = args.concurrency or defaults.concurrency
    window = args.window or defaults.window
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus; {users} users, "
          f"L = {args.limit}/s, global_rate = {args.limit * args.headroom:g}/s, concurrency {concurrency}, "
          f"window {window}")
    pauses: list[float] = []
    started = [0.0]

    def full_collections(phase: str, info: dict[str, Any]) -> None:
        if info["generation"] == 2:
            if phase == "start":
                started[0] = time.perf_counter()
            else:
                pauses.append(time.perf_counter() - started[0])

    gc.callbacks.append(full_collections)
    result = asyncio.run(run(users, args.limit, args.headroom, concurrency, window, args.profile,
                             freeze=not args.no_freeze))
    gc.callbacks.remove(full_collections)

    copies = [c for c in result["calls"] if c.method == "copy_message"]
    delivered = [c for c in copies if c.ok and c.params["chat_id"] != ADMIN]
    floods = sum(1 for c in copies if isinstance(c.error, FloodWait))
    per_user = Counter(c.params["chat_id"] for c in delivered)
    duplicates = sum(n - 1 for n in per_user.values() if n > 1)
    missing = users - len(per_user)
    times = sorted(c.at for c in delivered)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    rate = (len(times) - 1) / span
    # The steadiest stretch: the middle 80 % of the sends (start and end of a run are partial seconds).
    lo, hi = len(times) // 10, len(times) * 9 // 10
    middle = (hi - lo) / (times[hi] - times[lo]) if hi > lo else float("nan")
    job = result["job"]
    print(f"job {job.id}: sent {job.sent}, failed {job.failed}, unknown {job.unknown}; confirm to report "
          f"{result['took']:.1f}s")
    print(f"deliveries: {len(delivered)} to {len(per_user)} users ({missing} not reached) in {span:.2f}s: "
          f"{rate:.0f} msg/s overall, {middle:.0f} msg/s over the middle 80 %")
    gaps = sorted((b - a for a, b in itertools.pairwise(times)), reverse=True)
    print(f"longest pauses between two deliveries: {', '.join(f'{g * 1000:.0f}' for g in gaps[:5])} ms; "
          f"full collections: {len(pauses)}, longest {max(pauses, default=0) * 1000:.0f} ms, "
          f"{sum(pauses):.2f} s in all")
    print(f"FloodWaits: {floods} refused by the fake, {result['kernel_floods']} seen by the kernel")
    # One process holds the bot and the fake: its CPU time per copy bounds the rate it can reach.
    print(f"CPU of this process: {result['cpu'] / max(1, len(delivered)) * 1000:.2f} ms per copy "
          f"({result['cpu'] / result['took']:.0%} of one core); load average {os.getloadavg()[0]:.1f}")
    left = result["left"]
    unreached = sorted(set(range(FIRST_USER, FIRST_USER + users)) - set(per_user))
    print(f"accounted: {job.processed} of an audience of {job.spec.audience}; left pending "
          f"{len(left['pending'])}, in retry {len(left['retry'])}, in doubt {len(left['doubt'])}")
    if unreached:
        print(f"not reached: {unreached[:10]}; claimed: {[u in left['claimed'] for u in unreached[:10]]}")
    if result["profiler"] is not None:
        stats = pstats.Stats(result["profiler"], stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
    print(f"RESULT achieved_rate_ratio={rate / args.limit:.3f} floodwaits={floods} duplicates={duplicates}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
