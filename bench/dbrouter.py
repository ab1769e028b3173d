"""Benchmark: a batch insert through the dbrouter (three databases) vs ``insert_many`` into one.

Three in-memory MongoDB-wire servers (``secantusd-py``) are started. Each
round writes one batch of catalogue documents twice, the same data: once
through the router (breakers, capacity estimate, the claim in the file
registry, the background monitor running) and once with a bare
``insert_many(ordered=False)`` into a database on the server the router
writes to, with the same indexes and the same write concern. The order
alternates every round so neither side always runs on a warmer server.

Two layouts of the three databases (``--layout``):

* ``dedicated`` (default, the layout docs/operations.md recommends): ``a``
  is the dedicated home database (``role = "home"``: users, bans, the file
  registry, no files); ``b`` and ``c`` take files, writes go to ``b``.
* ``shared``: ``a``, ``b`` and ``c`` all take files and ``a`` is also the
  home (the default when no database has ``role = "home"``); writes go to
  ``a``, so the registry claim and the file write queue on one server.

A ``CommandListener`` on every client counts the capacity checks the old
bots made on every write (``dbStats``, ``count``, ``collStats`` and the
``aggregate`` behind ``count_documents``) sent from inside a write call
(pymongo calls listeners in the task that sends the command, so a context
variable set around each write tells them apart from the router's
background measurements, which are counted and shown separately).

    uv run python bench/dbrouter.py                   # 300 batches of 100, dedicated home
    uv run python bench/dbrouter.py --quick           # 60 batches, about a minute
    uv run python bench/dbrouter.py --layout shared   # the home database also takes files

Ends with one line:
``RESULT overhead_ratio=<median of routed/direct per round> capacity_checks_per_write=<checks / batches>``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mediabot_dbrouter.alerts import Alerts
from mediabot_dbrouter.build import build_router
from mediabot_dbrouter.config import DatabaseEntry, DbRouterConfig
from pymongo import AsyncMongoClient, WriteConcern
from pymongo.monitoring import CommandListener

from mediabot.catalog.files import FILE_INDEXES
from mediabot.catalog.models import MediaFile, to_document
from mediabot.catalog.tokens import search_tokens
from mediabot.testing.servers import MongoServer

CAPACITY_COMMANDS = {"dbStats", "dbstats", "count", "collStats", "aggregate"}
WARMUP = 5


IN_WRITE: contextvars.ContextVar[bool] = contextvars.ContextVar("in_write", default=False)


class Counter(CommandListener):
    def __init__(self) -> None:
        self.on = False
        self.capacity_checks = 0  # sent by a write call
        self.background = 0  # sent by the router's monitor meanwhile

    def started(self, event: Any) -> None:
        if self.on and event.command_name in CAPACITY_COMMANDS:
            if IN_WRITE.get():
                self.capacity_checks += 1
            else:
                self.background += 1

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass


def batch_of(round_no: int, size: int) -> list[dict[str, Any]]:
    docs = []
    for j in range(size):
        n = round_no * size + j
        name = f"Some.Show.S{n % 9 + 1:02d}E{n % 24 + 1:02d}.{1990 + n % 30}.1080p.WEB-DL.x264-GRP{n}.mkv"
        f = MediaFile(file_unique_id=f"AgAD{n:010d}", file_id=f"BAACAgUAAxkBAAI{n:020d}", kind="video",
                      file_name=name, caption=f"Some Show episode {n}", size=700_000_000 + n,
                      mime_type="video/x-matroska", chat_id=-1001234567890, message_id=n, duration=2700,
                      tokens=search_tokens(name, f"Some Show episode {n}"))
        docs.append(to_document(f))
    return docs


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


LAYOUTS = {"dedicated": ("home", "write", "write"), "shared": ("write", "write", "write")}


async def run(rounds: int, size: int, servers: list[MongoServer],
              layout: str = "dedicated") -> tuple[list[float], list[float], Counter, list[str]]:
    counter = Counter()
    roles = LAYOUTS[layout]
    config = DbRouterConfig(databases=[DatabaseEntry(name=n, uri_env=f"BENCH_{n.upper()}", database="routed",
                                                     role=role)  # type: ignore[arg-type]
                                       for n, role in zip("abc", roles, strict=True)])
    env = {f"BENCH_{n.upper()}": s.uri for n, s in zip("ABC", servers, strict=True)}
    router = build_router(config, env, alerts=Alerts(), client_options={"event_listeners": [counter]})
    # The direct side writes to the server the router writes to.
    target = roles.index("write")
    direct_client: AsyncMongoClient = AsyncMongoClient(servers[target].uri, tz_aware=True,
                                                       event_listeners=[counter])
    # Same durability as the router's writes (durable_writes = true).
    direct = direct_client.get_database("direct", write_concern=WriteConcern(j=True))["files"]
    for name, (keys, options) in FILE_INDEXES.items():
        await direct.create_index(keys, name=name, **options)

    from mediabot import FileRepository

    await FileRepository(router).ensure_indexes()
    await router.monitor_once()
    monitor = asyncio.create_task(router.run_monitor())  # as in a running bot
    routed_s: list[float] = []
    direct_s: list[float] = []
    detours: list[str] = []
    notes: list[str] = []
    clock = time.perf_counter
    try:
        for i in range(WARMUP + rounds):
            if i == WARMUP:
                counter.on = True
            docs = batch_of(i, size)
            routed_docs, direct_docs = [dict(d) for d in docs], [dict(d) for d in docs]

            async def routed() -> float:
                IN_WRITE.set(True)  # this task's context only
                t0 = clock()
                report = await router.insert_unique("files", routed_docs, key="file_unique_id")
                if report.inserted != size:
                    raise SystemExit(f"round {i}: {report}")
                if set(report.databases) != {"abc"[target]}:
                    # The write database did not answer in time (timeout_ms): the batch was retried elsewhere.
                    m = router.member("abc"[target])
                    detours.append(f"round {i}: {report.databases} ({m.last_error if m else '?'})")
                return clock() - t0

            async def plain() -> float:
                IN_WRITE.set(True)
                t0 = clock()
                await direct.insert_many(direct_docs, ordered=False)
                return clock() - t0

            # Each write runs in a task of its own, so IN_WRITE marks its commands only.
            if i % 2:
                r = await asyncio.create_task(routed())
                d = await asyncio.create_task(plain())
            else:
                d = await asyncio.create_task(plain())
                r = await asyncio.create_task(routed())
            if i >= WARMUP:
                routed_s.append(r)
                direct_s.append(d)
        counter.on = False
        w = router.writer
        m = router.member("abc"[target])
        notes.append(f"batches cut in two (head {w.pipeline_chunk}): {w.pipelined} of {WARMUP + rounds}; "
                     f"claim work {w.claim_ms_per_key or 0:.3f} ms/key on the home, fastest ping to the target "
                     f"{(m.rtt_ms if m else None) or 0:.2f} ms")
    finally:
        monitor.cancel()
        await asyncio.gather(monitor, return_exceptions=True)
        await router.close()
        await direct_client.close()
    return routed_s, direct_s, counter, detours + notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 batches: under a minute")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--layout", choices=sorted(LAYOUTS), default="dedicated",
                        help="dedicated: a is a home database without files (default); shared: a is home and "
                             "takes the files too")
    args = parser.parse_args()
    rounds = args.rounds or (60 if args.quick else 300)
    print(f"python {platform.python_version()} on {platform.machine()}, {rounds} rounds of {args.batch} documents, "
          f"layout {args.layout}: " + ("home (registry) on a, files written to b" if args.layout == "dedicated"
                                      else "home (registry) on a, files written to a"))
    with ThreadPoolExecutor(3) as pool:
        servers = list(pool.map(lambda _i: MongoServer().start(), range(3)))
    try:
        routed, direct, counter, lines = asyncio.run(run(rounds, args.batch, servers, args.layout))
    finally:
        for s in servers:
            s.stop()
    # Median of the per-round ratios: each pair ran back to back, so a load
    # spike from elsewhere on the machine hits both sides of a pair alike.
    ratio = statistics.median(r / d for r, d in zip(routed, direct, strict=True))
    print(f"ratio of medians {statistics.median(routed) / statistics.median(direct):.3f}, "
          f"median of paired ratios {ratio:.3f}")
    for label, values in (("router", routed), ("direct", direct)):
        print(f"{label:>7}: median {statistics.median(values) * 1000:7.2f} ms  p95 "
              f"{percentile(values, 95) * 1000:7.2f} ms  per batch of {args.batch}")
    print(f"capacity checks (dbStats/count/collStats/aggregate) sent by the {rounds} writes: "
          f"{counter.capacity_checks}; by the background monitor meanwhile: {counter.background}")
    for line in lines:
        print(line if line.startswith("batches") else f"detour: {line}")
    print(f"RESULT overhead_ratio={ratio:.3f} capacity_checks_per_write={counter.capacity_checks / rounds:.4f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
