"""Benchmark: the search plugin end to end, on real Redis and a MongoDB-wire server, two app instances.

The catalogue is the labelled relevance catalogue (about 2,000 release names,
``plugins/search/tests/release_catalogue.py``) drowned in generated release
names, 100,000 in all (``--quick``: 20,000). Two apps of one deployment
(``writer`` and ``reader``: same Redis, same database, each its own data
directory and tantivy index) run the search plugin with its default
settings, in this one process (one event loop). The catalogue is written in
batches through the writer's ``app.files.insert_batch``, as an indexer would;
both indexes follow the catalogue's change stream.

Measured in the same run, each pair of sides interleaved query by query
(the order alternating):

* **miss**: the reader's search service with the result cache off (what
  ``cache_ttl = 0`` runs: catching up on the change stream, the engine, the
  files loaded from the catalogue) vs a bare Redis ``GET`` round trip on the
  same client: ``miss_p50_ms``, ``miss_p99_ms``, ``miss_vs_get_p50`` (how
  many cache lookups one real search costs);
* **baseline**: what the public bots run, ``find({"file_name": {"$regex":
  re.escape(text), "$options": "i"}}).limit(10)`` on the same collection
  through the reader's MongoDB client, the documents read as catalogue files,
  vs the miss on the same sample: ``miss_speedup_p50``. The test MongoDB
  server is a Python emulator that scans far slower than ``mongod``: reported,
  not a goal;
* **hit**: ``plugin.search()`` on a page already in the cache (the version
  lookup, the page, the files from the catalogue) vs a bare ``GET`` of a value
  as long as that cached page: ``hit_vs_get_p99``. The catalogue read alone is
  timed too, to say where the time goes;
* **stampede**: 500 concurrent identical searches nobody made before, 250 on
  each app: how many engine queries they cost (``stampede_engine_queries``,
  the worst of a few rounds);
* **index lag**: the reader searches a title nobody has (its empty page is
  now cached), the writer inserts a file of that title through
  ``app.files.insert_batch``, and the reader searches again until it finds it:
  from the insert's start, p99 (``index_lag_p99_ms``; cached pages included);
* **recall@5**: the labelled queries through ``plugin.search(limit=5)`` on the
  reader (distractors included).

    uv run python bench/search.py            # 100,000 names
    uv run python bench/search.py --quick    # 20,000 names, under a minute

Ends with ``RESULT miss_p50_ms=… miss_p99_ms=… miss_vs_get_p50=… miss_speedup_p50=… hit_vs_get_p99=…
stampede_engine_queries=… index_lag_p99_ms=… recall_at_5=…``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import random
import re
import statistics
import string
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from mediabot_search import SearchPlugin
from mediabot_search.service import SearchService

from mediabot import MediaFile, create_app
from mediabot.catalog.models import from_document
from mediabot.testing.servers import MongoServer, RedisServer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "plugins" / "search" / "tests"))
sys.path.insert(0, str(HERE))
from release_catalogue import build_catalogue, generated_names, make_file  # noqa: E402
from relevance_set import expected_file, labelled_queries  # noqa: E402
from search_engine import user_queries  # noqa: E402

DATABASE = "bench_search"
CONCURRENT = 500
LOAD_BATCH = 2_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(name: str, values: list[float]) -> str:
    return f"{name} p50 {percentile(values, 0.5):.3f} ms, p99 {percentile(values, 0.99):.3f} ms"


async def interleaved(items: list[Any], sides: dict[str, Callable[[Any], Awaitable[Any]]]) -> dict[str, list[float]]:
    """Run every side on every item, the order of the sides rotating per item; milliseconds per side."""
    names = list(sides)
    times: dict[str, list[float]] = {n: [] for n in names}
    clock = time.perf_counter
    for i, item in enumerate(items):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            began = clock()
            await sides[name](item)
            times[name].append((clock() - began) * 1000)
    return times


def app_for(directory: Path, name: str, env: dict[str, str]) -> Any:
    home = directory / name
    home.mkdir()
    path = home / "plugins.toml"
    path.write_text(f'[runtime]\ndata_dir = "data"\n\n[mongo]\ndatabase = "{DATABASE}"\n', encoding="utf-8")
    return create_app(path, env=env, plugins=[SearchPlugin], enable=("search",))


def unique_word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(9))


async def measure(writer: Any, reader: Any, args: argparse.Namespace, queries: list[str], held_out: list[str],
                  labelled_files: list[MediaFile], releases: dict[str, Any], rng: random.Random) -> dict[str, float]:
    search = reader.plugin("search")
    keeper = search.keeper
    redis = reader.redis
    lag = search.config.index_lag
    uncached = SearchService(lambda: reader.files, keeper.engine, None, lambda: None,
                             before_engine=lambda: keeper.fresh(lag))
    await redis.set("bench:get", b"x" * 32)

    async def bare_get(_q: str) -> None:
        await redis.get("bench:get")

    for text in queries[:50]:  # warm: connections, term dictionaries, the emulator's caches
        await uncached.search(text)
        await bare_get(text)

    # -- misses (cache off) vs a bare GET ----------------------------------------------------
    # Also timed alone, to say where a miss's time goes: the engine (in this thread) and the catalogue read.
    page_ids = {q: list(keeper.engine.search(q, limit=10, offset=0).ids) for q in queries}

    async def engine_alone(q: str) -> None:
        keeper.engine.search(q, limit=10, offset=0)

    t = await interleaved(queries, {"miss": lambda q: uncached.search(q), "get": bare_get, "engine": engine_alone,
                                    "catalogue": lambda q: reader.files.by_ids(page_ids[q])})
    miss_p50, miss_p99 = percentile(t["miss"], 0.5), percentile(t["miss"], 0.99)
    get_p50 = percentile(t["get"], 0.5)
    print(f"miss: {len(queries)} queries, {summary('search (cache off)', t['miss'])}; {summary('GET', t['get'])}; "
          f"alone: {summary('engine', t['engine'])}, {summary('files from the catalogue', t['catalogue'])}")

    # -- the public bots' regex vs the miss, on a sample -------------------------------------
    collection = reader.mongo[DATABASE]["files"]

    async def regex(text: str) -> None:
        docs = await collection.find({"file_name": {"$regex": re.escape(text), "$options": "i"}}).limit(10) \
            .to_list(None)
        [from_document(d, MediaFile) for d in docs]

    sample = rng.sample(queries, args.baseline)
    b = await interleaved(sample, {"regex": regex, "miss": lambda q: uncached.search(q)})
    speedup = statistics.median(b["regex"]) / statistics.median(b["miss"])
    print(f"baseline: {len(sample)} queries, regex p50 {statistics.median(b['regex']):.1f} ms, "
          f"search (cache off) p50 on the same queries {statistics.median(b['miss']):.2f} ms")

    # -- cache hits vs a bare GET of a value of the same size --------------------------------
    hits = queries[: args.hits]
    sizes: dict[str, int] = {}
    ids: dict[str, list[str]] = {}
    for i, text in enumerate(hits):
        await search.search(text)  # the page is now cached
        result = keeper.engine.search(text, limit=10, offset=0)
        sizes[text] = len(msgspec.msgpack.encode(result))  # what the cache holds for it
        ids[text] = list(result.ids)
        await redis.set(f"bench:v:{i}", os.urandom(sizes[text]))
    keys = {text: f"bench:v:{i}" for i, text in enumerate(hits)}
    before_hits = reader.metrics.value("mediabot_search_cache_total", {"result": "hit"})
    before_engine = search.engine_queries

    async def same_size_get(text: str) -> None:
        await redis.get(keys[text])

    h = await interleaved(hits, {"hit": lambda q: search.search(q), "get": same_size_get,
                                 "catalogue": lambda q: reader.files.by_ids(ids[q])})
    hit_count = reader.metrics.value("mediabot_search_cache_total", {"result": "hit"}) - before_hits
    assert search.engine_queries == before_engine, "a 'hit' reached the engine"
    assert hit_count == len(hits), f"{hit_count} cache hits for {len(hits)} searches"
    hit_vs_get = percentile(h["hit"], 0.99) / percentile(h["get"], 0.99)
    print(f"hit: {len(hits)} queries (cached pages {min(sizes.values())}-{max(sizes.values())} bytes), "
          f"{summary('search (cache hit)', h['hit'])}; {summary('GET same size', h['get'])}; "
          f"of which {summary('files from the catalogue', h['catalogue'])}")

    # -- stampede: 500 concurrent identical misses, split over the two apps ------------------
    apps = [writer.plugin("search"), search]
    worst = 0
    for text in held_out[: args.stampedes]:
        before = sum(p.engine_queries for p in apps)
        pages = await asyncio.gather(*(apps[i % 2].search(text) for i in range(CONCURRENT)))
        spent = sum(p.engine_queries for p in apps) - before
        assert len({tuple(f.id for f in p.files) for p in pages}) == 1, "one query, different answers"
        worst = max(worst, spent)
        print(f"stampede: {CONCURRENT} concurrent “{text}” over 2 apps -> {spent} engine queries")

    # -- insert in one app, found in the other (cached pages included) -----------------------
    lags: list[float] = []
    start = datetime(2025, 6, 1, tzinfo=UTC)
    for r in range(args.lag_rounds):
        word = unique_word(rng)
        file = make_file(f"{word.title()}.Rising.{rng.randint(1950, 2025)}.1080p.WEB-DL.mkv", 90_000_000 + r, start)
        await search.search(word)  # the reader's page without the file is now cached
        began = time.perf_counter()
        await writer.files.insert_batch([file])
        while not any(f.file_unique_id == file.file_unique_id for f in (await search.search(word)).files):
            if time.perf_counter() - began > 30:
                raise SystemExit(f"index lag: {word} not found by the reader within 30 s")
            await asyncio.sleep(0.002)
        lags.append((time.perf_counter() - began) * 1000)
        await asyncio.sleep(rng.uniform(0, args.lag_gap))  # files arrive at random times
    print(f"index lag: {len(lags)} inserts, {summary('insert to found in the other app', lags)}, "
          f"max {max(lags):.0f} ms")

    # -- recall@5 through the plugin -----------------------------------------------------------
    labelled = labelled_queries()
    found = 0
    for q in labelled:
        want = expected_file(q.release, labelled_files, releases).id
        if want in [f.id for f in (await search.search(q.query, limit=5)).files]:
            found += 1
    recall = found / len(labelled)
    print(f"recall@5: {found}/{len(labelled)}")

    return {"miss_p50_ms": miss_p50, "miss_p99_ms": miss_p99, "miss_vs_get_p50": miss_p50 / get_p50,
            "miss_speedup_p50": speedup, "hit_vs_get_p99": hit_vs_get, "stampede_engine_queries": worst,
            "index_lag_p99_ms": percentile(lags, 0.99), "recall_at_5": recall}


async def run(args: argparse.Namespace) -> dict[str, float]:
    rng = random.Random(5)
    labelled_files, releases = build_catalogue()
    begin = datetime(2023, 1, 1, tzinfo=UTC)
    generated = generated_names(args.names - len(labelled_files))
    files = [make_file(name, 10_000_000 + i, begin) for i, name in enumerate(generated)] + labelled_files
    queries = [q.query for q in labelled_queries()] + user_queries(generated, args.queries, rng)
    held_out = [q for q in user_queries(generated, 50, random.Random(17)) if q not in set(queries)]
    print(f"catalogue: {len(files):,} files on {platform.node()} ({platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cpus), python {platform.python_version()}")

    with RedisServer() as redis_srv, MongoServer() as mongo_srv, \
            tempfile.TemporaryDirectory(prefix="bench-search-") as directory:
        env = {"MEDIABOT_REDIS_URL": redis_srv.url, "MEDIABOT_MONGO_URI": mongo_srv.uri,
               "MEDIABOT_CALLBACK_SECRET": "bench" * 8}
        writer = app_for(Path(directory), "writer", env)
        reader = app_for(Path(directory), "reader", env)
        await asyncio.gather(writer.start(), reader.start())
        try:
            # The catalogue arrives as an indexer writes it: batches through the writer's catalogue; both
            # apps' indexes follow the change stream.
            began = time.perf_counter()
            for i in range(0, len(files), LOAD_BATCH):
                await writer.files.insert_batch(files[i:i + LOAD_BATCH])
            await asyncio.gather(writer.plugin("search").sync(timeout=600),
                                 reader.plugin("search").sync(timeout=600))
            print(f"load: {len(files):,} files inserted through the writer and indexed by both apps in "
                  f"{time.perf_counter() - began:.1f} s")
            return await measure(writer, reader, args, queries, held_out, labelled_files, releases, rng)
        finally:
            await asyncio.gather(writer.stop("bench finished"), reader.stop("bench finished"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 names and fewer rounds: under a minute")
    parser.add_argument("--names", type=int, default=None, help="catalogue size (default 100,000; --quick 20,000)")
    args = parser.parse_args()
    args.names = args.names or (20_000 if args.quick else 100_000)
    args.queries = 300 if args.quick else 1_000
    args.hits = 300 if args.quick else 1_000
    args.baseline = 20 if args.quick else 40
    args.stampedes = 3 if args.quick else 5
    args.lag_rounds = 25 if args.quick else 100
    args.lag_gap = 1.0
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    began = time.perf_counter()
    r = asyncio.run(run(args))
    print(f"took {time.perf_counter() - began:.0f} s")
    print(f"RESULT miss_p50_ms={r['miss_p50_ms']:.2f} miss_p99_ms={r['miss_p99_ms']:.2f} "
          f"miss_vs_get_p50={r['miss_vs_get_p50']:.1f} miss_speedup_p50={r['miss_speedup_p50']:.0f} "
          f"hit_vs_get_p99={r['hit_vs_get_p99']:.1f} stampede_engine_queries={r['stampede_engine_queries']:.0f} "
          f"index_lag_p99_ms={r['index_lag_p99_ms']:.0f} recall_at_5={r['recall_at_5']:.3f}")


if __name__ == "__main__":
    main()
