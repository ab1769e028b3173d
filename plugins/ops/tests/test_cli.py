"""``mediabot health`` as an operator (or a cron job, or a supervisor) runs it: against the running
bot (what it reports), and ``--offline`` (what an unstarted release can check)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = """\
[mongo]
timeout_ms = 1000

[redis]
socket_timeout = 0.3

[plugins.ops]
enabled = true
probe_timeout = 2.0
"""


@pytest.fixture
def services_env(redis_url: str, redis_prefix: str, mongo_uri: str, mongo_db_name: str) -> dict[str, str]:
    return {"MEDIABOT_REDIS_URL": redis_url, "MEDIABOT_MONGO_URI": mongo_uri,
            "MEDIABOT__REDIS__KEY_PREFIX": redis_prefix, "MEDIABOT__MONGO__DATABASE": mongo_db_name}


@pytest.fixture
def mediabot(tmp_path: Path, redis_url: str, redis_prefix: str, mongo_uri: str, mongo_db_name: str):
    """Run ``mediabot --config <file> <args>`` against the test servers, or the URLs given."""
    config = tmp_path / "plugins.toml"
    config.write_text(CONFIG)

    def run(*args: str, redis: str = redis_url, mongo: str = mongo_uri) -> subprocess.CompletedProcess[str]:
        env = {"PATH": "/usr/bin:/bin", "MEDIABOT_REDIS_URL": redis, "MEDIABOT_MONGO_URI": mongo,
               "MEDIABOT__REDIS__KEY_PREFIX": redis_prefix, "MEDIABOT__MONGO__DATABASE": mongo_db_name}
        return subprocess.run([sys.executable, "-m", "mediabot", "--config", str(config), *args],
                              check=False, capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)

    return run


@pytest.fixture
def health(mediabot):
    """Run ``mediabot --config <file> health <args>``."""
    return lambda *args, **urls: mediabot("health", *args, **urls)


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed on exit: nothing listens there


def test_health_offline_exits_0_and_prints_each_component_when_everything_answers(health):
    result = health("--offline")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("offline check: configuration, Redis, MongoDB and plugins loading")
    assert "ok        plugins — 1 load: ops" in lines
    assert any(line.startswith("ok") and line.split()[1] == "redis" for line in lines)
    assert any(line.startswith("ok") and line.split()[1] == "mongo" for line in lines)
    assert lines[-1] == "overall: ok"


def test_health_offline_exits_3_with_mongodb_down(health):
    result = health("--offline", mongo=f"mongodb://127.0.0.1:{_dead_port()}/?directConnection=true")
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout.splitlines()[1].startswith("down")
    assert "Traceback" not in result.stderr


def test_health_offline_exits_1_with_redis_down_and_says_so_first(health):
    result = health("--offline", "--json", redis=f"redis://127.0.0.1:{_dead_port()}/0")
    assert result.returncode == 1, result.stdout + result.stderr
    shown = json.loads(result.stdout)
    assert shown["status"] == "degraded"
    assert shown["components"][0]["component"] == "redis"
    assert shown["components"][0]["status"] == "degraded"


def test_ops_plugins_shows_the_installed_distribution_and_entry_point(mediabot):
    result = mediabot("ops", "plugins")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "mediabot 0.1.0 (kernel); 1 plugins enabled:"
    assert lines[1] == "ops: mediabot-ops 0.1.0 · builtin · mediabot_ops:OpsPlugin"


def test_ops_stats_reads_the_deployment_without_telegram(mediabot):
    result = mediabot("ops", "stats")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Users: ")
    assert "Catalogue: " in result.stdout and "Uptime" not in result.stdout


def test_ops_cache_analyze_and_cleanup_dry_run_from_the_command_line(mediabot):
    analyzed = mediabot("ops", "cache-analyze")
    assert analyzed.returncode == 0, analyzed.stderr
    assert analyzed.stdout.startswith("Redis: ") and "SCAN calls" in analyzed.stdout
    dry = mediabot("ops", "cache-cleanup")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.strip() == "0 stale keys (dry run; --yes deletes them)."
    deleted = mediabot("ops", "cache-cleanup", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.strip() == "Deleted 0 stale keys."


# -- against a running bot ------------------------------------------------------------

REPOSITORY_CONFIG = Path(__file__).resolve().parents[3] / "plugins.toml"


def _builtin_plugins() -> list:
    from mediabot_broadcast import BroadcastPlugin
    from mediabot_indexer import IndexerPlugin
    from mediabot_ops import OpsPlugin
    from mediabot_quota import QuotaPlugin
    from mediabot_search import SearchPlugin

    return [SearchPlugin, QuotaPlugin, IndexerPlugin, BroadcastPlugin, OpsPlugin]


async def _mediabot_async(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """The CLI as a subprocess, awaited: the bot in this test's loop keeps answering meanwhile."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mediabot", *args, env={"PATH": "/usr/bin:/bin", **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_health_reports_what_a_running_bot_with_every_builtin_plugin_reports(
        make_bot, services_env, tmp_path):
    port = _dead_port()
    env = {**services_env, "MEDIABOT__PLUGINS__OPS__LISTEN": f"127.0.0.1:{port}"}
    bot = await make_bot(plugins=_builtin_plugins(), config=REPOSITORY_CONFIG.read_text(), env=env)
    assert sorted(bot.app.started) == ["access", "broadcast", "filters", "indexer", "ops", "quota", "search"]

    code, out, err = await _mediabot_async(env, "--config", str(REPOSITORY_CONFIG), "health")
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == f"as reported by the running bot at http://127.0.0.1:{port}/readyz"
    assert "not started" not in out
    shown = {line.split()[1] for line in lines[1:-1]}
    assert {"indexer", "search.index", "telegram", "redis", "mongo"} <= shown
    assert lines[-1] == "overall: ok"
    code, out, err = await _mediabot_async(env, "--config", str(REPOSITORY_CONFIG), "health", "--json")
    assert code == 0, out + err
    shown_json = json.loads(out)
    assert shown_json["status"] == "ok" and shown_json["source"] == lines[0]
    assert {c["component"] for c in shown_json["components"]} == shown


async def test_health_shows_the_running_bots_down_component_and_exits_3(ops_bot, services_env, tmp_path):
    from mediabot import HealthReport

    port = _dead_port()
    bot = await ops_bot(f'[plugins.ops]\nlisten = "127.0.0.1:{port}"\n')
    bot.plugin("films").health.append(HealthReport(component="films.cache", status="down", detail="gone"))
    config = tmp_path / "cli.toml"
    config.write_text(f'[plugins.ops]\nenabled = true\nlisten = "127.0.0.1:{port}"\n')
    code, out, _err = await _mediabot_async(services_env, "--config", str(config), "health")
    assert code == 3
    assert out.splitlines()[1] == "down      films.cache — gone"
    assert out.splitlines()[-1] == "overall: down"


def test_health_with_no_bot_running_says_none_answers_and_exits_3(mediabot, tmp_path):
    port = _dead_port()
    (tmp_path / "plugins.toml").write_text(CONFIG.replace("probe_timeout", f'listen = "127.0.0.1:{port}"\n'
                                                                            "probe_timeout"))
    result = mediabot("health")
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: no running bot answers at http://127.0.0.1:{port}/readyz (")
    assert "`mediabot health --offline` checks" in result.stderr
    assert "Traceback" not in result.stderr


def test_health_takes_c_like_the_kernel_commands(tmp_path, services_env):
    elsewhere = tmp_path / "conf" / "deploy.toml"
    elsewhere.parent.mkdir()
    elsewhere.write_text(CONFIG)
    cwd = tmp_path / "empty"  # no plugins.toml here: only -c says ops is enabled
    cwd.mkdir()
    for flag in ("-c", "--config"):
        result = subprocess.run([sys.executable, "-m", "mediabot", "health", flag, str(elsewhere), "--offline"],
                                check=False, capture_output=True, text=True, timeout=60, cwd=cwd,
                                env={"PATH": "/usr/bin:/bin", **services_env})
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.splitlines()[-1] == "overall: ok"
