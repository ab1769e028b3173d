"""/plugins, /cache_stats, /releases, and the owner's /restart, /update and /rollback in chat."""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ops_kit import ADMIN, OWNER
from update_kit import make_deployment, wait_for

OFF = "Updates are off in this deployment: [plugins.ops] releases_dir is not set."


async def test_plugins_lists_the_kernel_and_every_enabled_plugin_with_version_and_origin(ops_bot):
    bot = await ops_bot()
    lines = (await bot.send("/plugins", user=ADMIN)).last.text.splitlines()
    assert lines[0] == "mediabot 0.1.0 (kernel); 2 plugins enabled:"
    # Handed to the app in-process (as tests do): no installed distribution behind them.
    assert sorted(lines[1:]) == ["films: ops_kit local · third-party · in-process · running",
                                 "ops: mediabot_ops local · third-party · in-process · running"]


async def test_cache_stats_is_the_quick_summary_and_points_to_cache_analyze(ops_bot, redis_factory):
    server = redis_factory()  # its own Redis: DBSIZE counts every prefix
    bot = await ops_bot(env={"MEDIABOT_REDIS_URL": server.url})
    films = bot.app.storage("films")
    for i in range(1200):
        await bot.app.redis.set(films.key("cache", "v2", i), "x")
    text = (await bot.send("/cache_stats", user=ADMIN)).last.text
    shown = int(re.search(r"Keys in this database: ([\d,]+) \(all prefixes\)", text)[1].replace(",", ""))
    # The films keys, plus the kernel's few (rate limits, sightings) written around the command.
    assert 1200 <= shown <= await bot.app.redis.dbsize() <= 1210
    assert text.startswith("Redis: ") and "Hit rate: " in text
    assert text.endswith("/cache_analyze shows keys and memory per namespace and plugin.")


async def test_restart_by_the_owner_stops_the_app_gracefully(ops_bot, monkeypatch):
    bot = await ops_bot()
    stops: list[bool] = []
    monkeypatch.setattr(bot.app, "request_stop", lambda: stops.append(True))
    reply = (await bot.send("/restart", user=OWNER)).last.text
    assert reply.startswith("Restarting: in-flight work finishes")
    assert stops == [True]  # what SIGTERM does: `mediabot run` drains, exits 0, the supervisor starts it


@pytest.mark.parametrize("command", ["/update v2", "/rollback", "/releases"])
async def test_update_commands_say_updates_are_off_without_a_releases_dir(ops_bot, command):
    bot = await ops_bot()
    assert (await bot.send(command, user=OWNER)).texts == [OFF]


@pytest.mark.parametrize("tag", ["--upload-pack=x", "../v1", ".v1"])
async def test_update_refuses_a_tag_that_could_be_an_option_or_a_path(ops_bot, tag):
    bot = await ops_bot()
    reply = (await bot.send(f"/update {tag}", user=OWNER)).last.text
    assert reply.startswith("TAG is a release tag")


def _reap(pid: int) -> None:
    """Wait for the updater the bot started (it is this test process's child)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        time.sleep(0.05)
    raise AssertionError(f"updater pid {pid} did not finish")


async def test_owner_update_starts_the_updater_which_refuses_an_unsigned_tag(ops_bot, tmp_path: Path):
    dep = make_deployment(tmp_path)
    table = dep.config.read_text().split("[plugins.ops]\n", 1)[1]
    bot = await ops_bot("[plugins.ops]\n" + table.replace(f'listen = "127.0.0.1:{dep.port}"', 'listen = ""'),
                        env={"PATH": os.environ["PATH"], "HOME": dep.env["HOME"]})
    reply = (await bot.send("/update unsigned", user=OWNER)).last.text
    pid = int(re.search(r"updater \(pid (\d+)\)", reply)[1])
    assert reply.startswith("Updating to unsigned: the updater (pid ")
    _reap(pid)
    audit = bot.app.data_dir / "plugins" / "ops" / "audit.jsonl"
    wait_for(audit.exists, "the audit log")
    steps = audit.read_text()
    assert '"step":"verify","outcome":"refused","tag":"unsigned","detail":"unsigned is not signed' in steps
    assert f'"by":"telegram:{OWNER}"' in steps
    assert not (dep.releases / "current").exists()
    assert not (dep.releases / "releases").exists() or list((dep.releases / "releases").iterdir()) == []
    shown = (await bot.send("/releases", user=ADMIN)).last.text.splitlines()
    assert shown[:3] == ["Current: none", "History: none", "Installed: none"]
    assert any("update verify refused unsigned — unsigned is not signed" in line for line in shown)


async def test_the_owner_hears_how_an_update_ended_from_one_process_of_the_deployment(make_bot, tmp_path: Path):
    from mediabot_ops import OpsPlugin
    from mediabot_ops.releases import AuditEntry, AuditLog
    from ops_kit import Films

    from mediabot.testing import FakeClock, eventually

    data = tmp_path / "data"
    config = (f'[runtime]\ndata_dir = "{data}"\n\n[plugins.ops]\nlisten = ""\nreleases_dir = "{tmp_path / "srv"}"\n'
              'update_remote = "https://example.org/bot.git"\nallowed_signers = "signers"\n')
    clock = FakeClock()
    bots = [await make_bot(plugins=[OpsPlugin, Films], config=config, owner=OWNER, clock=clock) for _ in range(2)]
    audit = AuditLog(data / "plugins" / "ops" / "audit.jsonl")

    def note(step: str, by: str, detail: str, *, action: str = "update", tag: str = "v2",
             days_ago: float = 0) -> None:
        when = AuditLog.now() if not days_ago else \
            (datetime.now(UTC) - timedelta(days=days_ago)).isoformat(timespec="seconds")
        audit.append(AuditEntry(time=when, action=action, step=step, outcome="ok", tag=tag, detail=detail, by=by))

    def told() -> list[str]:
        return [m.text for bot in bots for m in bot.fake.sent_to(OWNER)]

    # What the updater writes: steps, then the summary (`done`); also an old one, and one from the CLI.
    note("done", f"telegram:{OWNER}", "v1 is live and ready (was None).", tag="v1", days_ago=3)
    note("switch", f"telegram:{OWNER}", "current -> releases/v2 (was v1)")
    note("done", "cli", "v2 is live and ready (was v1).")
    note("done", f"telegram:{OWNER}", "v2 is live and ready (was v1).")
    await eventually(told, what="the owner to be told")
    note("done", f"telegram:{OWNER}", "Rolled back to v1 (was v2); ready.", action="rollback", tag="v1")
    await eventually(told, check=lambda t: len(t) == 2, what="the rollback's outcome too")
    await clock.sleep(60)  # both processes look at the log several times more

    assert sorted(told()) == ["/rollback: Rolled back to v1 (was v2); ready.",
                              "/update v2: v2 is live and ready (was v1)."]


async def test_rollback_with_no_history_says_so_without_announcing_a_rollback(ops_bot, tmp_path: Path):
    dep = make_deployment(tmp_path)
    table = dep.config.read_text().split("[plugins.ops]\n", 1)[1]
    bot = await ops_bot("[plugins.ops]\n" + table.replace(f'listen = "127.0.0.1:{dep.port}"', 'listen = ""'),
                        env={"PATH": os.environ["PATH"], "HOME": dep.env["HOME"]})
    replies = await bot.send("/rollback", user=OWNER)
    assert replies.texts == ["There is no previous release to go back to: /releases shows the history."]
    assert not (bot.app.data_dir / "plugins" / "ops" / "updater.log").exists()  # no updater was started


def _as_bot_config(dep, *, build: str | None = None) -> str:
    table = dep.config.read_text().split("[plugins.ops]\n", 1)[1]
    table = table.replace(f'listen = "127.0.0.1:{dep.port}"', 'listen = ""')
    if build is not None:
        table = table.replace("build_command = ", f"build_command = {build}\n# was: ", 1)
    return "[plugins.ops]\n" + table


def _installed(dep, *tags: str, current: str) -> None:
    """What earlier updates left: release directories, `current`, the history."""
    for tag in tags:
        (dep.releases / "releases" / tag).mkdir(parents=True, exist_ok=True)
    os.symlink(Path("releases") / current, dep.releases / "current")
    (dep.releases / "history.json").write_text('["' + '", "'.join(tags) + '"]')


async def test_update_to_an_older_tag_asks_the_owner_to_confirm_the_downgrade(ops_bot, tmp_path: Path):
    dep = make_deployment(tmp_path)
    _installed(dep, "v2", "v4", current="v4")
    # A build that fails: the updater stops after verifying and recording the downgrade (no restart here).
    bot = await ops_bot(_as_bot_config(dep, build='["false"]'),
                        env={"PATH": os.environ["PATH"], "HOME": dep.env["HOME"]})
    asked = (await bot.send("/update v1", user=OWNER)).last
    assert asked.text == "v1 is older than the current release v4. Downgrade to v1?"
    assert not (bot.app.data_dir / "plugins" / "ops" / "updater.log").exists()  # nothing started yet
    assert (await bot.press(asked, "Cancel", user=OWNER)).texts == ["Nothing changed."]

    asked = (await bot.send("/update v1", user=OWNER)).last
    reply = (await bot.press(asked, "Downgrade to v1", user=OWNER)).last.text
    assert reply.startswith("Downgrading to v1: the updater (pid ")
    _reap(int(re.search(r"updater \(pid (\d+)\)", reply)[1]))
    audit = (bot.app.data_dir / "plugins" / "ops" / "audit.jsonl").read_text()
    assert (f'"step":"downgrade","outcome":"ok","tag":"v1","detail":"downgrade from v4 to v1 (by version), '
            f'confirmed by telegram:{OWNER}"') in audit
    assert os.readlink(dep.releases / "current") == "releases/v4"


async def test_update_with_allow_downgrade_starts_the_downgrade_at_once(ops_bot, tmp_path: Path):
    dep = make_deployment(tmp_path)
    _installed(dep, "v2", "v4", current="v4")
    bot = await ops_bot(_as_bot_config(dep, build='["false"]'),
                        env={"PATH": os.environ["PATH"], "HOME": dep.env["HOME"]})
    reply = (await bot.send("/update v1 --allow-downgrade", user=OWNER)).last.text
    assert reply.startswith("Downgrading to v1: the updater (pid ")
    _reap(int(re.search(r"updater \(pid (\d+)\)", reply)[1]))
    audit = (bot.app.data_dir / "plugins" / "ops" / "audit.jsonl").read_text()
    assert '"step":"downgrade","outcome":"ok","tag":"v1"' in audit


async def test_a_bot_starting_on_the_release_of_an_interrupted_update_has_it_finished(ops_bot, tmp_path: Path):
    from mediabot_ops.releases import Pending, ReleaseStore

    from mediabot.testing import eventually

    dep = make_deployment(tmp_path)
    _installed(dep, "v1", "v2", current="v2")
    # What an updater killed while waiting for v2 to get ready leaves.
    ReleaseStore(dep.releases).set_pending(Pending(tag="v2", previous="v1", history=["v1"], pid=999999, by="cli"))
    bot = await ops_bot(_as_bot_config(dep), env={"PATH": os.environ["PATH"], "HOME": dep.env["HOME"]})
    line = next(line for line in bot.plugin("ops").ring.tail(50) if "an update was left unconcluded" in line)
    _reap(int(re.search(r"the updater \(pid (\d+)\)", line)[1]))
    audit = bot.app.data_dir / "plugins" / "ops" / "audit.jsonl"
    await eventually(lambda: audit.exists() and "recover" in audit.read_text(), what="the recovery's steps")
    assert '"action":"recover","step":"done","outcome":"ok","tag":"v2","detail":"The interrupted update to v2 ' \
           'is complete: v2 is live and ready."' in audit.read_text()
    assert ReleaseStore(dep.releases).pending() is None
