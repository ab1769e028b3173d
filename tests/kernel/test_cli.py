"""The mediabot command line as an operator uses it."""

from __future__ import annotations

import pathlib
import tomllib

BUILTIN = ["access", "broadcast", "dbrouter", "filters", "indexer", "ops", "quota", "search"]


def test_plugins_lists_the_six_builtin_plugins(run_cli, tmp_path):
    (tmp_path / "plugins.toml").write_text("[plugins.search]\nenabled = true\n")
    result = run_cli("plugins")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "DISTRIBUTION", "ENABLED", "KIND", "COMMANDS", "HOOKS"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    # The watchlist example is installed in the dev environment like a third party's package.
    assert sorted(rows) == sorted([*BUILTIN, "trending", "watchlist"])
    assert rows["watchlist"][1] == "mediabot-watchlist" and rows["watchlist"][4] == "third-party"
    for name in BUILTIN:
        assert rows[name][1] == f"mediabot-{name}" and rows[name][4] == "builtin"
    assert rows["search"][3] == "yes" and rows["quota"][3] == "no"
    # The kernel's own /start and /help are not any plugin's commands.
    assert all("/start" not in line for line in lines[1:])


def test_plugins_with_the_repositorys_config_lists_every_command_without_a_traceback(run_cli):
    # The repository's own plugins.toml, as on a fresh clone: nothing is started to list commands.
    config = pathlib.Path(__file__).parents[2] / "plugins.toml"
    result = run_cli("--config", str(config), "plugins")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "failed in" not in result.stderr, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert " /channels /channel_add /channel_remove /index /index_status /index_cancel " in rows["indexer"]
    # Routes, as [routing] order names them, after the commands.
    assert " [search.text] [search.inline] " in rows["search"]


def test_plugins_shows_a_broken_plugin_without_failing(run_cli, make_dist):
    make_dist("mb-broken", {"brokenmod": "raise ImportError('missing native lib')"},
              {"broken": "brokenmod:Plugin"})
    result = run_cli("plugins")
    assert result.returncode == 0, result.stderr
    assert "cannot import brokenmod:Plugin: ImportError: missing native lib" in result.stdout


def test_config_show_prints_effective_values_and_masks_secrets(run_cli, tmp_path):
    (tmp_path / "plugins.toml").write_text("[plugins.search]\nenabled = true\npage_size = 7\n")
    env = {"MEDIABOT_BOT_TOKEN": "123:super-secret-token", "MEDIABOT_REDIS_URL": "redis://:pw@h/0",
           "MEDIABOT__PLUGINS__SEARCH__CACHE_TTL": "42.5"}
    result = run_cli("config", "show", env=env)
    assert result.returncode == 0, result.stderr
    assert "super-secret-token" not in result.stdout and ":pw@" not in result.stdout
    assert "# MEDIABOT_BOT_TOKEN = <set>" in result.stdout
    assert "# MEDIABOT_API_ID = <MISSING>" in result.stdout
    assert "# plugins.search.cache_ttl overridden by MEDIABOT__PLUGINS__SEARCH__CACHE_TTL" in result.stdout
    shown = tomllib.loads(result.stdout)  # the output is itself valid TOML
    assert shown["plugins"]["search"]["page_size"] == 7
    assert shown["plugins"]["search"]["cache_ttl"] == 42.5
    assert shown["plugins"]["search"]["inline_page_size"] == 20  # defaults are shown too
    assert shown["runtime"]["shutdown_deadline"] == 10.0


def test_environment_override_enables_a_plugin(run_cli, tmp_path):
    (tmp_path / "plugins.toml").write_text("")
    result = run_cli("config", "check", "--dev", env={"MEDIABOT__PLUGINS__OPS__ENABLED": "true"})
    assert result.returncode == 0, result.stderr
    assert "plugins enabled in start order: ops" in result.stdout


def test_help_works_even_when_the_config_is_broken(run_cli, tmp_path):
    (tmp_path / "plugins.toml").write_text("this is not toml")
    result = run_cli("--help")
    assert result.returncode == 0
    assert "config" in result.stdout and "plugins" in result.stdout


def test_run_without_telegram_credentials_explains_what_to_set(run_cli, tmp_path):
    (tmp_path / "plugins.toml").write_text("")
    result = run_cli("run")
    assert result.returncode == 2
    assert "MEDIABOT_API_ID" in result.stderr and "Traceback" not in result.stderr
