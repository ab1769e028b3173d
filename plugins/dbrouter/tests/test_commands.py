"""/dbstatus, /dbswitch and admin alerts through a running bot; ``mediabot db status``."""

from __future__ import annotations

import asyncio
import textwrap

from click.testing import CliRunner
from mediabot_dbrouter import DbRouterPlugin
from mediabot_dbrouter.cli import db_group
from mediabot_dbrouter.config import DatabaseEntry, DbRouterConfig


def router_config(kit, quotas=(512, 512, 512)) -> str:
    tables = "".join(f"""
        [[plugins.dbrouter.databases]]
        name = "{n}"
        uri_env = "TEST_DB_{n.upper()}"
        database = "{kit.db_name}"
        quota_mb = {q}
        """ for n, q in zip("abc", quotas, strict=True))
    return textwrap.dedent("""
        [plugins.dbrouter]
        enabled = true
        timeout_ms = 2000
        probe_interval = 0.2
        alert_interval = 0
        """) + textwrap.dedent(tables)


async def dbrouter_bot(make_bot, kit, trio, **kw):
    kit.servers = trio  # the kit drops the test database on every server afterwards
    env = {f"TEST_DB_{n.upper()}": s.uri for n, s in zip("ABC", trio, strict=True)}
    return await make_bot(plugins=[DbRouterPlugin], config=router_config(kit, **kw), admins=[1], env=env)


async def test_admins_see_every_database_and_which_one_takes_writes(make_bot, kit, trio):
    bot = await dbrouter_bot(make_bot, kit, trio)
    await bot.app.files.insert_batch([kit.file(i) for i in range(3)])
    text = (await bot.send("/dbstatus", user=1)).texts[0]
    assert text.splitlines()[1] == "Writes: a (automatic)"
    assert "▶ a [home]: closed" in text and "· b: closed" in text and "· c: closed" in text
    assert "/512 MB" in text and "calls" in text and "failures 0" in text
    a_line = next(line for line in text.splitlines() if line.startswith("▶ a"))
    assert "· 3 docs ·" in a_line  # written since the last measurement, counted without asking a
    health = {r.component: r.status for r in await bot.app.health()}
    assert health["mongo:a"] == health["mongo:c"] == health["dbrouter.writes"] == "ok"


async def test_users_cannot_see_or_switch_databases(make_bot, kit, trio):
    bot = await dbrouter_bot(make_bot, kit, trio)
    assert (await bot.send("/dbstatus", user=99)).texts == ["This command is for admins only."]
    assert (await bot.send("/dbswitch c", user=99)).texts == ["This command is for admins only."]


async def test_an_admin_pins_writes_for_every_deployment_and_releases_the_pin(make_bot, kit, trio):
    bot = await dbrouter_bot(make_bot, kit, trio)
    indexer = kit.router(trio)  # another deployment writing the same catalogue
    indexer_files = await kit.ready(indexer)
    assert (await bot.send("/dbswitch c", user=1)).texts == [
        "Writes pinned to c until /dbswitch auto (or until it fails). Other deployments follow within 0.2s."]
    report = await bot.app.files.insert_batch([kit.file(i) for i in range(4)])
    assert report.databases == {"c": 4}
    assert "Writes: c (pinned with /dbswitch)" in (await bot.send("/dbstatus", user=1)).texts[0]
    await indexer.monitor_once()  # its next background pass
    assert (await indexer_files.insert_batch([kit.file(i) for i in range(4, 8)])).databases == {"c": 4}
    env = {f"TEST_DB_{n.upper()}": s.uri for n, s in zip("ABC", trio, strict=True)}
    config = DbRouterConfig(databases=[DatabaseEntry(name=n, uri_env=f"TEST_DB_{n.upper()}", database=kit.db_name)
                                       for n in "abc"])
    shown = await asyncio.to_thread(CliRunner().invoke, db_group(config, env), ["status"])
    assert "Writes: c (pinned with /dbswitch)" in shown.output
    assert (await bot.send("/dbswitch zz", user=1)).texts[0].startswith("Cannot pin zz: unknown database 'zz'")
    assert (await bot.send("/dbswitch auto", user=1)).texts == [
        "Automatic routing (pin on c released): writes go to a. Other deployments follow within 0.2s."]
    await indexer.monitor_once()
    assert indexer.pinned is None and indexer.active.name == "a"
    assert (await bot.send("/dbswitch", user=1)).texts == ["Usage: /dbswitch NAME|auto"]


async def test_a_pin_made_while_the_home_database_is_away_holds_for_this_deployment_only(make_bot, kit, trio):
    bot = await dbrouter_bot(make_bot, kit, trio)
    router = bot.plugin("dbrouter").router
    router.home.breaker.trip()  # the home stops answering
    texts = (await bot.send("/dbswitch b", user=1)).texts  # the admin is also alerted about a
    reply = next(t for t in texts if t.startswith("Writes pinned to b"))
    assert "this deployment only" in reply
    assert router.pinned.name == "b"
    await router.monitor_once()  # nothing shared to follow: the pin stays
    assert router.pinned.name == "b"


async def test_admins_are_told_when_writes_move_because_a_database_filled_up(make_bot, kit, trio):
    bot = await dbrouter_bot(make_bot, kit, trio, quotas=(0.05, 512, 512))
    for i in range(30):
        await bot.app.files.insert_batch([kit.file(f"{i}-{j}") for j in range(10)])

    def told() -> list[str]:
        return [m.text or "" for m in bot.replies_to(1)]

    await kit.wait_for(lambda: any("writes moved from a to b" in t for t in told()), what="the admin alert")
    await kit.wait_for(lambda: any("database a is at" in t for t in told()), what="the capacity alert")


def test_the_cli_shows_each_database_and_fails_when_one_does_not_answer(trio, kit):
    config = DbRouterConfig(databases=[
        DatabaseEntry(name="a", uri_env="A", database=kit.db_name),
        DatabaseEntry(name="b", uri_env="B", database=kit.db_name),
        DatabaseEntry(name="gone", uri_env="GONE", database=kit.db_name)], timeout_ms=500)
    env = {"A": trio[0].uri, "B": trio[1].uri, "GONE": "mongodb://127.0.0.1:9/"}
    result = CliRunner().invoke(db_group(config, env), ["status"])
    assert result.exit_code == 1, result.output
    assert "Writes: a (automatic)" in result.output
    assert "▶ a [home]: closed" in result.output and "· gone: UNREACHABLE" in result.output
    healthy = DbRouterConfig(databases=config.databases[:2], timeout_ms=2000)
    assert CliRunner().invoke(db_group(healthy, env), ["status"]).exit_code == 0


async def test_a_missing_uri_variable_is_a_configuration_error_naming_it(tmp_path, kit, trio, mongo_uri):
    import os
    import subprocess
    import sys

    import pytest

    from mediabot import ConfigError, create_app

    path = tmp_path / "plugins.toml"
    path.write_text(router_config(kit))
    env = {"TEST_DB_A": trio[0].uri, "TEST_DB_C": trio[2].uri, "MEDIABOT_MONGO_URI": mongo_uri}
    with pytest.raises(ConfigError, match="environment variable TEST_DB_B is not set") as caught:
        create_app(path, env=env, plugins=[DbRouterPlugin])  # before anything starts
    assert caught.value.key == "plugins.dbrouter.databases[1].uri_env"
    # `config check` says the same, exit 2, with the environment the deployment runs with.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIABOT", "TEST_DB"))}
    result = subprocess.run([sys.executable, "-m", "mediabot", "--config", str(path), "config", "check", "--dev"],
                            env={**clean, **env}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "TEST_DB_B is not set" in result.stderr, result.stderr


async def test_the_cli_shows_what_each_running_deployment_sees(make_bot, kit, trio):
    from mediabot_dbrouter.views import DeploymentView, format_views

    bot = await dbrouter_bot(make_bot, kit, trio)
    router = bot.plugin("dbrouter").router
    router.views.interval = 0.0  # store the view on every monitor pass
    env = {f"TEST_DB_{n.upper()}": s.uri for n, s in zip("ABC", trio, strict=True)}
    config = DbRouterConfig(databases=[DatabaseEntry(name=n, uri_env=f"TEST_DB_{n.upper()}", database=kit.db_name)
                                       for n in "abc"])

    async def cli_output() -> str:
        return (await asyncio.to_thread(CliRunner().invoke, db_group(config, env), ["status"])).output

    router.member("c").breaker.trip()  # the bot finds c failing; a probe from the shell would not know
    await router.monitor_once()
    shown = await cli_output()
    line = next(t for t in shown.splitlines() if t.startswith(f"- {router.views.deployment}"))
    assert "writes → a; a closed · b closed · c OPEN" in line
    assert "· c: closed" in shown  # the shell's own probe reaches c
    await bot.stop()
    assert "none has reported" in await cli_output()  # a stopping bot withdraws its view
    old = DeploymentView(deployment="indexer@box:7", at=1000.0, interval=10.0, databases=router.status())
    assert "indexer@box:7, 31s ago STALE: writes → " in format_views([old], now=1031.0)


async def test_files_added_fires_once_per_insert_with_only_the_new_files_under_dbrouter(make_bot, kit, trio):
    from mediabot import PluginMeta, hookimpl

    class Recorder:
        meta = PluginMeta(name="recorder", description="Records mediabot_files_added.")

        def __init__(self, ctx):
            self.added: list[list[str]] = []

        @hookimpl
        def mediabot_files_added(self, files):
            self.added.append(sorted(f.file_unique_id for f in files))

    kit.servers = trio
    env = {f"TEST_DB_{n.upper()}": s.uri for n, s in zip("ABC", trio, strict=True)}
    bot = await make_bot(plugins=[DbRouterPlugin, Recorder], config=router_config(kit), admins=[1], env=env)
    await bot.app.files.insert_batch([kit.file(i) for i in range(3)])
    await bot.app.files.insert_batch([kit.file(i) for i in range(2, 5)])  # u2 is already in a database
    assert bot.plugin("recorder").added == [["u0", "u1", "u2"], ["u3", "u4"]]
    changes = await bot.app.changes.read("0-0")
    assert [sorted(f.file_unique_id for f in c.files) for _, c in changes] == [["u0", "u1", "u2"], ["u3", "u4"]]
