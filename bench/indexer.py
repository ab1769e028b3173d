"""Benchmark: channel posts through the indexer's live pipeline vs the naive per-message indexer vs ``insert_many``.

One Redis and one MongoDB-wire server (``secantusd-py``) are started, and one
real app (:func:`mediabot.create_app`, no Telegram gateway) with two plugins:
the ``indexer`` (source channel A) and ``naive_indexer`` (channel B), a
handler the way the public bots index: per message a ``find_one`` by
``file_unique_id``, then ``insert_one`` (a ``DuplicateKeyError`` from the
unique index counted as a duplicate). Every post of both sides enters the
same way a Telegram update does: ``app.submit(message)`` -> dispatcher ->
``mediabot_update`` of every plugin, at most ``--window`` updates in flight
(pyrogram's default worker count on this machine, ``min(32, cpus + 4)``).

* **pipeline** -- the real path: ``IngestBuffer`` -> pipelined ``XADD`` ->
  Redis Stream -> ``StreamConsumer`` (``XREADGROUP``, batch size following
  the backlog, metadata extraction) -> ``app.files.insert_batch`` (dedup by
  ``file_unique_id``, the catalogue's outbox intent and change stream) ->
  ``XACK``. A round ends when every accepted post is acknowledged (written).
* **naive** -- the same messages through the same dispatch, into its own
  database with the catalogue's indexes.
* **raw** -- the limit: the round's documents, prepared beforehand (metadata
  extracted, untimed), in bare ``insert_many(ordered=False)`` calls of the
  pipeline's ``max_batch`` documents into a third database with the
  catalogue's indexes. Duplicates are left to the unique index, as the other
  two sides see them.

All three use the app's MongoDB client (same server, same write concern).
The messages are split into rounds; each round runs the three sides on its
own slice, in an order that rotates every round, so no side always runs on a
warmer server or a larger collection. About 5 % of the posts re-post a file
posted 1 to 1,500 messages earlier (inside a batch, across batches and across rounds).

Peak RSS is the process's ``VmHWM`` during the pipeline's rounds (reset
before each through ``/proc/self/clear_refs``); messages are generated on
the fly, never held as a list, so it shows what the pipeline holds: the
buffer (at most ``buffer_capacity`` posts) and one batch (at most
``max_batch`` files), whatever the number of messages.

    uv run python bench/indexer.py                  # 100,000 messages per side, 5 rounds
    uv run python bench/indexer.py --quick          # 20,000 messages per side, 4 rounds (~2 min: the naive side)
    uv run python bench/indexer.py --naive-share 5  # the naive side runs 1/5 of each round (shorter run)
    uv run python bench/indexer.py --quick --spans  # and where the consumer's time goes
    uv run python bench/indexer.py --history        # a 100,000-message history job, restarted half-way

``--history`` measures the other path instead: one history job over
100,000 message ids (``--quick``: 20,000) through ``HistoryRun`` (batches of
``read_batch`` ids, ``app.files.insert_batch``, a fenced checkpoint after each
batch), stopped when half done and resumed from its checkpoint by a second
app on the same servers. Telegram is a stub that builds the asked messages on
the fly (every 10th a text post, every 17th deleted, 5 % re-posts of an
earlier file): the fake Telegram needs seconds per thousand messages to
build them, which would be what the bench measures. Ends with
``RESULT history_msgs_per_s=… restarts=1 catalogue=OK``.

``--naive-share`` flatters the naive side: on this server its per-message
cost inside the app grows as it runs (about 600 msgs/s over its first few
thousand messages, 100-200 msgs/s after 15,000), so a sample of each round
measures it faster than the full run would; the ratio to it is then an
underestimate.

Ends with one line:
``RESULT msgs_per_s=… ratio_vs_n_plus_1=… ratio_vs_raw_insert_many=… peak_rss_mb=…``
(msgs/s of each side = its messages / the sum of its rounds' times).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import platform
import pstats
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
from mediabot_indexer import IndexerPlugin
from pymongo import AsyncMongoClient
from pymongo.errors import BulkWriteError, DuplicateKeyError

from mediabot import Chat, Media, MediaFile, Message, PluginMeta, create_app, hookimpl
from mediabot.catalog.files import FILE_INDEXES
from mediabot.catalog.models import to_document
from mediabot.testing.servers import MongoServer, RedisServer

SOURCE = -1001000000001  # the indexer's channel
NAIVE = -1001000000002  # the naive indexer's channel
DUP_EVERY = 20  # every 20th post re-posts the file of an earlier post: 5 % duplicates
DUP_BACK = 1500  # ... 1 to 1,500 posts earlier: in the same batch, an earlier batch, or an earlier round


def file_of(g: int) -> int:
    """The file of post ``g`` (0-based): its own, or for every 20th post an earlier post's file."""
    while g % DUP_EVERY == DUP_EVERY - 1:
        g = max(0, g - 1 - (g * 7919) % DUP_BACK)
    return g


def message(channel: int, n: int, *, warmup: bool = False) -> Message:
    """Post ``n`` (1-based) of ``channel``; its message id is ``n + 1`` (id 1 is the warm-up post)."""
    f = file_of(n - 1)
    if warmup:
        n, f = 0, 10**9
    name = f"Some.Show.S{f % 9 + 1:02d}E{f % 24 + 1:02d}.{1990 + f % 30}.1080p.WEB-DL.x264-GRP{f}.mkv"
    media = Media(kind="video", file_id=f"BAACAgUAAxkBAAI{f:020d}", file_unique_id=f"AgAD{f:010d}",
                  file_name=name, mime_type="video/x-matroska", file_size=700_000_000 + f, duration=2700,
                  width=1920, height=1080)
    return Message(id=n + 1, chat=Chat(id=channel, type="channel"), date=1_700_000_000 + n,
                   caption=f"Some Show season {f % 9 + 1} episode {f % 24 + 1} [{f}]", media=media)


def unique_files(total: int) -> int:
    return total - total // DUP_EVERY


def messages(channel: int, first: int, last: int) -> Iterator[Message]:
    for n in range(first, last + 1):
        yield message(channel, n)


class NaiveIndexer:
    """What the public bots do per channel post: look the file up, insert it if absent."""

    meta = PluginMeta(name="naive_indexer", description="bench: per-message find_one + insert_one",
                      needs=("mongo",))

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.collection: Any = None
        self.inserted = 0
        self.duplicates = 0

    @hookimpl
    async def mediabot_update(self, app: Any, update: Any) -> None:
        if type(update) is not Message or update.chat.id != NAIVE or update.media is None:
            return
        doc = to_document(MediaFile.from_message(update))
        if await self.collection.find_one({"file_unique_id": doc["file_unique_id"]}) is not None:
            self.duplicates += 1
            return
        try:
            await self.collection.insert_one(doc)
            self.inserted += 1
        except DuplicateKeyError:
            self.duplicates += 1


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def vm_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_hwm() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class Spans:
    """Wall time the consumer spends in each step (``--spans``): wraps the live objects' methods in place."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.enabled = False

    def wrap(self, owner: Any, attr: str, label: str) -> None:
        inner = getattr(owner, attr)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.enabled:
                return await inner(*args, **kwargs)
            t0 = time.perf_counter()
            try:
                return await inner(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - t0
        setattr(owner, attr, timed)

    def report(self, total: float) -> str:
        parts = [f"{k} {v:.1f} s ({v / total:.0%})" for k, v in sorted(self.seconds.items(), key=lambda kv: -kv[1])]
        return f"consumer time over {total:.1f} s of pipeline rounds: " + ", ".join(parts)


async def feed(app: Any, items: Iterator[Message], window: int, buffer: Any | None = None) -> int:
    """Submit updates as the gateway does, at most ``window`` in flight; returns pauses for buffer room."""
    inflight: set[asyncio.Task[None]] = set()
    pauses = 0
    for msg in items:
        if buffer is not None and buffer.depth >= buffer.capacity - window:
            # Telegram would not wait: the post would be dropped, recorded and re-read by the
            # backfill (which needs Telegram). Here the feeder waits so every post is measured.
            pauses += 1
            while buffer.depth >= buffer.capacity // 2:
                await asyncio.sleep(0.001)
        if len(inflight) >= window:
            _, inflight = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
        task = app.submit(msg)
        if task is not None:
            inflight.add(task)
    if inflight:
        await asyncio.wait(inflight)
    return pauses


async def until(condition: Any, what: str, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.002)


async def run(total: int, rounds: int, window: int, profile: bool, naive_share: int,
              spans_on: bool, max_batch: int | None) -> dict[str, Any]:
    with RedisServer() as redis_srv, MongoServer() as mongo_srv, \
            tempfile.TemporaryDirectory(prefix="bench-indexer-") as directory:
        path = Path(directory) / "plugins.toml"
        extra = f"max_batch = {max_batch}\n" if max_batch else ""
        path.write_text(f"[plugins.indexer]\nchannels = [{SOURCE}]\n{extra}", encoding="utf-8")
        env = {"MEDIABOT_REDIS_URL": redis_srv.url, "MEDIABOT_MONGO_URI": mongo_srv.uri,
               "MEDIABOT_CALLBACK_SECRET": "bench" * 8}
        app = create_app(path, env=env, plugins=[IndexerPlugin, NaiveIndexer],
                         enable=("indexer", "naive_indexer"))
        await app.start()
        try:
            return await measure(app, mongo_srv.uri, total, rounds, window, profile, naive_share, spans_on)
        finally:
            await app.stop("bench finished")


async def measure(app: Any, mongo_uri: str, total: int, rounds: int, window: int, profile: bool,
                  naive_share: int, spans_on: bool) -> dict[str, Any]:
    indexer: IndexerPlugin = app.plugin("indexer")
    naive: NaiveIndexer = app.plugin("naive_indexer")
    live = indexer.live
    assert live is not None
    await app.files.ensure_indexes()
    naive.collection = app.mongo["bench_naive"]["files"]
    raw = app.mongo["bench_raw"]["files"]
    for coll in (naive.collection, raw):
        for name, (keys, options) in FILE_INDEXES.items():
            await coll.create_index(keys, name=name, **options)
    # Warm-up (not timed): connections, code paths, the consumer group.
    await feed(app, iter([message(SOURCE, 1, warmup=True), message(NAIVE, 1, warmup=True)]), window)
    await until(lambda: live.consumer.stats.acked >= 1, "warm-up")
    await app.files.remove_messages(SOURCE, [1])
    await naive.collection.delete_many({})
    naive.inserted = naive.duplicates = 0

    per_round = total // rounds
    naive_per_round = per_round // naive_share
    times: dict[str, list[float]] = {"pipeline": [], "naive": [], "raw": []}
    hwm: list[float] = []
    rss_before: list[float] = []
    pauses = 0
    raw_dups = 0
    # The pipeline's largest batch: one call of a whole round would outlast the app client's
    # socket timeout ([mongo] timeout_ms) on this server, whose cost is per document (500 to
    # 5,000 documents per call measured within noise of each other).
    chunk = live.consumer.sizer.max_size
    profiler = cProfile.Profile() if profile else None
    spans = Spans()
    if spans_on:
        consumer, files = live.consumer, app.files
        spans.wrap(consumer.queue, "read", "XREADGROUP (incl. blocking while idle)")
        spans.wrap(consumer, "_build", "metadata extraction (to_media_file)")
        spans.wrap(files.placement, "insert_unique", "catalogue insert_many")
        spans.wrap(files, "insert_batch", "insert_batch (insert_many + outbox + change stream)")
        spans.wrap(files, "by_ids", "insert_batch's re-read of a batch with duplicates (by_ids)")
        spans.wrap(consumer.queue, "ack", "XACK")
        spans.wrap(consumer, "_resize_and_trim", "backlog + XTRIM")
    clock = time.perf_counter
    sides = ["pipeline", "naive", "raw"]
    for r in range(rounds):
        first, last = r * per_round + 1, (r + 1) * per_round
        order = sides[r % 3:] + sides[:r % 3]
        line = []
        for side in order:
            if side == "raw":
                docs = [to_document(MediaFile.from_message(m)) for m in messages(SOURCE, first, last)]
                t0 = clock()
                for i in range(0, len(docs), chunk):
                    try:
                        await raw.insert_many(docs[i:i + chunk], ordered=False)
                    except BulkWriteError as exc:
                        raw_dups += len(exc.details["writeErrors"])
                elapsed = clock() - t0
                del docs
            elif side == "naive":
                t0 = clock()
                await feed(app, messages(NAIVE, first, first + naive_per_round - 1), window)
                elapsed = clock() - t0
            else:
                target = live.buffer.stats.accepted + per_round
                rss_before.append(vm_rss_mb())
                reset_hwm()
                if profiler:
                    profiler.enable()
                spans.enabled = True
                t0 = clock()
                pauses += await feed(app, messages(SOURCE, first, last), window, live.buffer)
                await until(lambda: live.buffer.stats.accepted >= target
                            and live.consumer.stats.acked >= live.buffer.stats.accepted,
                            "the pipeline to write the round")
                elapsed = clock() - t0
                spans.enabled = False
                if profiler:
                    profiler.disable()
                hwm.append(vm_hwm_mb())
            times[side].append(elapsed)
            line.append(f"{side} {(naive_per_round if side == 'naive' else per_round) / elapsed:,.0f}/s")
        print(f"round {r + 1}/{rounds} ids {first:,}-{last:,}: " + ", ".join(line), flush=True)

    done = rounds * per_round
    expected = unique_files(done)
    # A client of its own: scans of 100,000 documents outlast the app's timeout on a busy server.
    checker: Any = AsyncMongoClient(mongo_uri)
    try:
        files = checker["mediabot"]["files"]
        pipeline_count = await files.count_documents({})
        dup_groups = await (await files.aggregate([
            {"$group": {"_id": "$file_unique_id", "n": {"$sum": 1}}}, {"$match": {"n": {"$gt": 1}}}])).to_list()
        stored = set(await files.distinct("file_unique_id"))
        naive_count = await checker["bench_naive"]["files"].count_documents({})
        raw_count = await checker["bench_raw"]["files"].count_documents({})
    finally:
        await checker.close()
    wanted = {f"AgAD{f:010d}" for f in range(done) if f % DUP_EVERY != DUP_EVERY - 1}
    ok = pipeline_count == expected and not dup_groups and stored == wanted
    stats = live.consumer.stats
    return {
        "done": done, "expected": expected, "pipeline_count": pipeline_count, "dup_groups": len(dup_groups),
        "missing": len(wanted - stored), "extra": len(stored - wanted), "ok": ok,
        "naive_count": naive_count, "raw_count": raw_count,
        "naive_dups": naive.duplicates, "raw_dups": raw_dups, "times": times, "hwm": hwm,
        "rss_before": rss_before, "pauses": pauses, "buffer": live.buffer.stats, "consumer": stats,
        "batch_sizes": list(live.consumer.batch_sizes), "capacity": live.buffer.capacity,
        "max_batch": live.consumer.sizer.max_size, "profiler": profiler,
        "naive_done": rounds * naive_per_round,
        "spans": spans.report(sum(times["pipeline"])) if spans_on else None,
    }


class StubChannel:
    """Just enough of the gateway for history jobs: ``read_channel`` of a generated channel.

    Message ``n`` (1-based): a text post when ``n % 10 == 5``, deleted (absent)
    when ``n % 17 == 0``, else a video whose file is :func:`file_of` ``(n - 1)`` (so
    every 20th post re-posts an earlier file, as in the live rounds).
    """

    me = None

    def __init__(self) -> None:
        self.reads = 0

    @staticmethod
    def exists(n: int) -> bool:
        return n % 17 != 0

    @staticmethod
    def has_file(n: int) -> bool:
        return n % 17 != 0 and n % 10 != 5

    async def read_channel(self, chat_id: int, ids: Any) -> list[Message]:
        self.reads += 1
        await asyncio.sleep(0)  # a Telegram call is an await
        out = []
        for n in ids:
            if not self.exists(n):
                continue
            if n % 10 == 5:
                out.append(Message(id=n, chat=Chat(id=chat_id, type="channel"), date=1_700_000_000 + n,
                                   text=f"news {n}"))
            else:
                out.append(msgspec.structs.replace(message(chat_id, n), id=n))  # the file of post n
        return out

    async def start(self, app: Any) -> None:
        return None

    async def stop_updates(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def edit_text(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def send_text(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def set_commands(self, *args: Any, **kwargs: Any) -> None:
        return None


async def history(total: int) -> dict[str, Any]:
    """One history job over ids 1..``total``, stopped half-way and resumed by a second app."""
    with RedisServer() as redis_srv, MongoServer() as mongo_srv, \
            tempfile.TemporaryDirectory(prefix="bench-indexer-") as directory:
        path = Path(directory) / "plugins.toml"
        path.write_text("[plugins.indexer]\nchannels = []\njob_poll = 0.5\n", encoding="utf-8")
        env = {"MEDIABOT_REDIS_URL": redis_srv.url, "MEDIABOT_MONGO_URI": mongo_srv.uri,
               "MEDIABOT_CALLBACK_SECRET": "bench" * 8}
        stubs = [StubChannel(), StubChannel()]
        apps = [create_app(path, env=env, plugins=[IndexerPlugin], enable=("indexer",), gateway=stub)
                for stub in stubs]
        first = apps[0]
        await first.start()
        phases: list[tuple[str, float, int]] = []
        try:
            await first.files.ensure_indexes()
            plugin: IndexerPlugin = first.plugin("indexer")
            t0 = time.perf_counter()
            job = await plugin.jobs.submit("bench", chat_id=SOURCE, title="bench", from_id=1, to_id=total)
            while (current := await plugin.job(job.id)) is not None and current.next_id <= total // 2:
                await asyncio.sleep(0.05)
            phases.append(("first app", time.perf_counter() - t0, current.next_id - 1))
        finally:
            await first.stop("bench: restart half-way")
        t1 = time.perf_counter()
        second = apps[1]
        await second.start()
        try:
            plugin = second.plugin("indexer")
            while (current := await plugin.job(job.id)) is None or current.state not in ("done", "failed",
                                                                                           "cancelled"):
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - t0
            phases.append(("second app", time.perf_counter() - t1, total - phases[0][2]))
            with_file = [n for n in range(1, total + 1) if StubChannel.has_file(n)]
            wanted: dict[str, int] = {}
            for n in with_file:
                wanted.setdefault(f"AgAD{file_of(n - 1):010d}", n)  # a re-posted file is stored from its first post
        finally:
            await second.stop("bench finished")
        # A client of its own: a scan of 100,000 documents may outlast the app's timeout on a busy server.
        checker: Any = AsyncMongoClient(mongo_srv.uri)
        try:
            stored: dict[str, int] = {}
            copies = 0
            async for doc in checker["mediabot"]["files"].find({}, {"file_unique_id": 1, "message_id": 1}):
                copies += doc["file_unique_id"] in stored
                stored[doc["file_unique_id"]] = doc["message_id"]
        finally:
            await checker.close()
        ok = current.state == "done" and copies == 0 and stored == wanted
        return {"job": current, "elapsed": elapsed, "phases": phases, "wanted": len(wanted),
                "stored": len(stored), "copies": copies, "ok": ok, "reads": [s.reads for s in stubs],
                "missing": len(set(wanted) - set(stored)), "extra": len(set(stored) - set(wanted))}


def main_history(total: int) -> None:
    load = os.getloadavg()
    print(f"history job over {total:,} message ids, restarted half-way, on {platform.node()} "
          f"({os.cpu_count()} cpus), python {platform.python_version()}, "
          f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    res = asyncio.run(history(total))
    job = res["job"]
    for name, seconds, ids in res["phases"]:
        print(f"{name}: {ids:,} ids in {seconds:.1f} s ({ids / seconds:,.0f} ids/s)")
    print(f"job {job.id} {job.state}: seen {job.seen:,}, indexed {job.indexed:,}, duplicates {job.duplicates:,}, "
          f"skipped {job.skipped:,}, errors {job.errors}, claims {job.fence}; Telegram reads {res['reads']}")
    print(f"catalogue: {res['stored']:,} files for {res['wanted']:,} expected; missing {res['missing']}, "
          f"unexpected {res['extra']}, stored twice {res['copies']} -> {'OK' if res['ok'] else 'WRONG'}")
    load = os.getloadavg()
    print(f"load now {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if not res["ok"]:
        raise SystemExit("the catalogue does not match the channel")
    print(f"RESULT history_msgs_per_s={total / res['elapsed']:.0f} restarts=1 catalogue=OK "
          f"elapsed_s={res['elapsed']:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 messages per side in 4 rounds")
    parser.add_argument("--messages", type=int, default=None, help="messages per side (default 100,000)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 5; --quick 4)")
    parser.add_argument("--window", type=int, default=min(32, (os.cpu_count() or 1) + 4),
                        help="updates in flight (default: pyrogram's worker count, min(32, cpus + 4))")
    parser.add_argument("--naive-share", type=int, default=1,
                        help="the naive side runs the first 1/N of each round's messages (default 1: all of them); "
                             "its rate is per message, so this only shortens the run")
    parser.add_argument("--max-batch", type=int, default=None,
                        help="[plugins.indexer] max_batch for this run (default: the plugin's default)")
    parser.add_argument("--spans", action="store_true", help="time the consumer's steps during the pipeline's rounds")
    parser.add_argument("--profile", action="store_true", help="cProfile the pipeline's rounds")
    parser.add_argument("--history", action="store_true",
                        help="a history job over the messages instead, restarted half-way (see above)")
    args = parser.parse_args()
    total = args.messages or (20_000 if args.quick else 100_000)
    if args.history:
        main_history(total)
        return
    rounds = args.rounds or (4 if args.quick else 5)
    load = os.getloadavg()
    print(f"{total:,} messages per side (naive: 1/{args.naive_share} of them) in {rounds} rounds, "
          f"window {args.window}, on {platform.node()} "
          f"({os.cpu_count()} cpus), python {platform.python_version()}, "
          f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    began = time.perf_counter()
    res = asyncio.run(run(total, rounds, args.window, args.profile, args.naive_share, args.spans,
                          args.max_batch))
    done = res["done"]
    rate = {side: (res["naive_done"] if side == "naive" else done) / sum(t) for side, t in res["times"].items()}
    peak = max(res["hwm"])
    b, c = res["buffer"], res["consumer"]
    sizes = res["batch_sizes"]
    print(f"pipeline: {rate['pipeline']:,.0f} msgs/s; naive find_one+insert_one: {rate['naive']:,.0f} msgs/s "
          f"({res['naive_done']:,} messages); "
          f"raw insert_many: {rate['raw']:,.0f} msgs/s")
    print(f"catalogue: {res['pipeline_count']:,} files for {res['expected']:,} unique of {done:,} posts; "
          f"missing {res['missing']}, unexpected {res['extra']}, stored twice {res['dup_groups']} -> "
          f"{'OK' if res['ok'] else 'WRONG'}; naive {res['naive_count']:,}, raw {res['raw_count']:,}")
    print(f"buffer: accepted {b.accepted:,}, dropped {b.dropped}, peak depth {b.peak_depth:,}/{res['capacity']:,}, "
          f"{b.xadd_batches:,} XADD round trips; feeder paused for room {res['pauses']} times")
    print(f"consumer: {c.batches:,} batches (recent sizes {min(sizes) if sizes else 0}-{max(sizes) if sizes else 0}, "
          f"max {res['max_batch']}), in-batch repeats {c.duplicates:,}, already in catalogue {c.already_known:,}, "
          f"retries {c.retries}, redis errors {c.redis_errors}")
    print(f"memory: RSS before the pipeline rounds {', '.join(f'{x:.0f}' for x in res['rss_before'])} MB; "
          f"peak (VmHWM) during them {', '.join(f'{x:.0f}' for x in res['hwm'])} MB")
    load = os.getloadavg()
    print(f"wall {time.perf_counter() - began:.0f} s; load now {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if res["spans"]:
        print(res["spans"])
    if res["profiler"] is not None:
        pstats.Stats(res["profiler"]).sort_stats("cumulative").print_stats(40)
        pstats.Stats(res["profiler"]).sort_stats("tottime").print_stats(30)
    if not res["ok"]:
        raise SystemExit("the catalogue does not hold every unique file exactly once")
    print(f"RESULT msgs_per_s={rate['pipeline']:.0f} ratio_vs_n_plus_1={rate['pipeline'] / rate['naive']:.2f} "
          f"ratio_vs_raw_insert_many={rate['pipeline'] / rate['raw']:.2f} peak_rss_mb={peak:.0f} "
          f"naive_msgs_per_s={rate['naive']:.0f} raw_msgs_per_s={rate['raw']:.0f}")


if __name__ == "__main__":
    main()
