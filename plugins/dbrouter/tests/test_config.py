"""``[plugins.dbrouter]`` mistakes that ``mediabot config check`` reports before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from mediabot_dbrouter.build import build_router
from mediabot_dbrouter.config import DatabaseEntry, DbRouterConfig, check_uri

from mediabot import ConfigError
from mediabot.core.config import RawConfig, validate_table


def entries(*rows: tuple[str, str, str]) -> str:
    return "[plugins.dbrouter]\nenabled = true\n" + "".join(
        f'[[plugins.dbrouter.databases]]\nname = "{n}"\nuri_env = "{env}"\ndatabase = "{db}"\n' for n, env, db in rows)


def config_check(tmp_path: Path, text: str, **env: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "plugins.toml"
    path.write_text(text)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIABOT", "DB_"))}
    return subprocess.run([sys.executable, "-m", "mediabot", "config", "check", "--dev", "--config", str(path)],
                          capture_output=True, text=True, env={**clean, **env}, timeout=60)


def test_two_entries_for_one_database_fail_config_check_naming_the_second(tmp_path):
    result = config_check(tmp_path, entries(("a", "DB_A_URI", "cat"), ("b", "DB_B_URI", "cat"),
                                            ("c", "DB_A_URI", "cat")))
    assert result.returncode == 2
    path = tmp_path / "plugins.toml"
    assert result.stderr.strip() == (
        f"error: {path}: plugins.dbrouter.databases[2].database: databases 'a' and 'c' are the same database "
        f"('cat' at the URI in DB_A_URI) (list every database once; give another database a different "
        f"database name or URI variable)")


def test_one_server_and_database_behind_two_variables_fails_config_check(tmp_path):
    result = config_check(tmp_path, entries(("a", "DB_A_URI", "cat"), ("b", "DB_B_URI", "cat")),
                          DB_A_URI="mongodb://bot:s3cret@db1.example:27017,db2.example:27017/",
                          DB_B_URI="mongodb://other:pw2@DB2.example,db1.example/?retryWrites=true")
    assert result.returncode == 2
    assert "plugins.dbrouter.databases[1].uri_env: databases 'a' and 'b' are the same database" in result.stderr
    assert "DB_A_URI and DB_B_URI" in result.stderr


def test_the_same_server_with_two_database_names_is_two_databases(tmp_path):
    result = config_check(tmp_path, entries(("a", "DB_A_URI", "cat1"), ("b", "DB_A_URI", "cat2")),
                          DB_A_URI="mongodb://db1.example:27017/")
    assert result.returncode == 0, result.stderr


def test_a_malformed_uri_fails_config_check_naming_the_variable_and_never_the_password(tmp_path):
    result = config_check(tmp_path, entries(("a", "DB_A_URI", "cat"), ("b", "DB_B_URI", "cat")),
                          DB_A_URI="mongodb://db1.example:27017/", DB_B_URI="mongodb://bot:s3cret@db2.example:99999/")
    assert result.returncode == 2
    err = result.stderr.strip()
    assert err.startswith(f"error: {tmp_path / 'plugins.toml'}: plugins.dbrouter.databases[1].uri_env: "
                          "environment variable DB_B_URI (URI of database 'b') is not a valid MongoDB URI: Port")
    assert "export DB_B_URI=" in err and "s3cret" not in err


@pytest.mark.parametrize("uri", ["http://db1.example", "mongodb://", "mongodb://h/?journal=maybe", "mongodb://a@b@/",
                                 "mongodb+srv://h1.example,h2.example/", "mongodb+srv://c.example:27017/",
                                 "mongodb://h/?nosuchoption=1"])
def test_pymongo_refusals_are_config_errors_at_start_too(uri):
    config = DbRouterConfig(databases=[DatabaseEntry(name="a", uri_env="DB_A_URI")])
    with pytest.raises(ConfigError) as caught:
        build_router(config, {"DB_A_URI": uri})
    assert caught.value.key == "plugins.dbrouter.databases[0].uri_env"
    assert "DB_A_URI" in caught.value.message and caught.value.fix


def test_an_srv_uri_is_checked_without_a_dns_lookup():
    # The name does not exist: parse_uri would fail resolving it; the check does not ask DNS.
    assert check_uri("mongodb+srv://bot:p%40ss@cluster-a.invalid/?retryWrites=true&w=majority") == (
        "srv:cluster-a.invalid",)


@pytest.mark.parametrize(("key", "value"), [
    ("high_water", 0.0), ("high_water", 1.5), ("low_water", 1.0), ("return_after", -1.0),
    ("failure_threshold", 0), ("failure_rate", 1.5), ("window", 0), ("minimum_calls", 0), ("open_seconds", 0.0),
    ("half_open_trials", 0), ("close_after", 0), ("timeout_ms", 0), ("timeout_ms", 10_000_000),
    ("probe_interval", 0.0), ("capacity_refresh", 0.0), ("claim_lease", 0.0), ("reconcile_interval", 0.0),
    ("alert_interval", -5.0),
])
def test_out_of_range_settings_are_config_errors_naming_the_key(key, value):
    raw = RawConfig(path=Path("plugins.toml"), data={})
    with pytest.raises(ConfigError) as caught:
        validate_table(raw, {key: value}, DbRouterConfig, "plugins.dbrouter")
    assert (caught.value.file, caught.value.key) == ("plugins.toml", f"plugins.dbrouter.{key}")


def test_an_out_of_range_quota_names_the_database_entry():
    raw = RawConfig(path=Path("plugins.toml"), data={})
    table = {"databases": [{"name": "a", "uri_env": "DB_A_URI", "quota_mb": 0}]}
    with pytest.raises(ConfigError) as caught:
        validate_table(raw, table, DbRouterConfig, "plugins.dbrouter")
    assert caught.value.key == "plugins.dbrouter.databases[0].quota_mb"


def test_the_defaults_and_the_settings_these_tests_run_with_are_in_range(trio, kit):
    env = {f"TEST_DB_{n}": s.uri for n, s in zip("ABC", trio, strict=True)}
    raw = RawConfig(path=Path("plugins.toml"), data={}, env=env)
    validate_table(raw, {}, DbRouterConfig, "plugins.dbrouter")
    tested = msgspec.to_builtins(kit.router(trio).settings)  # built directly, so never validated
    assert validate_table(raw, tested, DbRouterConfig, "plugins.dbrouter") == kit.routers[0].settings
