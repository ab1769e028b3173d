"""Benchmark: one rate-limit check (GCRA script, EVALSHA) vs a bare INCR round trip.

Both run against the same freshly started redis-server, through the same
client, interleaved in one loop (alternating which goes first), so machine
noise hits both alike. The ratio of medians is the figure to watch: the
check should cost little more than any single round trip (goal: <= 1.5).

    uv run python bench/ratelimit.py           # 50 000 iterations
    uv run python bench/ratelimit.py --quick   # 10 000, well under a minute

Ends with one line: ``RESULT ratio_vs_incr=<median check / median incr> p99_ms=<p99 check>``.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import time

from mediabot.core.redis import Rate, RateLimiter, RedisHealth, connect
from mediabot.testing.servers import RedisServer

USERS = 1000  # keys cycled through, so the script sees existing and fresh state alike
WARMUP = 1000


def percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


async def measure(url: str, iterations: int, rate: Rate) -> tuple[list[float], list[float], int]:
    client = connect(url)
    limiter = RateLimiter(client, RedisHealth(client), prefix="bench")
    checks: list[float] = []
    incrs: list[float] = []
    refused = 0
    clock = time.perf_counter
    try:
        for i in range(WARMUP + iterations):
            key = f"user:{i % USERS}"
            incr_key = f"bench:incr:{{{key}}}"
            # Alternate the order so neither side always runs on a warmer cache.
            if i % 2:
                t0 = clock()
                decision = await limiter.check(key, rate)
                t1 = clock()
                await client.incr(incr_key)
                t2 = clock()
                check_s, incr_s = t1 - t0, t2 - t1
            else:
                t0 = clock()
                await client.incr(incr_key)
                t1 = clock()
                decision = await limiter.check(key, rate)
                t2 = clock()
                incr_s, check_s = t1 - t0, t2 - t1
            if decision.degraded:
                raise RuntimeError("Redis degraded during the benchmark: figures are meaningless")
            if i >= WARMUP:
                checks.append(check_s)
                incrs.append(incr_s)
                refused += not decision.allowed
    finally:
        await client.aclose()
    return checks, incrs, refused


def describe(name: str, values: list[float]) -> str:
    values = sorted(values)
    ms = {q: percentile(values, q) * 1000 for q in (50, 90, 99, 99.9)}
    return (
        f"{name:<6} p50={ms[50]:.3f}ms p90={ms[90]:.3f}ms p99={ms[99]:.3f}ms "
        f"p99.9={ms[99.9]:.3f}ms max={values[-1] * 1000:.3f}ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 000 iterations (under a minute)")
    parser.add_argument("--iterations", type=int, help="override the iteration count")
    parser.add_argument(
        "--rate", default="1000/s", help="rate checked (default 1000/s: mostly allowed)"
    )
    args = parser.parse_args()
    iterations = args.iterations or (10_000 if args.quick else 50_000)
    rate = Rate.parse(args.rate)

    with RedisServer() as server:
        started = time.monotonic()
        checks, incrs, refused = asyncio.run(measure(server.url, iterations, rate))
        took = time.monotonic() - started

    print(f"machine: {platform.machine()} {platform.system()} python {platform.python_version()}")
    print(f"{iterations} interleaved iterations in {took:.1f}s, rate {rate}, {USERS} keys, "
          f"{refused} refused")  # fmt: skip
    print(describe("check", checks))
    print(describe("incr", incrs))
    ratio = statistics.median(checks) / statistics.median(incrs)
    p99_ms = percentile(sorted(checks), 99) * 1000
    print(f"RESULT ratio_vs_incr={ratio:.3f} p99_ms={p99_ms:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
