"""Several processes of one bot, restarts and crashes: one runs the job, nobody gets it twice."""

from __future__ import annotations

import contextlib
import itertools

import pytest
from mediabot_broadcast.pace import StepRate
from mediabot_broadcast.store import JobSpec, JobStore
from pyrogram.errors import FloodWait

from mediabot.core.clock import MonotonicClock
from mediabot.testing import FakeClock

ADMIN = 9
# Virtual time stands still during Redis and MongoDB commands, except one slower than the
# clock's max_hold (1 s real, a loaded machine). A long lease keeps a live owner's
# heartbeats inside it even then; the crash test still sees it run out (virtually).
LONG_LEASE = """
[plugins.broadcast]
lease = 3600
"""


def received(bots, user: int) -> int:
    return sum(len(b.fake.sent_to(user)) for b in bots)


async def admin_message(fake) -> None:
    # The same message (id 1 in the admin's chat) as the first process saw: Telegram is one.
    await fake.user_message(ADMIN, "News")


async def state(bot) -> str | None:
    job = await bot.plugin("broadcast").store.load()
    return job.state if job else None


async def finished(bot) -> bool:
    job = await bot.plugin("broadcast").store.load()
    return job is not None and job.state == "done" and job.reported


async def test_a_restart_mid_broadcast_resumes_and_everyone_gets_it_exactly_once(
        deploy, audience, start_broadcast, until):
    first = await deploy(config=LONG_LEASE)
    users = await audience(first, 300)
    await start_broadcast(first, "News")
    await until(lambda: received([first], users[0]) and sum(received([first], u) for u in users) >= 100)

    await first.stop()  # graceful: sends under way finish, the other claimed users are given back
    second = await deploy(config=LONG_LEASE, prepare=admin_message)
    await until(lambda: finished(second), what="the resumed broadcast")

    both = [first, second]
    assert [u for u in users if received(both, u) != 1] == []  # nobody twice, nobody left out
    job = await second.plugin("broadcast").store.load()
    assert job.unknown == 0 and job.processed == 301 and job.sent == 301
    resumed = [m.text for m in second.fake.sent_to(ADMIN) if "resumed" in (m.text or "")]
    assert len(resumed) == 1 and "in flight" not in resumed[0], resumed


# Real time: the hour-long FloodWait hold must still be running when the process stops (a
# virtual clock would leap over it while the test waits). The whole test lasts seconds.
@pytest.mark.parametrize("clock", [MonotonicClock()])
async def test_a_restart_during_a_floodwait_hold_gives_the_waiting_users_back_at_once(
        deploy, audience, start_broadcast, until, clock):
    first = await deploy(config=LONG_LEASE)
    users = await audience(first, 60)
    first.fake.inject("copy_message", FloodWait(value=3600), after=10)
    await start_broadcast(first, "News")
    await until(lambda: any(not c.ok for c in first.fake.calls_of("copy_message")), what="the FloodWait")

    # Every worker now waits out the hold; a stop that waited for them would hit its
    # deadline and leave them in doubt, as a crash does.
    await first.stop()
    second = await deploy(config=LONG_LEASE, prepare=admin_message)
    await until(lambda: finished(second), what="the resumed broadcast")

    both = [first, second]
    assert [u for u in users if received(both, u) != 1] == []
    job = await second.plugin("broadcast").store.load()
    assert job.unknown == 0 and job.sent == 61


async def test_a_crashed_owner_is_taken_over_by_a_live_process(deploy, audience, start_broadcast, until):
    owner = await deploy(config=LONG_LEASE)
    other = await deploy(config=LONG_LEASE, prepare=admin_message)
    users = await audience(owner, 300)
    await start_broadcast(owner, "News")
    await until(lambda: sum(received([owner, other], u) for u in users) >= 100)
    # Whichever process took the job is the owner that crashes.
    if not owner.plugin("broadcast").running_here:
        owner, other = other, owner

    # A crash: no shutdown hook hands the lease over; the other process must notice it went stale.
    async def no_handover(*_args) -> None:
        return None

    owner.plugin("broadcast").store.release_lease = no_handover
    await owner.stop()
    await until(lambda: finished(other), what="the takeover")

    both = [owner, other]
    assert all(received(both, u) <= 1 for u in users)  # at most once, through the crash
    job = await other.plugin("broadcast").store.load()
    # Whoever did not get it was in flight at a crash, and is counted "unknown" (some of
    # those did get it); every user of the audience is accounted for.
    missing = sum(1 for u in users if received(both, u) == 0)
    assert missing <= job.unknown and job.fence >= 2 and job.processed == 301
    assert other.fake.calls_of("copy_message")


async def test_two_processes_never_both_send_and_either_controls_the_job(deploy, audience, start_broadcast,
                                                                         until):
    one = await deploy(config=LONG_LEASE)
    two = await deploy(config=LONG_LEASE, prepare=admin_message)
    users = await audience(one, 300)
    await start_broadcast(one, "News")
    await until(lambda: sum(received([one, two], u) for u in users) >= 50)

    await two.send("/broadcast_pause", user=ADMIN)
    await until(lambda: not one.plugin("broadcast").running_here and not two.plugin("broadcast").running_here,
                what="the owner to stop")
    await two.send("/broadcast_resume", user=ADMIN)
    await until(lambda: finished(one) or finished(two), what="the end")

    both = [one, two]
    job = await one.plugin("broadcast").store.load()
    assert all(received(both, u) <= 1 for u in users)
    # A pause loses no one; only a lease lost to a takeover would (counted as unknown).
    assert sum(1 for u in users if received(both, u) == 0) <= job.unknown and job.processed == 301


async def test_a_fenced_out_owner_cannot_write_after_losing_the_lease(mongo_uri, mongo_db_name):
    async with _store(mongo_uri, mongo_db_name) as (store, wall):
        job_id = await store.create(JobSpec(chat_id=ADMIN, message_id=1, admin=ADMIN, audience=3))
        old, _ = await store.acquire(job_id, "a", lease=30.0)
        assert (await store.claim(job_id, old, [1, 2], cursor=2)).users == [1, 2]
        wall[0] = 10.0
        assert (await store.acquire(job_id, "b", lease=30.0))[0] < 0  # still held

        wall[0] = 31.0
        new, doubt = await store.acquire(job_id, "b", lease=30.0)  # the lease ran out

        assert new > old and doubt == 2  # users 1 and 2 may have received it: never again
        assert not await store.settle(job_id, old, 1, "sent")
        assert (await store.claim(job_id, old, [3], cursor=3)).status == "fenced"
        assert (await store.claim(job_id, new, [1, 2, 3], cursor=3)).users == [3]
        job = await store.load()
        assert job.sent == 0 and job.unknown == 2


@contextlib.asynccontextmanager
async def _store(mongo_uri, mongo_db_name):
    """A broadcast store on the test database, with a wall clock the test sets (``wall[0]``)."""
    from pymongo import AsyncMongoClient

    from mediabot import Jobs

    wall = [0.0]
    client: AsyncMongoClient = AsyncMongoClient(mongo_uri)
    db = client[mongo_db_name]
    try:
        yield JobStore(Jobs(lambda: db["broadcast.jobs"], lambda: wall[0]),
                       lambda name: db[f"broadcast.{name}"], lambda: wall[0]), wall
    finally:
        await client.close()


async def test_the_rate_halves_after_a_floodwait_and_climbs_back_slowly():
    clock = FakeClock()
    rate = StepRate(clock, top=20.0, step_down=0.5, recover_every=30.0)

    rate.on_flood()
    assert rate.rate == 10.0
    await clock.sleep(29)
    assert rate.rate == 10.0
    await clock.sleep(1)
    assert rate.rate == 12.0
    await clock.sleep(30 * 10)
    assert rate.rate == 20.0


async def test_sends_are_spaced_at_the_current_rate():
    clock = FakeClock()
    rate = StepRate(clock, top=20.0)
    rate.on_flood()
    times = []
    for _ in range(5):
        await rate.wait()
        times.append(clock.now())

    assert [round(b - a, 6) for a, b in itertools.pairwise(times)] == [0.1] * 4



async def test_a_call_run_twice_gives_the_same_answer_so_no_user_is_lost(mongo_uri, mongo_db_name):
    # A call whose reply was lost is made again: a claim that answered "nobody" the second
    # time would leave its users claimed, never sent and never counted.
    async with _store(mongo_uri, mongo_db_name) as (store, wall):
        job_id = await store.create(JobSpec(chat_id=ADMIN, message_id=1, admin=ADMIN, audience=4))
        token, _ = await store.acquire(job_id, "a", lease=30.0)

        first = await store.claim(job_id, token, [1, 2, 3], cursor=3)
        again = await store.claim(job_id, token, [1, 2, 3], cursor=3)
        assert first.users == again.users == [1, 2, 3]
        assert await store.give_back(job_id, token, 2)
        assert (await store.reclaim(job_id, token, [2])).users == [2]
        assert (await store.reclaim(job_id, token, [2])).users == [2]
        assert await store.settle(job_id, token, 1, "sent") and await store.settle(job_id, token, 1, "sent")
        assert (await store.claim(job_id, token, [1, 4], cursor=4)).users == [4]  # settled: never again

        wall[0] = 10.0
        assert await store.claim_report(job_id, "a", 30.0)
        assert await store.claim_report(job_id, "a", 30.0)
        wall[0] = 20.0
        assert not await store.claim_report(job_id, "b", 30.0)  # "a" is sending it
        await store.mark_reported(job_id)
        await store.mark_reported(job_id)
        wall[0] = 50.0
        assert not await store.claim_report(job_id, "a", 30.0)  # sent: never again
        assert await store.recount(job_id, token)  # the counters are the deliveries': user 1 once
        job = await store.load()
        assert (job.sent, job.cursor, job.reported) == (1, 4, True)


async def test_a_paused_job_claims_nobody_and_loses_nobody(mongo_uri, mongo_db_name):
    async with _store(mongo_uri, mongo_db_name) as (store, _wall):
        job_id = await store.create(JobSpec(chat_id=ADMIN, message_id=1, admin=ADMIN, audience=4))
        token, _ = await store.acquire(job_id, "a", lease=30.0)
        assert await store.transition(job_id, ("running",), "paused") == "running"

        assert (await store.claim(job_id, token, [1, 2], cursor=2)).status == "paused"
        assert not await store.was_claimed(job_id, 1)  # undone: the next owner sends to them
        assert await store.create(JobSpec(chat_id=ADMIN, message_id=2, admin=ADMIN)) is None  # one at a time


async def test_a_report_lost_with_its_process_is_sent_by_another_one(deploy, audience, start_broadcast, until):
    first = await deploy()
    users = await audience(first, 30)
    plugin = first.plugin("broadcast")
    telling = []

    async def dies_while_telling(user_id, text):
        telling.append(text)
        await first.clock.sleep(10 ** 9)  # the process dies here: the report never leaves it

    plugin._tell = dies_while_telling
    await start_broadcast(first, "News")
    await until(lambda: any("\nSent: " in t for t in telling), what="the first process to start the report")
    plugin.runner_task.cancel()  # the process dies (a clean stop would wait for the report)
    job = await plugin.store.load()  # (read before the stop closes this process's database client)
    await first.stop()
    assert job.state == "done" and not job.reported

    second = await deploy(prepare=admin_message)
    await until(lambda: finished(second), what="the report, once the first one's claim lapsed")
    [report] = [m.text for m in second.fake.sent_to(ADMIN) if m.text and "\nSent: " in m.text]
    assert "Sent: 31" in report
    assert all(received([first, second], u) == 1 for u in users)
    assert not second.fake.calls_of("copy_message")  # reporting sends nobody the message again
