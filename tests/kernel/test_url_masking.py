"""Credentials in service URLs never reach the operator's terminal in clear."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

CREDENTIALS = {"MEDIABOT_API_ID": "12345", "MEDIABOT_API_HASH": "0123456789abcdef0123456789abcdef",
               "MEDIABOT_BOT_TOKEN": "12345:AAAA", "MEDIABOT_CALLBACK_SECRET": "k" * 32}


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_redis_password_given_as_a_query_parameter_is_masked_in_the_start_error(tmp_path: Path):
    (tmp_path / "plugins.toml").write_text("")
    port = _dead_port()
    url = f"redis://127.0.0.1:{port}/0?socket_connect_timeout=1&password=hunter2secret"
    result = subprocess.run([sys.executable, "-m", "mediabot", "run"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, check=False,
                            env={"PATH": "/usr/bin:/bin", **CREDENTIALS, "MEDIABOT_REDIS_URL": url})
    assert result.returncode == 1, result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: Redis at redis://127.0.0.1:{port}/0?socket_connect_timeout=1&password=*** "
                           "did not answer")
    assert "hunter2secret" not in result.stderr
