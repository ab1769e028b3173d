"""Benchmark: quota reservations (the guarded pipeline update) vs an unguarded ``$inc`` of the same documents.

One in-memory MongoDB-wire server (``secantusd-py``) is started. Each round,
100 users each ask for one file at once (100 concurrent requests), twice:

* **ledger**: ``QuotaLedger.reserve`` -- one ``find_one_and_update`` whose
  pipeline rolls the day over, works out the limit (plan, grant, override),
  grants what is left and opens a lease; the granted reservations are then
  settled (untimed), as a delivery would, so documents keep their real size.
* **plain**: ``find_one_and_update({"_id": user}, {"$inc": {"used": 1}},
  upsert=True, return_document=AFTER)`` on a copy of the collection with the
  same indexes: the same round trip and document, without the guard.

The order alternates every round. The daily limit is half the number of
rounds, so the second half of the run takes the "limit reached" path.
Oversubscription is what the ledger granted above the limit, summed over
users (counted from the grants and checked against the stored counters).
The emulator slows down as a run goes on (plain ``$inc`` rounds too: about
0.1 s per round at first, over 1 s after 200 rounds on a loaded 2-core
machine), which is why the ratio is taken per interleaved pair; the
``server drift`` line shows it.

    uv run python bench/quota.py            # 200 rounds of 100 requests
    uv run python bench/quota.py --quick    # 40 rounds, under a minute

Ends with one line:
``RESULT reservations_per_s=<ledger> guard_cost_ratio=<median of ledger/plain per round> oversubscription=<files>``.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import time
from collections import defaultdict
from typing import Any

from mediabot_quota.ledger import LEDGER_INDEXES, QuotaLedger
from pymongo import AsyncMongoClient, ReturnDocument

from mediabot.core.clock import MonotonicClock
from mediabot.testing.servers import MongoServer

USERS = 100
WARMUP = 3


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


async def run(rounds: int, uri: str) -> tuple[list[float], list[float], int, int]:
    client: AsyncMongoClient = AsyncMongoClient(uri, tz_aware=True, maxPoolSize=USERS)
    db = client["bench"]
    limit = max(1, rounds // 2)
    ledger = QuotaLedger(db["ledger"], clock=MonotonicClock(), plans={"free": limit, "premium": 10 * limit})
    await ledger.ensure_indexes()
    plain = db["plain"]
    for name, (keys, options) in LEDGER_INDEXES.items():
        await plain.create_index(keys, name=name, **options)
    users = list(range(1, USERS + 1))
    granted: dict[int, int] = defaultdict(int)
    ledger_s: list[float] = []
    plain_s: list[float] = []
    clock = time.perf_counter
    try:
        for i in range(WARMUP + rounds):

            async def reserve_all() -> float:
                t0 = clock()
                grants = await asyncio.gather(*(ledger.reserve(user, 1) for user in users))
                elapsed = clock() - t0
                for grant in grants:
                    granted[grant.user_id] += grant.granted
                # Delivered in full: the lease closes, the document keeps its usual size.
                await asyncio.gather(*(ledger.settle(g.reservation_id, g.granted) for g in grants if g.reservation_id))
                return elapsed

            async def inc_all() -> float:
                t0 = clock()
                await asyncio.gather(*(plain.find_one_and_update(
                    {"_id": user}, {"$inc": {"used": 1}}, upsert=True, return_document=ReturnDocument.AFTER)
                    for user in users))  # fmt: skip
                return clock() - t0

            if i % 2:
                r, p = await reserve_all(), await inc_all()
            else:
                p, r = await inc_all(), await reserve_all()
            if i >= WARMUP:
                ledger_s.append(r)
                plain_s.append(p)
        over_granted = sum(max(0, total - limit) for total in granted.values())
        stored: list[dict[str, Any]] = await db["ledger"].find({}, {"used": 1}).to_list()
        over_stored = sum(max(0, int(doc.get("used", 0)) - limit) for doc in stored)
    finally:
        await client.close()
    return ledger_s, plain_s, over_granted, over_stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 rounds: under a minute")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (40 if args.quick else 200)
    print(f"python {platform.python_version()} on {platform.machine()}, {rounds} rounds of {USERS} concurrent "
          f"requests (one per user), daily limit {max(1, rounds // 2)}")
    server = MongoServer().start()
    try:
        ledger_s, plain_s, over_granted, over_stored = asyncio.run(run(rounds, server.uri))
    finally:
        server.stop()
    # Median of per-round ratios: each pair ran back to back, so load from
    # elsewhere on the machine hits both sides of a pair alike.
    ratio = statistics.median(r / p for r, p in zip(ledger_s, plain_s, strict=True))
    half = len(ledger_s) // 2
    for label, values in (("ledger", ledger_s), ("plain", plain_s)):
        print(f"{label:>7}: median {statistics.median(values) * 1000:7.2f} ms  p95 "
              f"{percentile(values, 95) * 1000:7.2f} ms  per round of {USERS}")
    print(f"ledger rounds granting: median {statistics.median(ledger_s[:half]) * 1000:.2f} ms; "
          f"refusing (limit reached): median {statistics.median(ledger_s[half:]) * 1000:.2f} ms")
    quarter = max(1, len(plain_s) // 4)
    print(f"server drift (plain side, first vs last quarter of rounds): {statistics.median(plain_s[:quarter]) * 1000:.1f}"
          f" -> {statistics.median(plain_s[-quarter:]) * 1000:.1f} ms per round")
    print(f"oversubscription: {over_granted} files granted above the limit, {over_stored} stored above it")
    rate = USERS / statistics.median(ledger_s)
    print(f"RESULT reservations_per_s={rate:.0f} guard_cost_ratio={ratio:.3f} "
          f"oversubscription={over_granted + over_stored}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
