"""The README's "Run in production" steps work as written, from an empty directory.

The exports are taken from the README itself, with made-up values where it
says ``...`` and the service addresses pointed at a closed port, so the run
gets past configuration and secrets and stops at its first network call.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
FAKE_VALUES = {
    "MEDIABOT_API_ID": "12345",
    "MEDIABOT_API_HASH": "0123456789abcdef0123456789abcdef",
    "MEDIABOT_BOT_TOKEN": "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "MEDIABOT_CALLBACK_SECRET": "a long random string shared by every process",
}
# Nothing listens on port 1: the first connection fails at once, wherever the test runs.
UNREACHABLE = {"MEDIABOT_REDIS_URL": "redis://127.0.0.1:1/0", "MEDIABOT_MONGO_URI": "mongodb://127.0.0.1:1"}


def production_steps() -> tuple[dict[str, str], list[list[str]]]:
    """The README's exports (name -> value as written) and commands of the production block."""
    text = README.read_text()
    section = text[text.index("## Run in production"):]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "no sh block under 'Run in production'"
    exports: dict[str, str] = {}
    commands: list[list[str]] = []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        if words[0] == "export":
            for assignment in words[1:]:
                name, _, value = assignment.partition("=")
                exports[name] = value
        else:
            commands.append(words)
    return exports, commands


def run_step(words: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    assert words[:3] == ["uv", "run", "mediabot"], f"unexpected step {words}"
    # `uv run mediabot X` is this environment's `python -m mediabot X`.
    return subprocess.run([sys.executable, "-m", "mediabot", *words[3:]], env=env, cwd=cwd, text=True,
                          capture_output=True, timeout=240)


def test_the_production_steps_get_past_configuration_and_stop_only_at_the_network(tmp_path):
    exports, commands = production_steps()
    assert [c[3:] for c in commands] == [["config", "check"], ["run"]]
    assert set(FAKE_VALUES) | set(UNREACHABLE) == set(exports), "the README's exports changed: update this test"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    for name, value in exports.items():
        assert value == "..." or name in UNREACHABLE, f"{name}: the README gives a real value?"
        env[name] = FAKE_VALUES.get(name) or UNREACHABLE[name]
    check = run_step(commands[0], env, tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith("OK ")
    started = run_step(commands[1], env, tmp_path)
    output = started.stdout + started.stderr
    # Exit 2 is a configuration or secret error; 1 is a failure at run time: here, the closed port.
    assert started.returncode == 1, output
    assert "127.0.0.1:1" in output and "missing" not in output.lower(), output


def test_each_documented_export_is_needed(tmp_path):
    exports, commands = production_steps()
    for dropped in ("MEDIABOT_API_ID", "MEDIABOT_API_HASH", "MEDIABOT_BOT_TOKEN", "MEDIABOT_CALLBACK_SECRET"):
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
               **{n: FAKE_VALUES.get(n) or UNREACHABLE[n] for n in exports if n != dropped}}
        check = run_step(commands[0], env, tmp_path)
        assert check.returncode == 2 and dropped in check.stdout + check.stderr, (dropped, check.stderr)
