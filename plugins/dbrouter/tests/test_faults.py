"""Fault tests on three real server processes: a killed database, a hung one."""

from __future__ import annotations

import asyncio

import pytest
from mediabot_dbrouter.reconcile import Reconciler

from mediabot import DatabaseUnavailable


def journal_of(router, name: str) -> list[str]:
    """Record the breaker states of database ``name`` as they change."""
    member = router.member(name)
    states: list[str] = []
    notify = member.breaker.on_change

    def record(n, old, new):
        states.append(new)
        notify(n, old, new)

    member.breaker.on_change = record
    return states


class Writer:
    """A steady stream of new files, like an indexer: a batch is acknowledged or retried."""

    def __init__(self, kit, repo) -> None:
        self.kit, self.repo = kit, repo
        self.acked: list[str] = []
        self.databases: list[str] = []
        self.unavailable = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        assert self._task is not None
        await self._task

    async def _run(self) -> None:
        n, retry = 0, None
        while not self._stop.is_set():
            batch = retry or [self.kit.file(f"{n}-{j}") for j in range(20)]
            try:
                report = await self.repo.insert_batch(batch)
            except DatabaseUnavailable:
                self.unavailable += 1
                retry = batch
                await asyncio.sleep(0.05)
                continue
            deferred = set(report.deferred)
            self.acked += [f.file_unique_id for f in batch if f.file_unique_id not in deferred]
            self.databases += list(report.databases)
            retry = [f for f in batch if f.file_unique_id in deferred] or None
            n += 1


async def settle(kit, router) -> None:
    reconciler = Reconciler(router)

    async def done() -> bool:
        await reconciler.run_once()
        return await reconciler.idle()

    await kit.wait_for(done, what="reconciliation")


@pytest.fixture
def three(mongo_factory, tmp_path):
    """Three dedicated servers keeping their data on disk (a restart brings it back)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        return list(pool.map(lambda n: mongo_factory(data_dir=tmp_path / n), "abc"))


@pytest.mark.parametrize(("roles", "first", "second"), [
    ("www", "a", "b"),  # a takes files and holds the claim registry: killing it is the worst case
    ("hww", "b", "c"),  # a dedicated home: the claims of a pipelined batch go on while b dies
], ids=["shared-home", "dedicated-home"])
async def test_killing_the_write_database_mid_stream_loses_nothing_and_writes_nothing_twice(
        three, kit, roles, first, second):
    router = kit.router(three, claim_lease=2.0, roles=roles)
    router.writer.cutter.mode = "always"  # with a dedicated home every batch of 20 is cut: 15 + 5
    states = journal_of(router, first)
    repo = await kit.ready(router)
    kit.monitor(router)
    writer = Writer(kit, repo)
    writer.start()
    await kit.wait_for(lambda: len(writer.acked) >= 200, what=f"writes to {first}")
    three["abc".index(first)].kill()
    await kit.wait_for(lambda: "open" in states, what=f"{first}'s breaker to open")
    moved = len(writer.acked)
    await kit.wait_for(lambda: len(writer.acked) >= moved + 200, what=f"writes to continue on {second}")
    assert router.active.name == second and second in writer.databases
    three["abc".index(first)].restart()
    await kit.wait_for(lambda: router.member(first).breaker.state == "closed", what=f"{first}'s breaker to close")
    assert states[-2:] == ["half_open", "closed"]
    await kit.wait_for(lambda: len(writer.acked) >= moved + 300, what=f"writes with {first} back")
    await writer.stop()
    await settle(kit, router)
    where = kit.locations()
    bad = {k: where.get(k) for k in writer.acked if len(where.get(k, [])) != 1}
    assert not bad, f"{len(bad)} of {len(writer.acked)} acknowledged files missing or doubled: {list(bad.items())[:5]}"
    assert all(len(dbs) == 1 for dbs in where.values())
    assert "a" not in {db for dbs in where.values() for db in dbs} or roles[0] != "h"
    assert len(await repo.get_many(writer.acked)) == len(writer.acked)
    alerts = router.alerts.sent
    assert any(f"database {first} is unavailable: breaker opened" in t for t in alerts)
    assert any(f"writes moved from {first} to {second}" in t for t in alerts)
    assert any(f"database {first} is back" in t for t in alerts)


async def test_a_hung_database_times_out_opens_its_breaker_and_ends_a_pin(three, kit):
    router = kit.router(three)
    states = journal_of(router, "c")
    repo = await kit.ready(router)
    kit.monitor(router)
    assert router.pin("c") is None
    assert (await repo.insert_batch([kit.file(f"x{i}") for i in range(10)])).databases == {"c": 10}
    writer = Writer(kit, repo)
    writer.start()
    await kit.wait_for(lambda: len(writer.acked) >= 100, what="writes to c")
    three[2].pause()  # SIGSTOP: connections stay open, nothing answers
    await kit.wait_for(lambda: "open" in states, what="timeouts to open c's breaker")
    assert router.pinned is None
    assert any("pin on c released: its breaker opened" in t for t in router.alerts.sent)
    moved = len(writer.acked)
    await kit.wait_for(lambda: len(writer.acked) >= moved + 100, what="writes to continue on a")
    assert router.active.name == "a"
    three[2].resume()  # c now applies whatever was queued before it hung
    await kit.wait_for(lambda: router.member("c").breaker.state == "closed", what="c to come back")
    await writer.stop()
    await settle(kit, router)
    where = kit.locations()
    assert all(len(where.get(k, [])) == 1 for k in writer.acked)
    assert all(len(dbs) == 1 for dbs in where.values())


async def test_losing_a_dedicated_home_leaves_reads_whole_and_writes_going(three, kit):
    router = kit.router(three, claim_lease=2.0, roles="hww")
    repo = await kit.ready(router)
    kit.monitor(router)
    await repo.insert_batch([kit.file(i) for i in range(30)])
    three[0].kill()  # the home: users, bans and the claim registry, but no files
    await kit.wait_for(lambda: router.member("a").breaker.state == "open", what="a's breaker to open")
    page = await repo.page(None, 100)
    assert len(page.items) == 30 and not page.partial  # files are read from b and c only
    report = await repo.insert_batch([kit.file(i) for i in range(20, 60)])  # written without the registry
    assert report.inserted == 30 and report.duplicates == 10 and report.databases == {"b": 30}
    three[0].restart()
    await kit.wait_for(lambda: router.member("a").breaker.state == "closed", what="a to come back")
    await settle(kit, router)  # the files written meanwhile are claimed once a is back
    assert kit.copies() == {f"u{i}": 1 for i in range(60)}
    assert set(kit.locations()["u45"]) == {"b"}
    report = await repo.insert_batch([kit.file(i) for i in range(55, 65)])
    assert (report.inserted, report.duplicates) == (5, 5)


async def test_the_monitor_stops_on_a_cancel_a_probe_swallowed() -> None:
    """Python 3.11's wait_for can swallow a cancel that lands as a reply arrives; the loop must still end."""
    from types import SimpleNamespace

    from mediabot_dbrouter.router import DatabaseRouter

    passes = 0

    async def probe_that_swallows_a_cancel() -> None:
        nonlocal passes
        passes += 1
        asyncio.current_task().cancel()
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            pass  # what the driver's wait_for did with it

    stub = SimpleNamespace(monitor_once=probe_that_swallows_a_cancel, settings=SimpleNamespace(probe_interval=0.01))
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(DatabaseRouter.run_monitor(stub), timeout=5)
    assert passes == 1
