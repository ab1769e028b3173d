"""/healthz, /readyz and /metrics as a scraper, a load balancer or an orchestrator sees them."""

from __future__ import annotations

import asyncio
import time

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


async def _half_sent(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection that sends the start of a request and then nothing more."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    await writer.drain()
    return reader, writer


async def test_half_sent_requests_are_closed_after_the_header_timeout_and_healthz_still_answers(ops_bot, http):
    bot = await ops_bot('[plugins.ops]\nlisten = "127.0.0.1:0"\nheader_timeout = 1.0\nmax_connections = 50\n')
    port = bot.plugin("ops").port
    opened = time.monotonic()
    held = [await _half_sent(port) for _ in range(30)]
    async with http.get(url(bot, "/healthz")) as response:  # the descriptors they hold are not the bot's last
        assert response.status == 200
    for reader, _writer in held:  # each one is closed by the server: EOF, within the deadline
        assert await asyncio.wait_for(reader.read(), timeout=10) is not None
    assert 1.0 <= time.monotonic() - opened < 10
    await eventually(lambda: bot.plugin("ops").server.open_connections == 0, what="every connection closed")
    for _reader, writer in held:
        writer.close()
    async with http.get(url(bot, "/healthz")) as response:
        assert response.status == 200


async def test_connections_beyond_the_cap_are_closed_at_once_and_counted(ops_bot, http):
    bot = await ops_bot('[plugins.ops]\nlisten = "127.0.0.1:0"\nheader_timeout = 30\nmax_connections = 5\n')
    port = bot.plugin("ops").port
    held = [await _half_sent(port) for _ in range(5)]
    await eventually(lambda: bot.plugin("ops").server.open_connections == 5, what="five connections admitted")
    reader, writer = await _half_sent(port)
    assert await asyncio.wait_for(reader.read(), timeout=5) == b""  # refused long before the header timeout
    writer.close()
    assert bot.app.metrics.value("mediabot_ops_http_refused_connections_total") == 1
    for _reader, held_writer in held:
        held_writer.close()
    await eventually(lambda: bot.plugin("ops").server.open_connections == 0, what="the held ones closed")
    async with http.get(url(bot, "/healthz")) as response:
        assert response.status == 200


async def test_a_non_utf8_authorization_header_gets_401_not_500(ops_bot):
    bot = await ops_bot(env={"MEDIABOT_OPS_TOKEN": TOKEN})
    reader, writer = await asyncio.open_connection("127.0.0.1", bot.plugin("ops").port)
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\xe9t\xe9\r\n"
                 b"Connection: close\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]


async def test_metrics_has_no_created_series(ops_bot, http):
    bot = await ops_bot()
    await bot.send("/film Alien", user=USER)
    async with http.get(url(bot, "/metrics")) as response:
        text = await response.text()
    assert "films_lookups_total 1.0" in text
    assert [line for line in text.splitlines() if "_created" in line] == []
