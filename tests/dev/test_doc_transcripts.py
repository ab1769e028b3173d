"""Every transcript in docs/dev-console.md is what the console really prints.

A transcript is a ```console block: ``$ printf 'LINES' | uv run mediabot dev ARGS``
then the output. Each runs from the repository root on a fresh data folder;
the output is compared line by line, except what differs from run to run
(latencies, call counts, database sizes).

After a change of the bot's wording: ``uv run python tests/dev/test_doc_transcripts.py --update``
rewrites the transcripts from real runs (then read the diff).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "dev-console.md"
BLOCK = re.compile(r"```console\n(.*?)```", re.S)
COMMAND = re.compile(r"^\$ printf '([^']*)' \| uv run mediabot dev (.+)$")
# What changes from run to run: latencies, call counts, sizes in MB.
VARYING = [(re.compile(r"\d+(\.\d+)? ms\b"), "N ms"), (re.compile(r"\bcalls \d+"), "calls N"),
           (re.compile(r"\d+\.\d+/(\d+) MB \(\d+%\)"), r"N/\1 MB (N%)")]


def transcripts() -> list[tuple[str, list[str]]]:
    """(command line, expected output lines) of each console block of the page."""
    found = []
    for block in BLOCK.findall(DOC.read_text()):
        command, *output = block.rstrip("\n").split("\n")
        found.append((command, output))
    return found


def run(command: str, data_dir: Path) -> list[str]:
    match = COMMAND.match(command)
    assert match, f"docs/dev-console.md: a console block must start with $ printf '…' | uv run mediabot dev …: " \
                  f"{command!r}"
    script = match.group(1).replace("\\n", "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIABOT")}
    env["MEDIABOT__PLUGINS__OPS__LISTEN"] = '"127.0.0.1:0"'  # a free port: other tests may run an ops server
    result = subprocess.run([sys.executable, "-m", "mediabot", "dev", *shlex.split(match.group(2)),
                             "--data-dir", str(data_dir)], input=script, capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=240)
    assert result.returncode == 0, result.stderr
    return result.stdout.rstrip("\n").split("\n")


def comparable(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        for pattern, replacement in VARYING:
            line = pattern.sub(replacement, line)
        out.append(line)
    return out


def test_the_page_has_transcripts():
    commands = [command for command, _ in transcripts()]
    assert len(commands) >= 2, commands
    assert all(COMMAND.match(c) for c in commands), commands


@pytest.mark.parametrize("index", range(len(transcripts())))
def test_a_documented_transcript_is_what_the_console_prints(index, tmp_path):
    command, expected = transcripts()[index]
    actual = run(command, tmp_path / "dev")
    assert comparable(actual) == comparable(expected), (
        f"docs/dev-console.md transcript {index + 1} ({command}) is stale; the console printed:\n"
        + "\n".join(actual) + "\n(`uv run python tests/dev/test_doc_transcripts.py --update` rewrites it)")


def _update() -> None:
    text = DOC.read_text()
    for command, expected in transcripts():
        with tempfile.TemporaryDirectory() as tmp:
            actual = run(command, Path(tmp) / "dev")
        if comparable(actual) != comparable(expected):
            text = text.replace("\n".join([command, *expected]) + "\n", "\n".join([command, *actual]) + "\n", 1)
            print(f"updated: {command}")
    DOC.write_text(text)


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/dev/test_doc_transcripts.py --update")
    _update()
