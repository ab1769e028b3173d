"""``[plugins.broadcast]`` settings: out-of-range or inconsistent values fail the config check with a fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from mediabot_broadcast.config import BroadcastConfig

from mediabot import ConfigError
from mediabot.core.config import RawConfig, validate_table


@pytest.mark.parametrize("key, value, fix", [
    ("rate", 0.0, "make rate > 0"),
    ("rate", 50_000.0, "make rate <= 10000"),
    ("min_rate", -1.0, "make min_rate > 0"),
    ("step_down", 1.0, "make step_down < 1"),
    ("recover_every", 0.5, "make recover_every >= 1"),
    ("concurrency", 0, "make concurrency >= 1"),
    ("concurrency", 65, "make concurrency <= 64"),
    ("window", 1001, "make window <= 1000"),
    ("lease", 1.0, "make lease >= 3"),
    ("progress_every", 0.0, "make progress_every >= 1"),
    ("draft_ttl", 8 * 86_400.0, "make draft_ttl <= 604800"),
])
def test_an_out_of_range_setting_fails_the_config_check_naming_file_key_and_fix(key, value, fix) -> None:
    raw = RawConfig(path=Path("plugins.toml"), data={})
    with pytest.raises(ConfigError) as caught:
        validate_table(raw, {key: value}, BroadcastConfig, "plugins.broadcast")
    assert (caught.value.file, caught.value.key) == ("plugins.toml", f"plugins.broadcast.{key}")
    assert caught.value.fix.startswith(fix), caught.value.fix


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
