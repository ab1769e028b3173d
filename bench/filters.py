"""Benchmark: matching one group message against 10,000 filters of that group vs one Redis GET.

The match is what the ``filters.match`` handler does for each group message:
cut the text into folded words (``mediabot_filters.words.words``) and look
them up in the group's in-memory index, then in the global one
(``ScopeIndex.match``). The baseline is one plain GET through the same
redis-py asyncio client the bot uses, against a freshly started
redis-server. Both run interleaved in one loop (alternating which goes
first), on messages that match nothing (every keyword length is tried: the
worst case) and messages that match. Goal: a match costs less than one GET
(``ratio_vs_get`` < 1): filters never make a message wait for a round trip.

    uv run python bench/filters.py           # 20 000 messages
    uv run python bench/filters.py --quick   # 4 000, well under a minute

Ends with one line: ``RESULT ratio_vs_get=<median match / median GET> match_p99_us=<p99 match>
get_p50_us=<median GET> filters=10000``.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import statistics
import sys
import time

from mediabot_filters.index import ScopeIndex
from mediabot_filters.model import Filter, Reply
from mediabot_filters.words import key_of, words

from mediabot.core.redis import connect
from mediabot.testing.servers import RedisServer

FILTERS = 10_000
WARMUP = 500
VOCABULARY = [f"{a}{b}" for a in ("ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "qu")
              for b in ("ban", "cor", "dix", "fen", "gul", "hor", "jin", "kel", "mur", "nop", "pax", "rim")]


def percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


def build_index(rng: random.Random) -> tuple[ScopeIndex, ScopeIndex]:
    filters = []
    seen: set[str] = set()
    while len(filters) < FILTERS:
        keyword = " ".join(rng.choice(VOCABULARY) + str(rng.randrange(40)) for _ in range(rng.choice((1, 1, 2, 3))))
        key = key_of(keyword)
        if key in seen:
            continue
        seen.add(key)
        filters.append(Filter(scope=-100, key=key, keyword=keyword, reply=Reply(html="x"), id=f"{len(filters):06x}"))
    glob = [Filter(scope=0, key=key_of(k), keyword=k, reply=Reply(html="g"), id=f"g{i}")
            for i, k in enumerate(("help", "rules", "how to join"))]
    return ScopeIndex(filters), ScopeIndex(glob)


def messages(rng: random.Random, index: ScopeIndex, n: int) -> list[str]:
    keywords = [f.keyword for f in index.all()]
    out = []
    for i in range(n):
        chatter = [rng.choice(("hey", "does", "anyone", "have", "the", "new", "Amélie", "season", "please",
                               "thanks", "where", "is", "it", "S01E02", "1080p", "link"))
                   for _ in range(rng.randrange(6, 20))]
        if i % 2:  # half of them name a keyword somewhere
            chatter.insert(rng.randrange(len(chatter)), rng.choice(keywords).upper())
        out.append(" ".join(chatter) + "?")
    return out


def match(group: ScopeIndex, glob: ScopeIndex, text: str) -> Filter | None:
    found = words(text)
    return group.match(found) or glob.match(found)


async def measure(url: str, iterations: int) -> tuple[list[float], list[float], int]:
    rng = random.Random(29)
    group, glob = build_index(rng)
    texts = messages(rng, group, iterations + WARMUP)
    client = connect(url)
    await client.set("bench:filters:key", "value")
    matches: list[float] = []
    gets: list[float] = []
    hits = 0
    clock = time.perf_counter
    try:
        for i, text in enumerate(texts):
            if i % 2:
                t0 = clock()
                found = match(group, glob, text)
                t1 = clock()
                await client.get("bench:filters:key")
                t2 = clock()
                match_s, get_s = t1 - t0, t2 - t1
            else:
                t0 = clock()
                await client.get("bench:filters:key")
                t1 = clock()
                found = match(group, glob, text)
                t2 = clock()
                get_s, match_s = t1 - t0, t2 - t1
            if i >= WARMUP:
                matches.append(match_s)
                gets.append(get_s)
                hits += found is not None
    finally:
        await client.aclose()
    return matches, gets, hits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 000 messages instead of 20 000")
    args = parser.parse_args()
    iterations = 4_000 if args.quick else 20_000
    print(f"python {sys.version.split()[0]} on {platform.machine()}, {FILTERS:,} filters in one group")
    with RedisServer() as server:
        matches, gets, hits = asyncio.run(measure(server.url, iterations))
    matches.sort()
    gets.sort()
    m50, g50 = statistics.median(matches), statistics.median(gets)
    print(f"match: p50 {m50 * 1e6:.1f} us, p99 {percentile(matches, 99) * 1e6:.1f} us ({hits:,} of "
          f"{len(matches):,} messages matched)")
    print(f"GET:   p50 {g50 * 1e6:.1f} us, p99 {percentile(gets, 99) * 1e6:.1f} us")
    print(f"RESULT ratio_vs_get={m50 / g50:.3f} match_p99_us={percentile(matches, 99) * 1e6:.1f} "
          f"get_p50_us={g50 * 1e6:.1f} filters={FILTERS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
