"""Redis killed (kill -9, no persistence) mid-broadcast: the admin is told, nobody is lost or served twice.

The job and the record of who was served are in MongoDB (the kernel's jobs
facility and ``broadcast.deliveries``): a Redis that comes back empty knows
nothing, and needs to know nothing.
"""

from __future__ import annotations

ADMIN = 9
# Slow enough that the broadcast outlasts a few heartbeats (every lease / 3 = 10 s) and the
# detection of the lost Redis: at 4/s, a loaded machine saw the last 141 users served first.
SLOW = """
[plugins.broadcast]
rate = 1
min_rate = 1
"""


def served(bot, users) -> int:
    return sum(1 for u in users if bot.fake.sent_to(u))


def told(bot, words: str) -> list[str]:
    return [m.text for m in bot.fake.sent_to(ADMIN) if m.text and words in m.text]


async def test_redis_killed_mid_broadcast_is_reported_and_the_broadcast_finishes_without_resending(
        deploy, audience, start_broadcast, until, redis_factory):
    server = redis_factory()  # no data_dir: no persistence, it comes back empty
    bot = await deploy(config=SLOW, env={"MEDIABOT_REDIS_URL": server.url})
    users = await audience(bot, 201)
    await start_broadcast(bot, "News")
    await until(lambda: served(bot, users) >= 60, what="60 users served")

    server.kill()
    await until(lambda: told(bot, "Redis is unreachable"), what="the admin told that Redis is gone")
    # The broadcast is still known while Redis is away.
    status = (await bot.send("/broadcast_status", user=ADMIN)).texts
    job = await bot.plugin("broadcast").store.load()
    assert job is not None and job.active and any(job.id in t for t in status), status
    assert not any("No broadcast is running" in t for t in status)

    server.restart()  # empty: every key of the bot is gone
    await until(lambda: told(bot, "Redis is back"), what="the admin told that Redis is back")
    await until(lambda: _finished(bot), timeout=120, what="the broadcast finished")

    counts = {u: len(bot.fake.sent_to(u)) for u in users}
    assert all(n == 1 for n in counts.values()), {u: n for u, n in counts.items() if n != 1}
    job = await bot.plugin("broadcast").store.load()
    assert (job.sent, job.unknown, job.failed) == (202, 0, 0)  # the admin is in the audience too
    assert len(told(bot, "\nSent: 202")) == 1  # the report, once
    # A new /broadcast now starts a new job: the old one is finished, not forgotten or re-run.
    status = (await bot.send("/broadcast_status", user=ADMIN)).texts
    assert any(job.id in t and "Sent: 202" in t for t in status), status


async def _finished(bot) -> bool:
    job = await bot.plugin("broadcast").store.load()
    return job is not None and job.state == "done" and job.reported
