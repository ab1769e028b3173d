"""Write routing over three real databases: where writes go, when they move, and what stays unique."""

from __future__ import annotations

import pytest


async def test_writes_go_to_the_first_database_and_reads_see_them(trio, kit):
    router = kit.router(trio)
    repo = await kit.ready(router)
    report = await repo.insert_batch([kit.file(i) for i in range(10)])
    assert (report.inserted, report.duplicates, report.databases) == (10, 0, {"a": 10})
    again = await repo.insert_batch([kit.file(i) for i in range(5, 12)])
    assert (again.inserted, again.duplicates) == (2, 5)
    assert await repo.count() == 12


async def test_a_database_crossing_its_high_water_mark_moves_writes_on_and_alerts_admins(trio, kit, command_log):
    router = kit.router(trio, quota_mb=[0.05, 512, 512], listeners=[command_log])
    repo = await kit.ready(router)
    command_log.names.clear()
    for i in range(40):
        await repo.insert_batch([kit.file(f"{i}-{j}") for j in range(10)])
    assert router.active.name == "b"
    assert any(t.startswith("dbrouter: writes moved from a to b: a is at 9") for t in router.alerts.sent)
    # The estimate moved the writes: no database was asked how full it is.
    assert command_log.count("dbStats", "count", "collStats", "aggregate") == 0
    where = kit.locations()
    assert len(where) == 400 and all(len(dbs) == 1 for dbs in where.values())
    assert 0 < sum(dbs == ["a"] for dbs in where.values()) < 400
    await router.monitor_once()  # the background measurement confirms it and tells admins
    assert any("database a is at" in t and "high water 90%" in t for t in router.alerts.sent)


async def test_writes_do_not_flap_back_to_a_preferred_database_before_the_hold_time(trio, kit):
    clock = [0.0]
    router = kit.router(trio, return_after=300.0)
    router.clock = lambda: clock[0]
    await kit.ready(router)
    a = router.members[0]
    a.capacity.full = True  # a fills up: writes move to b (on the next write or monitor pass)
    assert router.active.name == "a"  # reading where writes go decides nothing
    assert router.evaluate().name == "b" and router.active.name == "b"
    a.capacity.full = False  # a has room again (data deleted, quota raised)...
    clock[0] = 299.0
    assert router.evaluate().name == "b"  # ...but has not been good for long enough
    clock[0] = 301.0
    assert router.evaluate().name == "b"  # the hold time starts when it became good, at 299
    clock[0] = 600.0
    assert router.active.name == "b"  # due to move back, but only a transition moves it
    assert router.evaluate().name == "a" and router.active.name == "a"
    assert [t for t in router.alerts.sent if "writes moved" in t][-1].startswith("dbrouter: writes moved from b to a")


async def test_a_pin_holds_while_the_database_is_healthy_and_auto_restores_routing(trio, kit):
    router = kit.router(trio)
    repo = await kit.ready(router)
    assert router.pin("c") is None
    assert (await repo.insert_batch([kit.file(i) for i in range(5)])).databases == {"c": 5}
    assert router.pin("nope").startswith("unknown database 'nope'")
    assert router.unpin().name == "c"
    assert (await repo.insert_batch([kit.file(i) for i in range(5, 9)])).databases == {"a": 4}


@pytest.mark.parametrize("pipeline", ["never", "always"])
async def test_concurrent_writers_with_overlapping_batches_leave_one_copy_of_each_file(trio, kit, pipeline):
    import asyncio
    import random

    # Three deployments, each writing to a different database, two writers each.
    routers = [kit.router(trio) for _ in range(3)]
    for router in routers:  # writers to b and c claim in a: whole batches, or cut in two
        router.writer.cutter.mode = pipeline
    repos = [await kit.ready(r) for r in routers]
    for router, name in zip(routers, "abc", strict=True):
        assert router.pin(name) is None
    pool = list(range(300))
    inserted = 0

    async def writer(repo, seed: int) -> None:
        nonlocal inserted
        rnd = random.Random(seed)
        for _ in range(25):
            start = rnd.randrange(len(pool) - 40)
            todo = [kit.file(k) for k in pool[start:start + rnd.randint(5, 40)]]
            while todo:  # deferred keys are held by a writer in flight: retry them
                report = await repo.insert_batch(todo)
                inserted += report.inserted
                todo = [f for f in todo if f.file_unique_id in set(report.deferred)]
                if todo:
                    await asyncio.sleep(0.01)

    await asyncio.gather(*(writer(repo, seed) for seed, repo in enumerate(repos * 2)))
    for repo in repos:  # everything written at least once, whoever got there first
        todo = [kit.file(k) for k in pool]
        while todo:
            report = await repo.insert_batch(todo)
            inserted += report.inserted
            todo = [f for f in todo if f.file_unique_id in set(report.deferred)]
    where = kit.locations()
    assert set(where) == {f"u{k}" for k in pool}
    assert all(len(dbs) == 1 for dbs in where.values())
    assert inserted == len(pool)
    spread = {name: sum(dbs == [name] for dbs in where.values()) for name in "abc"}
    assert all(spread.values()), spread  # the files really are spread over the three


async def test_reads_page_through_three_databases_once_in_order(trio, kit):
    from pymongo import MongoClient

    from mediabot.catalog.models import to_document

    router = kit.router(trio)
    repo = await kit.ready(router)
    files = [kit.file(i) for i in range(100)]  # ids in creation order...
    for k, name in enumerate("abc"):  # ...stored round-robin: consecutive ids live in different databases
        router.pin(name)
        await repo.insert_batch(files[k::3])
    # A stray second copy (same document) of a retried write, not cleaned up yet.
    with MongoClient(trio[2].uri) as client:
        client[kit.db_name]["files"].insert_one(to_document(files[0]))
    seen, after, pages = [], None, 0
    while True:
        page = await repo.page(after, 7)
        seen += [f.id for f in page.items]
        pages += 1
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == sorted(f.id for f in files)
    assert pages == 15
    assert [f.id async for f in repo.iter_by_id(page_size=9)] == seen



async def test_a_pin_survives_a_restart_and_ends_for_everyone_when_its_database_fails(trio, kit):
    front, indexer = kit.router(trio), kit.router(trio)
    for router in (front, indexer):
        await kit.ready(router)
    assert front.pin("b") is None and await front.pins.publish(by=1)
    restarted = kit.router(trio)  # a deployment starting now applies the pin before its first write
    repo = await kit.ready(restarted)
    assert (await repo.insert_batch([kit.file(i) for i in range(3)])).databases == {"b": 3}
    await indexer.monitor_once()
    assert indexer.pinned.name == "b"
    indexer.member("b").breaker.trip()  # the indexer finds b failing: the pin ends there at once...
    assert indexer.active.name == "a" and indexer.pinned is None
    assert any("pin on b released: its breaker opened" in t for t in indexer.alerts.sent)
    await indexer.monitor_once()  # ...and, through the home database, for the others
    await front.monitor_once()
    await restarted.monitor_once()
    assert front.pinned is None and restarted.pinned is None
    assert front.pin("c") is None and await front.pins.publish(by=1)  # a new pin is followed again
    await indexer.monitor_once()
    assert indexer.pinned.name == "c"


async def test_the_router_says_which_files_it_stored_so_the_catalogue_reads_nothing_back(trio, kit):
    from pymongo.monitoring import CommandListener

    class Reads(CommandListener):
        def __init__(self) -> None:
            self.on_files: list[str] = []

        def started(self, event) -> None:
            if event.command_name == "find" and event.command["find"] == "files":
                self.on_files.append(event.command_name)

        def succeeded(self, event) -> None:
            pass

        failed = succeeded

    class Changes:  # the catalogue's change notifier, reduced to what it is told
        def __init__(self) -> None:
            self.added: list[list[str]] = []

        async def intent(self, op, ids, files=None):
            return None

        async def committed(self, token, op, files):
            self.added.append(sorted(f.file_unique_id for f in files))

    from mediabot import FileRepository

    reads = Reads()
    router = kit.router(trio, listeners=[reads])
    await kit.ready(router)
    changes = Changes()
    repo = FileRepository(router, changes=changes)
    await repo.insert_batch([kit.file(i) for i in range(3)])
    reads.on_files.clear()
    report = await repo.insert_batch([kit.file(i) for i in range(2, 6)] + [kit.file(5)])  # u2 known, u5 twice
    assert (report.inserted, report.duplicates, sorted(report.stored)) == (3, 2, ["u3", "u4", "u5"])
    assert changes.added == [["u0", "u1", "u2"], ["u3", "u4", "u5"]]
    assert reads.on_files == []  # no read-back of the batch
