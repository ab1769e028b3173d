"""The kernel's jobs facility on a real MongoDB-wire server: one owner, fenced writes, takeover, slots."""

from __future__ import annotations

import asyncio
import contextlib

from mediabot import Jobs


@contextlib.asynccontextmanager
async def jobs_on(mongo_uri, mongo_db_name):
    """``Jobs`` on the test database with a wall clock the test sets (``wall[0]``)."""
    from pymongo import AsyncMongoClient

    wall = [1000.0]
    client: AsyncMongoClient = AsyncMongoClient(mongo_uri)
    try:
        yield Jobs(lambda: client[mongo_db_name]["demo.jobs"], lambda: wall[0]), wall
    finally:
        await client.close()


async def test_one_process_holds_a_job_and_a_stale_holder_cannot_write_after_a_takeover(mongo_uri, mongo_db_name):
    async with jobs_on(mongo_uri, mongo_db_name) as (jobs, wall):
        job = await jobs.create("scan", {"chat": 5}, started_by=9, report_to=9, counters=("done",))
        first = await jobs.claim(job.id, "a", lease=30)
        assert first is not None and await jobs.claim(job.id, "b", lease=30) is None  # held
        assert await jobs.write(first, checkpoint={"after": 10}, add={"done": 10})

        wall[0] += 31  # "a" hung past its lease
        second = await jobs.claim(job.id, "b", lease=30)
        assert second is not None and second.token > first.token

        assert not await jobs.write(first, checkpoint={"after": 99}, add={"done": 99})  # refused
        assert await jobs.renew(first, 30) == "fenced"
        saved = await jobs.get(job.id)
        assert saved.checkpoint == {"after": 10} and saved.counters == {"done": 10} and saved.owner == "b"


async def test_a_lease_given_up_on_shutdown_is_taken_at_once(mongo_uri, mongo_db_name):
    async with jobs_on(mongo_uri, mongo_db_name) as (jobs, _wall):
        job = await jobs.create("scan", {}, started_by=9, report_to=9)
        lease = await jobs.claim(job.id, "a", lease=3600)
        await jobs.release(lease)
        taken = await jobs.claim_next("scan", "b", lease=30)
        assert taken is not None and taken[1].id == job.id and taken[0].token == lease.token + 1


async def test_pause_cancel_and_resume_reach_the_holder_at_its_next_renewal(mongo_uri, mongo_db_name):
    async with jobs_on(mongo_uri, mongo_db_name) as (jobs, _wall):
        job = await jobs.create("scan", {}, started_by=9, report_to=9)
        lease = await jobs.claim(job.id, "a", lease=30)
        assert await jobs.transition(job.id, ("running",), "paused") == "running"
        assert await jobs.renew(lease, 30) == "paused"
        assert not await jobs.write(lease, checkpoint={"x": 1}, while_state="running")
        assert await jobs.transition(job.id, ("running",), "done") == "paused"  # not from paused: unchanged
        assert await jobs.transition(job.id, ("paused",), "cancelled", "by an admin") == "paused"
        done = await jobs.get(job.id)
        assert done.state == "cancelled" and done.reason == "by an admin" and done.finished > 0


async def test_a_slot_holds_one_active_job_even_when_two_processes_start_one_at_once(mongo_uri, mongo_db_name):
    async with jobs_on(mongo_uri, mongo_db_name) as (jobs, _wall):
        started = await asyncio.gather(*(jobs.create("send", {"n": i}, started_by=9, report_to=9, slot="send")
                                         for i in range(5)))
        [winner] = [j for j in started if j is not None]
        assert (await jobs.current("send")).id == winner.id
        await jobs.transition(winner.id, ("running",), "done")
        after = await jobs.create("send", {}, started_by=9, report_to=9, slot="send")
        assert after is not None and (await jobs.current("send")).id == after.id


async def test_the_final_report_is_claimed_by_one_process_and_claimed_again_after_it_lapses(mongo_uri, mongo_db_name):
    async with jobs_on(mongo_uri, mongo_db_name) as (jobs, wall):
        job = await jobs.create("scan", {}, started_by=9, report_to=9)
        await jobs.transition(job.id, ("running",), "done")
        assert await jobs.claim_report(job.id, "a", lease=30)
        assert not await jobs.claim_report(job.id, "b", lease=30)
        wall[0] += 31  # "a" died before sending it
        assert await jobs.claim_report(job.id, "b", lease=30)
        await jobs.mark_reported(job.id)
        assert not await jobs.claim_report(job.id, "a", lease=30)
