"""Benchmark: the embedded tantivy engine vs the public bots' escaped-regex search in MongoDB.

The catalogue is the labelled relevance catalogue (about 2,000 real
release names, ``plugins/search/tests/release_catalogue.py``) drowned in
generated release names, 100,000 in all (``--quick``: 20,000). The same
names go into the engine and into a MongoDB-wire test server.

* ``index_s``: building the engine's index from the files (one commit).
* engine search latency, p50 and p99, over the labelled queries and queries
  drawn from the generated names (real words, some misspelled, some cut).
* the baseline: ``find({"file_name": {"$regex": re.escape(query), "$options":
  "i"}}).limit(10)``, what the public bots run, on a sample of the same
  queries, interleaved with the engine query by query (the order alternates).
  ``miss_speedup_p50`` is regex p50 / engine p50 on that sample. The test
  server is a Python emulator that scans far slower than ``mongod``: the
  ratio is reported, not a goal.
* ``recall_at_5``: the labelled set, on the big index (distractors included).

    uv run python bench/search_engine.py            # 100,000 names
    uv run python bench/search_engine.py --quick    # 20,000 names, under a minute

Ends with ``RESULT engine_p50_ms=… engine_p99_ms=… regex_p50_ms=… miss_speedup_p50=…
recall_at_5=… index_s=…``.
"""

from __future__ import annotations

import argparse
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from mediabot_search.engine import TantivyEngine
from pymongo import MongoClient

from mediabot.catalog.models import to_document
from mediabot.testing.servers import MongoServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "plugins" / "search" / "tests"))
from release_catalogue import build_catalogue, generated_names, make_file
from relevance_set import expected_file, labelled_queries


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def user_queries(names: list[str], count: int, rng: random.Random) -> list[str]:
    """What people type about names in the catalogue: two or three words, some misspelled, the last one cut."""
    out = []
    for name in rng.sample(names, count):
        words = [w for w in re.split(r"[\W_]+", name) if w.isalpha() and len(w) > 2][:3] or ["film"]
        roll = rng.random()
        if roll < 0.3 and len(words[0]) > 4:
            i = rng.randrange(1, len(words[0]) - 1)
            words[0] = words[0][:i] + words[0][i + 1] + words[0][i] + words[0][i + 2:]
        elif roll < 0.6 and len(words[-1]) > 3:
            words[-1] = words[-1][: rng.randint(2, len(words[-1]) - 1)]
        out.append(" ".join(words).lower())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 names, fewer baseline queries")
    parser.add_argument("--names", type=int, default=None, help="catalogue size (default 100,000; --quick 20,000)")
    args = parser.parse_args()
    total = args.names or (20_000 if args.quick else 100_000)
    baseline_queries = 30 if args.quick else 60
    rng = random.Random(5)

    labelled_files, releases = build_catalogue()
    start = datetime(2023, 1, 1, tzinfo=UTC)
    generated = generated_names(total - len(labelled_files))
    files = [make_file(name, 10_000_000 + i, start) for i, name in enumerate(generated)] + labelled_files
    print(f"catalogue: {len(files):,} files on {platform.node()} ({platform.processor() or platform.machine()}), "
          f"python {platform.python_version()}")

    with tempfile.TemporaryDirectory() as directory, TantivyEngine(Path(directory)) as engine:
        began = time.perf_counter()
        engine.index(files)
        engine.commit("bench")
        index_s = time.perf_counter() - began
        print(f"index: {index_s:.2f} s, {engine.stats().segments} segment(s)")

        labelled = labelled_queries()
        found = 0
        for q in labelled:
            if expected_file(q.release, labelled_files, releases).id in engine.search(q.query, limit=5).ids:
                found += 1
        recall = found / len(labelled)

        queries = [q.query for q in labelled] + user_queries(generated, 700, rng)
        for text in queries[:50]:  # warm the term dictionaries and the page cache
            engine.search(text)
        latencies = []
        for text in queries:
            began = time.perf_counter()
            engine.search(text)
            latencies.append((time.perf_counter() - began) * 1000)
        engine_p50, engine_p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
        print(f"engine: {len(queries)} queries, p50 {engine_p50:.2f} ms, p99 {engine_p99:.2f} ms, "
              f"recall@5 {recall:.3f} ({found}/{len(labelled)})")

        server = MongoServer().start()
        try:
            client: MongoClient = MongoClient(server.uri, tz_aware=True)
            collection = client["bench"]["files"]
            began = time.perf_counter()
            for i in range(0, len(files), 5_000):
                collection.insert_many([to_document(f) for f in files[i:i + 5_000]], ordered=False)
            print(f"mongo: {len(files):,} documents inserted in {time.perf_counter() - began:.1f} s")
            sample = rng.sample(queries, baseline_queries)
            regex_ms, engine_ms = [], []
            for i, text in enumerate(sample):
                pair = []
                for side in (("engine", "regex") if i % 2 else ("regex", "engine")):
                    began = time.perf_counter()
                    if side == "regex":
                        list(collection.find({"file_name": {"$regex": re.escape(text), "$options": "i"}},
                                             {"_id": 1}).limit(10))
                    else:
                        engine.search(text)
                    pair.append((side, (time.perf_counter() - began) * 1000))
                for side, ms in pair:
                    (regex_ms if side == "regex" else engine_ms).append(ms)
            client.close()
        finally:
            server.stop()
    regex_p50 = statistics.median(regex_ms)
    sample_engine_p50 = statistics.median(engine_ms)
    speedup = regex_p50 / sample_engine_p50
    print(f"baseline: {len(sample)} interleaved queries, regex p50 {regex_p50:.1f} ms, "
          f"engine p50 on the same queries {sample_engine_p50:.2f} ms")
    print(f"RESULT engine_p50_ms={engine_p50:.3f} engine_p99_ms={engine_p99:.3f} regex_p50_ms={regex_p50:.1f} "
          f"miss_speedup_p50={speedup:.0f} recall_at_5={recall:.3f} index_s={index_s:.2f}")


if __name__ == "__main__":
    main()
