"""/healthz, /readyz and /metrics as a scraper, a load balancer or an orchestrator sees them."""

from __future__ import annotations

from ops_kit import USER, url
from prometheus_client.parser import text_string_to_metric_families

from mediabot import HealthReport
from mediabot.testing import eventually

TOKEN = "a-long-random-ops-token-0123456789"


async def test_healthz_says_the_process_is_alive(ops_bot, http):
    bot = await ops_bot()
    async with http.get(url(bot, "/healthz")) as response:
        assert response.status == 200
        assert await response.json() == {"alive": True}


async def test_readyz_is_200_when_telegram_redis_and_every_plugin_are_fine(ops_bot, http):
    bot = await ops_bot()
    async with http.get(url(bot, "/readyz")) as response:
        body = await response.json()
        assert response.status == 200, body
    assert body["ready"] is True and body["not_ready"] == []
    status = {c["component"]: c["status"] for c in body["components"]}
    assert status["telegram"] == status["redis"] == status["mongo"] == "ok"


async def test_readyz_turns_503_naming_redis_when_it_dies_and_200_when_it_returns(ops_bot, http, redis_factory):
    redis = redis_factory()
    bot = await ops_bot(env={"MEDIABOT_REDIS_URL": redis.url})

    async def ready() -> tuple[int, dict]:
        async with http.get(url(bot, "/readyz")) as response:
            return response.status, await response.json()

    assert (await ready())[0] == 200
    redis.kill()
    status, body = await ready()
    assert status == 503
    assert [c["component"] for c in body["not_ready"]] == ["redis"]
    assert "unreachable" in body["not_ready"][0]["detail"]
    assert body["ready"] is False
    redis.restart()
    await eventually(lambda: _is(ready, 200), what="/readyz back to 200 after Redis returned")


async def _is(probe, code: int) -> bool:
    return (await probe())[0] == code


async def test_readyz_is_503_when_a_plugin_reports_down(ops_bot, http):
    bot = await ops_bot()
    bot.plugin("films").health = [HealthReport(component="films.index", status="down", detail="index lost"),
                                  HealthReport(component="films.cache", status="degraded", detail="cold")]
    async with http.get(url(bot, "/readyz")) as response:
        body = await response.json()
        assert response.status == 503
    # Degraded still serves: only what is down keeps the process out of rotation.
    assert body["not_ready"] == [{"component": "films.index", "status": "down", "detail": "index lost"}]


async def test_metrics_exposes_the_kernel_and_every_plugins_metrics(ops_bot, http):
    bot = await ops_bot()
    await bot.send("/film Alien", user=USER)
    async with http.get(url(bot, "/metrics")) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert samples[("mediabot_updates_total", (("kind", "Message"),))] == 1
    assert samples[("films_lookups_total", ())] == 1


async def test_with_a_token_metrics_and_readyz_need_it_as_a_bearer(ops_bot, http):
    bot = await ops_bot(env={"MEDIABOT_OPS_TOKEN": TOKEN})
    for path in ("/metrics", "/readyz"):
        async with http.get(url(bot, path)) as response:
            assert response.status == 401, path
        async with http.get(url(bot, path), headers={"Authorization": "Bearer wrong-token"}) as response:
            assert response.status == 401, path
        async with http.get(url(bot, path), headers={"Authorization": f"Bearer {TOKEN}"}) as response:
            assert response.status == 200, path
    async with http.get(url(bot, "/healthz")) as response:  # liveness tells nothing: no token
        assert response.status == 200


async def test_listening_beyond_loopback_with_a_token_serves_with_the_token(ops_bot, http):
    bot = await ops_bot('[plugins.ops]\nlisten = "0.0.0.0:0"\n', env={"MEDIABOT_OPS_TOKEN": TOKEN})
    async with http.get(url(bot, "/metrics"), headers={"Authorization": f"Bearer {TOKEN}"}) as response:
        assert response.status == 200
