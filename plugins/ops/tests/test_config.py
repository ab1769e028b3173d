"""What an operator is told about a wrong [plugins.ops] table."""

from __future__ import annotations

import subprocess
import sys

import pytest
from mediabot_ops import OpsPlugin
from mediabot_ops.config import parse_listen

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
