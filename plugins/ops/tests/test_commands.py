"""The admins' ops commands in chat: health, stats, cache, logs; refused to everyone else."""

from __future__ import annotations

import pytest
from ops_kit import ADMIN, USER

from mediabot import HealthReport

REFUSED = "This command is for admins only."
TOKEN = "ops-token-that-must-never-show"


async def test_health_lists_every_component_worst_first_for_an_admin(ops_bot):
    bot = await ops_bot()
    bot.plugin("films").health = [HealthReport(component="films.cache", status="degraded", detail="cold"),
                                  HealthReport(component="films.index", status="down", detail="index lost")]
    text = (await bot.send("/health", user=ADMIN)).last.text
    lines = text.splitlines()
    assert lines[0] == "Health: down (not ready)"
    assert lines[1] == "🔴 films.index: down — index lost"
    assert lines[2] == "🟡 films.cache: degraded — cold"
    assert "🟢 redis: ok" in lines and "🟢 mongo: ok" in lines
    assert any(line.startswith("🟢 telegram: ok — connected as @") for line in lines)


@pytest.mark.parametrize("command", ["/health", "/stats", "/cache_stats", "/cache_cleanup", "/logs"])
async def test_ops_commands_are_refused_to_users(ops_bot, command):
    bot = await ops_bot()
    assert (await bot.send(command, user=USER)).texts == [REFUSED]


async def test_stats_show_users_catalogue_updates_errors_and_what_plugins_add(ops_bot):
    bot = await ops_bot()
    await bot.send("/film Alien", user=USER)
    await bot.send("/crash", user=USER)
    await bot.send("/health", user=ADMIN)
    await bot.app.users.flush()  # sightings are written in batches: both users are in now
    text = (await bot.send("/stats", user=ADMIN)).last.text
    assert text.startswith("Uptime: ")
    assert "Users: 2 (active 2 · blocked 0 · deactivated 0 · banned 0)" in text
    assert "Catalogue: 0 files" in text
    assert "Updates handled: 4 (Message 4)" in text  # the /stats itself is the fourth
    assert "Errors by plugin: films 1" in text
    assert "films: cache v2" in text


async def test_cache_stats_attribute_keys_to_their_plugins(ops_bot):
    bot = await ops_bot()
    redis = bot.app.redis
    films, search = bot.app.storage("films"), bot.app.storage("search")
    for i in range(40):
        await redis.set(films.key("cache", "v2", i), "x" * 200)
    for i in range(7):
        await redis.set(search.key("page", i), "y", ex=3600)
    text = (await bot.send("/cache_stats", user=ADMIN)).last.text
    assert "films: 40 keys, ~" in text and "100% never expire" in text
    assert "search: 7 keys" in text and "not enabled here" in text.split("search: 7 keys")[1].splitlines()[0]
    films_line = next(line for line in text.splitlines() if line.startswith("films:"))
    assert "not enabled here" not in films_line


async def test_cache_cleanup_deletes_exactly_the_stale_keys_after_confirm(ops_bot):
    bot = await ops_bot()
    redis, films = bot.app.redis, bot.app.storage("films")
    for i in range(30):
        await redis.set(films.key("cache", "v1", i), "old")
    for i in range(20):
        await redis.set(films.key("cache", "v2", i), "current")
    await redis.set(films.key("settings"), "keep")
    asked = (await bot.send("/cache_cleanup", user=ADMIN)).last
    assert asked.text == "30 stale keys (of films). Delete them?"
    assert await redis.exists(films.key("cache", "v1", 0))  # a dry run deletes nothing
    done = await bot.press(asked, "Confirm", user=ADMIN)
    assert done.texts == ["Deleted 30 stale keys."]
    left = sorted([k.decode() async for k in redis.scan_iter(match=f"{films.key_prefix}*")])
    assert left == sorted([films.key("cache", "v2", i) for i in range(20)] + [films.key("settings")])


async def test_cache_cleanup_of_a_named_plugin_touches_no_other_plugin(ops_bot):
    bot = await ops_bot()
    redis, films, search = bot.app.redis, bot.app.storage("films"), bot.app.storage("search")
    for i in range(5):
        await redis.set(search.key("page", i), "p")
        await redis.set(films.key("cache", "v2", i), "f")
    asked = (await bot.send("/cache_cleanup search", user=ADMIN)).last
    assert asked.text.startswith("Delete all 5 keys of search?")
    assert (await bot.press(asked, "Confirm", user=ADMIN)).texts == ["Deleted 5 keys of search."]
    assert [k async for k in redis.scan_iter(match=f"{search.key_prefix}*")] == []
    assert len([k async for k in redis.scan_iter(match=f"{films.key_prefix}*")]) == 5


async def test_cache_cleanup_cancelled_deletes_nothing_and_the_catalogue_stream_is_not_a_cache(ops_bot):
    bot = await ops_bot()
    redis, search = bot.app.redis, bot.app.storage("search")
    await redis.set(search.key("page", 1), "p")
    asked = (await bot.send("/cache_cleanup search", user=ADMIN)).last
    assert (await bot.press(asked, "Cancel", user=ADMIN)).texts == ["Nothing deleted."]
    assert await redis.exists(search.key("page", 1))
    assert (await bot.send("/cache_cleanup catalog", user=ADMIN)).last.text.startswith("catalog is not a cache")


async def test_logs_show_recent_lines_with_secrets_masked(ops_bot):
    bot = await ops_bot(env={"MEDIABOT_OPS_TOKEN": TOKEN})
    await bot.send("/film Alien", user=USER)
    text = (await bot.send("/logs 5", user=ADMIN)).last.text
    line = next(line for line in text.splitlines() if "looked up 'Alien'" in line)
    assert "WARNING mediabot.plugin.films" in line
    assert TOKEN not in text and "with token ***" in line
    assert bot.app.env["MEDIABOT_REDIS_URL"] not in text


async def test_logs_refuses_a_count_that_is_not_a_number(ops_bot):
    bot = await ops_bot()
    assert (await bot.send("/logs many", user=ADMIN)).texts == [
        "N is a number of lines, 1 or more.\nUsage: /logs [N]"]


async def test_cache_commands_walk_redis_in_bounded_scan_batches_never_keys(ops_bot, redis_factory):
    redis_server = redis_factory()
    bot = await ops_bot("[plugins.ops]\nlisten = \"\"\nscan_batch = 100\n",
                        env={"MEDIABOT_REDIS_URL": redis_server.url})
    redis, films = bot.app.redis, bot.app.storage("films")
    pipe = redis.pipeline(transaction=False)
    for i in range(3000):
        pipe.set(films.key("cache", "v1", i), "x")
    await pipe.execute()
    await redis.config_resetstat()
    text = (await bot.send("/cache_stats", user=ADMIN)).last.text
    assert "films: 3,000 keys" in text
    calls = int(text.split(" SCAN calls")[0].rsplit("(", 1)[1])
    assert calls >= 3000 // 100  # many short calls, not one long one
    asked = (await bot.send("/cache_cleanup", user=ADMIN)).last
    assert (await bot.press(asked, "Confirm", user=ADMIN)).texts == ["Deleted 3,000 stale keys."]
    used = await redis.info("commandstats")
    assert "cmdstat_scan" in used and "cmdstat_unlink" in used
    assert not {"cmdstat_keys", "cmdstat_flushall", "cmdstat_flushdb", "cmdstat_del"} & set(used)
