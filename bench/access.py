"""Benchmark: a delivery guarded by force-subscribe (warm membership cache) vs the same delivery unguarded.

One redis-server and one MongoDB-wire server are started. Two bots run the
same plugins (``access`` and a file shelf) on the fake Telegram, on those
servers: in one, ``[plugins.access]`` lists a channel and guards
``delivery``; in the other it lists none. Every user is a member of the
channel and was checked once beforehand, so the guarded side reads its
answer from Redis. Each round delivers one file to one user through
``app.delivery.send`` on each bot, alternating which goes first, and times
a bare Redis ``GET`` on the same server beside them.

The figure to watch is ``extra_vs_get``: (median guarded - median unguarded)
/ median GET — what the guard costs, in Redis round trips (goal: at most 1).
``redis_commands_per_check`` counts the commands the guard adds (from
``INFO``: the guarded minus the unguarded side, per delivery).

    uv run python bench/access.py            # 3 000 rounds
    uv run python bench/access.py --quick    # 600 rounds, under a minute

Ends with one line:
``RESULT extra_vs_get=<ratio> gate_vs_get=<ratio> redis_commands_per_check=<n> guarded_p50_ms=<ms> unguarded_p50_ms=<ms> get_p50_ms=<ms>``.

``gate_vs_get`` times ``app.gates.check(user, "deliver")`` alone on both bots
(interleaved too): the same cost without the delivery's own noise (a send
through the fake Telegram and a catalogue write take ~10 ms and vary more
than one round trip).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mediabot_access import AccessPlugin
from redis.asyncio import Redis

from mediabot import Command, MediaFile, PluginMeta, hookimpl
from mediabot.core.clock import MonotonicClock
from mediabot.testing import BotHarness
from mediabot.testing.servers import MongoServer, RedisServer

CHANNEL = -1002000000001
FILES = -1001000000001
USERS = 200
WARMUP = 100
# No pacing in either bot: the figure is the guard's cost, not Telegram's send limits.
KERNEL = "[telegram]\nglobal_rate = 100000.0\nshared_budget = false\n[catalog]\nflush_interval = 3600.0\n"


class Shelf:
    meta = PluginMeta(name="shelf", description="Nothing but a plugin to deliver from.")

    @hookimpl
    def mediabot_commands(self) -> list[Command]:
        return []


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


async def bot(directory: Path, redis_url: str, mongo_uri: str, prefix: str, guarded: bool) -> BotHarness:
    table = f"[plugins.access]\nchannels = [{{ chat = {CHANNEL} }}]\n" if guarded else "[plugins.access]\n"
    harness = BotHarness.build(plugins=[AccessPlugin, Shelf], config=KERNEL + table, directory=directory,
                               env={"MEDIABOT_REDIS_URL": redis_url, "MEDIABOT_MONGO_URI": mongo_uri,
                                    "MEDIABOT__REDIS__KEY_PREFIX": prefix, "MEDIABOT__MONGO__DATABASE": prefix},
                               timeout=60.0, clock=MonotonicClock())  # type: ignore[arg-type]
    await harness.start()
    harness.fake.limits = None
    harness.fake.add_chat(CHANNEL, "channel", title="Films")
    for uid in range(1, USERS + 1):
        harness.fake.set_member(CHANNEL, uid)
    return harness


async def commands_processed(redis: Redis) -> int:
    info: dict[str, Any] = await redis.info("stats")
    return int(info["total_commands_processed"])


async def run(rounds: int, redis_url: str, mongo_uri: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-access-") as tmp:
        guarded = await bot(Path(tmp) / "g", redis_url, mongo_uri, "bg", guarded=True)
        plain = await bot(Path(tmp) / "p", redis_url, mongo_uri, "bp", guarded=False)
        redis = Redis.from_url(redis_url)
        try:
            files: dict[str, MediaFile] = {}
            for name, b in (("g", guarded), ("p", plain)):
                post = await b.post(FILES, media="Film.2019.1080p.mkv", caption="Film")
                files[name] = MediaFile.from_message(post)
                assert b.app.files is not None
                await b.app.files.insert_batch([files[name]])
            for uid in range(1, USERS + 1):  # warm the membership cache: one Telegram check per user
                assert await guarded.app.gates.check(uid, "deliver") is None
            timings: dict[str, list[float]] = {"g": [], "p": [], "get": [], "gate": [], "gate_p": []}
            clock = time.perf_counter

            async def deliver(name: str, uid: int) -> float:
                b = guarded if name == "g" else plain
                t0 = clock()
                report = await b.app.delivery.send(uid, [files[name]], notify=False)
                elapsed = clock() - t0
                if len(report.delivered) != 1:
                    raise RuntimeError(f"delivery failed on {name}: {report}")
                return elapsed

            async def get() -> float:
                t0 = clock()
                await redis.get("bench:access:nothing")
                return clock() - t0

            async def gate(name: str, uid: int) -> float:
                b = guarded if name == "gate" else plain
                t0 = clock()
                refused = await b.app.gates.check(uid, "deliver")
                elapsed = clock() - t0
                if refused is not None:
                    raise RuntimeError(f"refused on {name}: {refused.text}")
                return elapsed

            for i in range(WARMUP + rounds):
                uid = 1 + i % USERS
                order = ("g", "p") if i % 2 else ("p", "g")
                measured = {n: await deliver(n, uid) for n in order}
                measured["get"] = await get()
                for n in (("gate", "gate_p") if i % 2 else ("gate_p", "gate")):
                    measured[n] = await gate(n, uid)
                if i >= WARMUP:
                    for n, v in measured.items():
                        timings[n].append(v)
            # Redis commands per delivery, each side alone.
            per: dict[str, float] = {}
            for name in ("g", "p"):
                before = await commands_processed(redis)
                for uid in range(1, 101):
                    await deliver(name, uid)
                per[name] = (await commands_processed(redis) - before) / 100
            telegram_checks = len(guarded.fake.calls_of("get_chat_member"))
        finally:
            await redis.aclose()
            await guarded.stop()
            await plain.stop()
    return {"timings": timings, "per": per, "telegram_checks": telegram_checks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="600 rounds, under a minute")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (600 if args.quick else 3000)
    print(f"python {sys.version.split()[0]} on {platform.machine()} ({platform.system()}); {rounds} rounds")
    with RedisServer() as redis_server, MongoServer() as mongo_server:
        out = asyncio.run(run(rounds, redis_server.url, mongo_server.uri))
    t = out["timings"]
    med = {n: statistics.median(v) for n, v in t.items()}
    for n, label in (("g", "guarded"), ("p", "unguarded"), ("get", "bare GET"), ("gate", "gate alone"),
                     ("gate_p", "no gate")):
        print(f"{label:<10} p50={med[n] * 1000:.3f}ms p90={percentile(t[n], 90) * 1000:.3f}ms "
              f"p99={percentile(t[n], 99) * 1000:.3f}ms")
    extra = med["g"] - med["p"]
    ratio = extra / med["get"]
    added = out["per"]["g"] - out["per"]["p"]
    print(f"guard cost: {extra * 1000:.3f}ms per delivery = {ratio:.2f} bare GETs; "
          f"Redis commands per delivery: {out['per']['g']:.2f} guarded, {out['per']['p']:.2f} unguarded; "
          f"Telegram checks: {out['telegram_checks']} (one per user, before the run)")
    gate_ratio = (med["gate"] - med["gate_p"]) / med["get"]
    print(f"the gate alone: {(med['gate'] - med['gate_p']) * 1000:.3f}ms = {gate_ratio:.2f} bare GETs")
    print(f"RESULT extra_vs_get={ratio:.2f} gate_vs_get={gate_ratio:.2f} redis_commands_per_check={added:.2f} "
          f"guarded_p50_ms={med['g'] * 1000:.3f} unguarded_p50_ms={med['p'] * 1000:.3f} "
          f"get_p50_ms={med['get'] * 1000:.3f}")


if __name__ == "__main__":
    main()
