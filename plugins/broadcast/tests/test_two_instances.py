"""Two app instances on one Redis, on the real clock: one runs the job, either controls it.

The other tests run on a virtual clock; here time is real, as in
production: a live owner keeps its lease, and the other instance never
runs the job.
"""

from __future__ import annotations

import pytest

from mediabot.core.clock import MonotonicClock

ADMIN = 9
# A fast account, so a few hundred sends take about a second of real time; the
# fake enforces its raised limit as it does Telegram's.
FAST = """
[telegram]
global_rate = 400
bulk_share = 1.0

[plugins.broadcast]
rate = 400
lease = 20
"""


@pytest.fixture
def clock() -> MonotonicClock:
    return MonotonicClock()


def received(bots, user: int) -> int:
    return sum(len(b.fake.sent_to(user)) for b in bots)


def reports(bots) -> list[str]:
    return [m.text for b in bots for m in b.fake.sent_to(ADMIN) if m.text and "\nSent: " in m.text]


async def admin_message(fake) -> None:
    # The same message (id 1 in the admin's chat) as the first instance saw: Telegram is one.
    await fake.user_message(ADMIN, "News")


async def two_instances(deploy):
    one = await deploy(config=FAST)
    two = await deploy(config=FAST, prepare=admin_message)
    for bot in (one, two):
        bot.fake.limits.global_per_second = 500
    return one, two


async def test_only_one_instance_runs_the_job_and_a_cancel_from_the_other_stops_it_with_one_report(
        deploy, audience, start_broadcast, until):
    one, two = await two_instances(deploy)
    both = [one, two]
    users = await audience(one, 2000)
    senders: set[int] = set()

    def progress(at_least: int) -> bool:
        running = [b.plugin("broadcast").running_here for b in both]
        assert sum(running) <= 1, "both instances run the job"
        senders.update(i for i, b in enumerate(both) if b.fake.calls_of("copy_message"))
        return sum(received(both, u) for u in users) >= at_least

    await start_broadcast(one, "News")
    await until(lambda: progress(200), what="200 sends")
    [owner_index] = senders  # one instance sent everything so far
    owner, other = both[owner_index], both[1 - owner_index]
    assert owner.plugin("broadcast").running_here and not other.plugin("broadcast").running_here

    replies = await other.send("/broadcast_cancel", user=ADMIN)

    assert any(t.endswith("cancelled.") for t in replies.texts), replies.texts
    await until(lambda: reports(both), what="the final report")
    # The owner's runner sends the report, marks it sent, then ends.
    await until(lambda: not owner.plugin("broadcast").running_here, what="the owner's runner to end")
    assert not other.plugin("broadcast").running_here
    assert not other.fake.calls_of("copy_message")  # the other instance never sent a copy
    [report] = reports(both)
    job = await other.plugin("broadcast").store.load()
    sent = sum(1 for c in owner.fake.calls_of("copy_message") if c.ok)
    assert job.state == "cancelled" and job.unknown == 0
    assert f"Sent: {job.sent}\n" in report and job.sent == sent < len(users)  # every copy counted, once
    assert all(received(both, u) <= 1 for u in users)


async def test_pause_from_one_instance_and_resume_from_the_other_finish_the_job_once(
        deploy, audience, start_broadcast, until):
    one, two = await two_instances(deploy)
    both = [one, two]
    users = await audience(one, 600)
    await start_broadcast(one, "News")
    await until(lambda: sum(received(both, u) for u in users) >= 100, what="100 sends")
    owner, other = (one, two) if one.plugin("broadcast").running_here else (two, one)

    paused = await other.send("/broadcast_pause", user=ADMIN)
    assert any(" pausing: " in t for t in paused.texts), paused.texts
    await until(lambda: not owner.plugin("broadcast").running_here, what="the owner to stop")
    # The instance that was sending tells the final count, once its sends under way are done.
    await until(lambda: [m for m in owner.fake.sent_to(ADMIN) if m.text and " paused at " in m.text],
                what="the final count from the owner")
    at_pause = sum(received(both, u) for u in users)
    resumed = await owner.send("/broadcast_resume", user=ADMIN)
    assert any("resumed at" in t for t in resumed.texts), resumed.texts

    async def finished() -> bool:
        job = await one.plugin("broadcast").store.load()
        return job.state == "done" and job.reported

    await until(finished, what="the end")
    await until(lambda: reports(both), what="the final report")
    assert at_pause < len(users)
    assert [received(both, u) for u in users] == [1] * len(users)  # a pause loses no one
    job = await one.plugin("broadcast").store.load()
    assert (job.sent, job.unknown, job.failed) == (len(users) + 1, 0, 0)
    assert len(reports(both)) == 1
