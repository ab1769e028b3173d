"""What an operator is told about a wrong [plugins.ops] table."""

from __future__ import annotations

import subprocess
import sys

import pytest
from mediabot_ops import OpsPlugin
from mediabot_ops.config import OpsConfig, parse_listen, valid_tag
from mediabot_ops.deploy import ready_url

from mediabot import ConfigError


async def test_listening_beyond_loopback_without_a_token_is_a_config_error_naming_the_key(make_bot):
    with pytest.raises(ConfigError) as caught:
        await make_bot(plugins=[OpsPlugin], config='[plugins.ops]\nlisten = "0.0.0.0:9464"\n')
    message = str(caught.value)
    assert "plugins.ops.listen" in message and "MEDIABOT_OPS_TOKEN" in message


def test_mediabot_run_refuses_a_public_listen_without_a_token_before_connecting(tmp_path):
    config = tmp_path / "plugins.toml"
    config.write_text('[plugins.ops]\nenabled = true\nlisten = "10.0.0.5:9464"\n')
    env = {"PATH": "/usr/bin:/bin", "MEDIABOT_API_ID": "1", "MEDIABOT_API_HASH": "h" * 32,
           "MEDIABOT_BOT_TOKEN": "1:telegram-token", "MEDIABOT_CALLBACK_SECRET": "x" * 32}
    result = subprocess.run([sys.executable, "-m", "mediabot", "--config", str(config), "run"],
                            check=False, capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "plugins.ops.listen" in result.stderr and "MEDIABOT_OPS_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("token", [None, "a-long-random-token"])
def test_config_check_refuses_a_public_listen_without_a_token(tmp_path, token):
    config = tmp_path / "plugins.toml"
    config.write_text('[plugins.ops]\nenabled = true\nlisten = "0.0.0.0:9464"\n')
    env = {"PATH": "/usr/bin:/bin", **({"MEDIABOT_OPS_TOKEN": token} if token else {})}
    result = subprocess.run([sys.executable, "-m", "mediabot", "--config", str(config), "config", "check", "--dev"],
                            check=False, capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    if token:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 2 and "plugins.ops.listen" in result.stderr
        assert "MEDIABOT_OPS_TOKEN is not set" in result.stderr


def test_a_malformed_listen_fails_config_check_with_the_key(tmp_path):
    config = tmp_path / "plugins.toml"
    config.write_text('[plugins.ops]\nenabled = true\nlisten = "9464"\n')
    result = subprocess.run([sys.executable, "-m", "mediabot", "--config", str(config), "config", "check", "--dev"],
                            check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2
    assert "plugins.ops.listen: expected HOST:PORT" in result.stderr


@pytest.mark.parametrize(("text", "host", "port", "local"), [
    ("127.0.0.1:9464", "127.0.0.1", 9464, True),
    ("localhost:0", "localhost", 0, True),
    ("[::1]:9464", "::1", 9464, True),
    ("0.0.0.0:9464", "0.0.0.0", 9464, False),
    ("[::]:80", "::", 80, False),
    ("metrics.internal:9464", "metrics.internal", 9464, False),
])
def test_listen_addresses_and_which_are_local(text, host, port, local):
    address = parse_listen(text)
    assert (address.host, address.port, address.local) == (host, port, local)


@pytest.mark.parametrize("text", ["9464", ":9464", "::1:9464", "host:port", "host:70000"])
def test_malformed_listen_addresses_are_refused(text):
    with pytest.raises(ValueError):
        parse_listen(text)


@pytest.mark.parametrize(("table", "key", "says"), [
    ("scan_batch = 5", "[plugins.ops] scan_batch = 5", "must be at least 10 (got 5)"),
    ("ready_timeout = 0", "[plugins.ops] ready_timeout = 0", "must be at least 1 (got 0)"),
    ("step_timeout = 100000", "[plugins.ops] step_timeout = 100000", "must be at most 7200 (got 100000)"),
    ('releases_dir = "/srv/bot"', "plugins.ops.update_remote", "is needed to apply signed releases"),
    ("build_command = []", "plugins.ops.build_command", "must name a program"),
])
def test_out_of_range_and_incomplete_update_settings_fail_config_check_with_the_key(tmp_path, table, key, says):
    config = tmp_path / "plugins.toml"
    config.write_text(f"[plugins.ops]\nenabled = true\n{table}\n")
    result = subprocess.run([sys.executable, "-m", "mediabot", "--config", str(config), "config", "check", "--dev"],
                            check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2
    assert key in result.stderr and says in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("listen", "url"), [
    ("127.0.0.1:9464", "http://127.0.0.1:9464/readyz"),
    ("0.0.0.0:9464", "http://127.0.0.1:9464/readyz"),
    ("[::]:9465", "http://[::1]:9465/readyz"),
    ("127.0.0.1:0", None),
    ("", None),
])
def test_the_updater_polls_readyz_where_this_host_reaches_the_bot(listen, url):
    assert ready_url(OpsConfig(listen=listen)) == url


@pytest.mark.parametrize(("tag", "valid"), [
    ("v1.4.0", True), ("2026.11.30-rc1", True), ("v1+build.5", True),
    ("-v1", False), ("--upload-pack=x", False), (".v1", False), ("v1/../x", False), ("a..b", False),
    ("v1.lock", False), ("v1 x", False), ("", False), ("v" * 101, False),
])
def test_release_tag_names_never_read_as_options_or_paths(tag, valid):
    assert valid_tag(tag) is valid
