"""The admins' ops commands in chat: health, stats, cache, logs; refused to everyone else."""

from __future__ import annotations

import pytest
from ops_kit import ADMIN, USER

from mediabot import HealthReport

REFUSED = "This command is for admins only."
OWNER_ONLY = "This command is for the bot owner only."
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


ADMIN_COMMANDS = ["/health", "/stats", "/plugins", "/cache_stats", "/cache_analyze", "/cache_cleanup", "/logs",
                  "/releases"]
OWNER_COMMANDS = ["/restart", "/update v2", "/rollback"]


@pytest.mark.parametrize("command", ADMIN_COMMANDS + OWNER_COMMANDS)
async def test_ops_commands_are_refused_to_users(ops_bot, command):
    bot = await ops_bot()
    replies = (await bot.send(command, user=USER)).texts
    assert replies == [REFUSED if command in ADMIN_COMMANDS else OWNER_ONLY]


@pytest.mark.parametrize("command", OWNER_COMMANDS)
async def test_update_restart_and_rollback_are_refused_to_admins_who_are_not_the_owner(ops_bot, command, monkeypatch):
    bot = await ops_bot()
    stops: list[bool] = []
    monkeypatch.setattr(bot.app, "request_stop", lambda: stops.append(True))
    assert (await bot.send(command, user=ADMIN)).texts == [OWNER_ONLY]
    assert stops == []


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


async def test_cache_analyze_attributes_keys_to_their_plugins(ops_bot):
    bot = await ops_bot()
    redis = bot.app.redis
    films, search = bot.app.storage("films"), bot.app.storage("search")
    for i in range(40):
        await redis.set(films.key("cache", "v2", i), "x" * 200)
    for i in range(7):
        await redis.set(search.key("page", i), "y", ex=3600)
    text = (await bot.send("/cache_analyze", user=ADMIN)).last.text
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
    sent = (await bot.send("/logs 5", user=ADMIN)).last
    assert sent.media is not None and sent.media.file_name == "mediabot-logs.txt"
    _, data = bot.fake.uploaded(sent.chat.id, sent.id)
    text = data.decode()
    n = len(text.splitlines())
    assert 1 <= n <= 5 and sent.caption == f"The last {n} log line{'' if n == 1 else 's'} (secrets masked)."
    line = next(line for line in text.splitlines() if "looked up 'Alien'" in line)
    assert "WARNING mediabot.plugin.films" in line
    assert TOKEN not in text and "with token ***" in line
    assert bot.app.env["MEDIABOT_REDIS_URL"] not in text


async def test_logs_refuses_a_count_that_is_not_a_number(ops_bot):
    bot = await ops_bot()
    for bad in ("many", "①", "²", "0", "201", "99999999999"):
        assert (await bot.send(f"/logs {bad}", user=ADMIN)).texts == [
            f"N must be a number of lines from 1 to 200, not {bad!r}.\nUsage: /logs [N]"]


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
    text = (await bot.send("/cache_analyze", user=ADMIN)).last.text
    assert "films: 3,000 keys" in text
    calls = int(text.split(" SCAN calls")[0].rsplit("(", 1)[1])
    assert calls >= 3000 // 100  # many short calls, not one long one
    asked = (await bot.send("/cache_cleanup", user=ADMIN)).last
    assert (await bot.press(asked, "Confirm", user=ADMIN)).texts == ["Deleted 3,000 stale keys."]
    used = await redis.info("commandstats")
    assert "cmdstat_scan" in used and "cmdstat_unlink" in used
    assert not {"cmdstat_keys", "cmdstat_flushall", "cmdstat_flushdb", "cmdstat_del"} & set(used)


async def test_cache_analyze_on_100000_keys_counts_every_namespace_and_never_blocks_redis(ops_bot, redis_factory):
    server = redis_factory()
    bot = await ops_bot("[plugins.ops]\nlisten = \"\"\n", env={"MEDIABOT_REDIS_URL": server.url})
    redis, prefix = bot.app.redis, bot.app.section("redis").key_prefix
    films, search = bot.app.storage("films"), bot.app.storage("search")
    layout = {"films": (60_000, lambda i: films.key("cache", "v2", i)),
              "search": (30_000, lambda i: search.key("page", i)),
              "sessions": (10_000, lambda i: f"{prefix}:sess:query:{{user:{i}}}")}
    for _name, (count, key) in layout.items():
        for start in range(0, count, 5000):
            pipe = redis.pipeline(transaction=False)
            for i in range(start, start + 5000):
                pipe.set(key(i), "v" * 40)
            await pipe.execute()
    await redis.config_set("slowlog-log-slower-than", 5000)  # microseconds: log any command over 5 ms
    await redis.slowlog_reset()
    await redis.config_resetstat()
    text = (await bot.send("/cache_analyze", user=ADMIN)).last.text
    lines = text.splitlines()
    assert next(line for line in lines if line.startswith("films:")).startswith("films: 60,000 keys, ~")
    assert next(line for line in lines if line.startswith("search:")).startswith("search: 30,000 keys, ~")
    assert next(line for line in lines if line.startswith("sessions:")).startswith("sessions: 10,000 keys, ~")
    calls = int(text.split(" SCAN calls")[0].rsplit("(", 1)[1])
    assert calls >= 100_000 // 500  # scan_batch 500: hundreds of short calls
    assert await redis.slowlog_get() == []  # not one command took 5 ms
    used = await redis.info("commandstats")
    assert "cmdstat_scan" in used and "cmdstat_memory" in used and "cmdstat_keys" not in used


async def test_cache_cleanup_of_an_unknown_plugin_names_the_plugins_of_the_deployment(ops_bot):
    bot = await ops_bot()
    reply = (await bot.send("/cache_cleanup nosuch", user=ADMIN)).last.text
    assert reply == ("No plugin nosuch in this deployment, and no keys of it in Redis. Plugins here: films, ops "
                     "(/cache_analyze shows every namespace with keys).")
    assert (await bot.send("/cache_cleanup films", user=ADMIN)).last.text == \
        "films has no keys in Redis: nothing to delete."


async def test_cache_cleanup_counts_one_key_in_the_singular(ops_bot):
    bot = await ops_bot()
    redis, films, search = bot.app.redis, bot.app.storage("films"), bot.app.storage("search")
    await redis.set(films.key("cache", "v1", 0), "old")
    await redis.set(search.key("page", 0), "p")
    asked = (await bot.send("/cache_cleanup", user=ADMIN)).last
    assert asked.text == "1 stale key (of films). Delete it?"
    assert (await bot.press(asked, "Confirm", user=ADMIN)).texts == ["Deleted 1 stale key."]
    asked = (await bot.send("/cache_cleanup search", user=ADMIN)).last
    assert asked.text.startswith("Delete the 1 key of search?")
    assert (await bot.press(asked, "Confirm", user=ADMIN)).texts == ["Deleted 1 key of search."]


async def test_logs_mask_every_form_of_a_secret_and_any_url_credentials(ops_bot):
    import logging
    from urllib.parse import quote

    token = "s3cr3t/t0ken+v4lue"
    backup = "mongodb://backup:Pa%24%24word99@db.example.org/?tlsCertificateKeyFilePassword=k3yfil3pw&w=1"
    bot = await ops_bot(env={"MEDIABOT_OPS_TOKEN": token, "MEDIABOT_MONGO_URI_BACKUP": backup})
    log = logging.getLogger("mediabot.plugin.films")
    log.warning("upper %s", token.upper())
    log.warning("encoded %s and %s", quote(token, safe=""), quote(token))
    log.warning("parsed password %s, encoded %s; key file %s", "Pa$$word99", "Pa%24%24word99", "k3yfil3pw")
    log.warning("unknown url redis://cache.example.org:6379/0?Password=n0tInEnv1&db=0")
    log.warning("unknown url REDIS://user:n0tInEnv2@cache.example.org/0")
    log.warning("unknown url https://api.example.org/hook?access_token=n0tInEnv3")
    sent = (await bot.send("/logs 6", user=ADMIN)).last
    _, data = bot.fake.uploaded(sent.chat.id, sent.id)
    text = data.decode()
    for secret in (token, "Pa$$word99", "Pa%24%24word99", "k3yfil3pw", "n0tInEnv1", "n0tInEnv2", "n0tInEnv3"):
        assert secret.lower() not in text.lower(), secret
        assert quote(secret, safe="").lower() not in text.lower(), secret
    assert "redis://cache.example.org:6379/0?Password=***&db=0" in text  # what is not a credential stays
    assert "REDIS://user:***@cache.example.org/0" in text
    assert "https://api.example.org/hook?access_token=***" in text
