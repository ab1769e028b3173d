"""``mediabot health`` as an operator (or a cron job, or a supervisor) runs it."""

from __future__ import annotations

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


def test_health_exits_0_and_prints_each_component_when_everything_answers(health):
    result = health()
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("ok") and line.split()[1] == "redis" for line in lines)
    assert any(line.startswith("ok") and line.split()[1] == "mongo" for line in lines)
    assert lines[-1] == "overall: ok"


def test_health_exits_3_with_mongodb_down(health):
    result = health(mongo=f"mongodb://127.0.0.1:{_dead_port()}/?directConnection=true")
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout.splitlines()[0].startswith("down")
    assert "Traceback" not in result.stderr


def test_health_exits_1_with_redis_down_and_says_so_first(health):
    result = health("--json", redis=f"redis://127.0.0.1:{_dead_port()}/0")
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
