"""Redis killed during traffic: the bot keeps answering per policy, health shows it, recovery is automatic."""

from __future__ import annotations

import re

import redis

from mediabot.testing import eventually

USER = 1
SLOW_DOWN = re.compile(r"^Slow down: try again in \d+ s\.$")
FAST = "[redis]\nsocket_timeout = 0.3\n[services]\nretry_interval = 0.1\n"


async def redis_status(bot) -> str:
    return {r.component: r.status for r in await bot.app.health()}["redis"]


def redis_has_rate_state(bot, url: str, user: int) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        return bool(client.exists(bot.app.ratelimiter.redis_key(f"u:{user}")))
    finally:
        client.close()


async def test_fail_open_keeps_answering_reports_degraded_and_recovers(tools_bot, redis_factory):
    server = redis_factory()
    bot = await tools_bot(env={"MEDIABOT_REDIS_URL": server.url}, config=FAST)
    assert (await bot.send("/remember before", user=USER)).texts == ["noted"]
    assert await redis_status(bot) == "ok" and redis_has_rate_state(bot, server.url, USER)

    server.kill()
    # Users keep getting answers while Redis is gone (fail_open: nobody is refused).
    for i in range(5):
        assert (await bot.send(f"/echo {i}", user=USER)).texts == [str(i)]
        assert (await bot.send(f"/echo {i}", user=2)).texts == [str(i)]
    health = {r.component: r for r in await bot.app.health()}["redis"]
    assert health.status == "degraded" and "unreachable" in health.detail
    # Sessions keep working from the in-process fallback.
    assert (await bot.send("/remember during", user=USER)).texts == ["noted"]
    assert (await bot.send("/recall", user=USER)).texts == ["during"]

    server.restart()
    # No message needed: the probe loop notices Redis is back.
    await eventually(lambda: bot.app.redis_health.state == "ok", deadline=10)
    assert await redis_status(bot) == "ok"
    assert (await bot.send("/echo back", user=USER)).texts == ["back"]
    # The limiter is on Redis again (its state is there, the restarted server started empty).
    assert redis_has_rate_state(bot, server.url, USER)
    assert bot.app.state == "running"


async def test_fail_closed_refuses_once_while_redis_is_down(tools_bot, redis_factory):
    server = redis_factory()
    bot = await tools_bot(env={"MEDIABOT_REDIS_URL": server.url},
                          config=FAST + 'rate_limit_policy = "fail_closed"\nfail_closed_retry_after = 5\n')
    assert (await bot.send("/echo up", user=USER)).texts == ["up"]
    server.kill()
    assert (await bot.send("/echo down", user=USER)).texts == ["Slow down: try again in 5 s."]
    assert (await bot.send("/echo down", user=USER)).texts == []
    assert await redis_status(bot) == "degraded"
    server.restart()
    await eventually(lambda: bot.app.redis_health.state == "ok", deadline=10)
    assert (await bot.send("/echo up again", user=USER)).texts == ["up again"]
