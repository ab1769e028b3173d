"""``[plugins.broadcast]`` settings: out-of-range or inconsistent values fail the config check with a fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from mediabot_broadcast.config import BroadcastConfig

from mediabot import ConfigError
from mediabot.core.config import RawConfig, validate_table


@pytest.mark.parametrize("key, value, must", [
    ("rate", 0.0, "must be more than 0 (got 0)"),
    ("rate", 50_000.0, "must be at most 10000 (got 50000)"),
    ("min_rate", -1.0, "must be more than 0 (got -1)"),
    ("step_down", 1.0, "must be less than 1 (got 1)"),
    ("recover_every", 0.5, "must be at least 1 (got 0.5)"),
    ("concurrency", 0, "must be at least 1 (got 0)"),
    ("concurrency", 65, "must be at most 64 (got 65)"),
    ("window", 1001, "must be at most 1000 (got 1001)"),
    ("lease", 1.0, "must be at least 3 (got 1)"),
    ("progress_every", 0.0, "must be at least 1 (got 0)"),
    ("draft_ttl", 8 * 86_400.0, "must be at most 604800 (got 691200)"),
])
def test_an_out_of_range_setting_fails_the_config_check_naming_file_key_and_fix(key, value, must) -> None:
    raw = RawConfig(path=Path("plugins.toml"), data={})
    with pytest.raises(ConfigError) as caught:
        validate_table(raw, {key: value}, BroadcastConfig, "plugins.broadcast")
    assert (caught.value.file, caught.value.key) == ("plugins.toml", f"plugins.broadcast.{key}")
    assert caught.value.message == must
    assert caught.value.fix.startswith(f"set {key} to a value "), caught.value.fix  # the accepted range


@pytest.mark.parametrize("table, key", [
    ({"rate": 5.0, "min_rate": 10.0}, "plugins.broadcast.min_rate"),
    ({"concurrency": 8, "window": 4}, "plugins.broadcast.window"),
])
def test_settings_that_contradict_each_other_fail_the_config_check(table, key) -> None:
    raw = RawConfig(path=Path("plugins.toml"), data={})
    with pytest.raises(ConfigError) as caught:
        validate_table(raw, table, BroadcastConfig, "plugins.broadcast")
    assert caught.value.key == key and caught.value.fix


def test_the_defaults_pass_the_config_check() -> None:
    raw = RawConfig(path=Path("plugins.toml"), data={})
    assert validate_table(raw, {}, BroadcastConfig, "plugins.broadcast") == BroadcastConfig()
