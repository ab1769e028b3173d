"""`mediabot dev` as a person runs it: at a terminal, next to another shell, and twice by mistake."""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mediabot.testing import eventually

CONFIG = '[bot]\nname = "Demo Bot"\n[plugins.broadcast]\nenabled = true\n'
ESCAPE = re.compile(r"\x1b(?:\[([0-?]*)[ -/]*([@-~])|\][^\x07]*\x07|[()][0-9A-B]|[=>78])")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MEDIABOT")}


def _dev(tmp_path: Path, *args: str) -> list[str]:
    (tmp_path / "plugins.toml").write_text(CONFIG)
    return [sys.executable, "-m", "mediabot", "dev", "--config", str(tmp_path / "plugins.toml"),
            "--data-dir", "dev", *args]


class Lines:
    """What a child process writes to a pipe, collected by a thread (the test never blocks on it)."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Lines, Lines]]:
    """A console reading a script from a pipe that stays open: running until the test closes it."""
    proc = subprocess.Popen(_dev(tmp_path, "--script", "-"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=_env())
    assert proc.stdout is not None and proc.stderr is not None and proc.stdin is not None
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        yield proc, out, err
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0, err.lines


async def _running(out: Lines) -> None:
    await eventually(lambda: any("is running with plugins" in line for line in out.lines), deadline=60,
                     what="the console's start line")


async def test_a_second_console_on_the_same_folder_names_the_first_ones_pid(tmp_path, console):
    first, out, _ = console
    await _running(out)
    second = subprocess.run(_dev(tmp_path, "--script", "-"), input="", capture_output=True, text=True,
                            cwd=tmp_path, env=_env(), timeout=60)
    assert second.returncode == 1
    assert second.stderr.splitlines() == [
        f"mediabot dev: another dev instance uses ./dev (pid {first.pid}); stop it, or give this one "
        "another folder with --data-dir DIR"]


def test_a_lock_left_by_a_killed_console_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "dev.lock").write_text(f"{dead.pid}\n")
    result = subprocess.run(_dev(tmp_path, "--script", "-"), input="/start\n", capture_output=True, text=True,
                            cwd=tmp_path, env=_env(), timeout=120)
    assert result.returncode == 0, result.stderr
    assert "user › /start" in result.stdout.splitlines()


async def test_the_printed_exports_let_another_shell_reach_the_bots_services(tmp_path, console):
    _, out, err = console
    await _running(out)
    exports = await eventually(lambda: [line.split("export ", 1)[1] for line in err.lines if "export " in line],
                               lambda found: len(found) == 3, deadline=30, what="the export lines")
    env = _env() | dict(line.split("=", 1) for line in exports)
    assert {"MEDIABOT_REDIS_URL", "MEDIABOT_MONGO_URI", "MEDIABOT_CONFIG"} <= set(env)
    status = subprocess.run([sys.executable, "-m", "mediabot", "broadcast", "status"], capture_output=True,
                            text=True, cwd=tmp_path.parent, env=env, timeout=60)
    assert status.returncode == 0, status.stderr
    assert status.stdout == "No broadcast is running.\n"


def screen(stream: str) -> str:
    """What a terminal shows after ``stream``: text, carriage returns and the cursor moves and erasures
    prompt_toolkit uses (up, down, left, right, erase below, erase line); other escapes change nothing here."""
    rows: list[list[str]] = [[]]
    row = col = 0
    pos = 0
    while pos < len(stream):
        match = ESCAPE.match(stream, pos) if stream[pos] == "\x1b" else None
        if match:
            pos = match.end()
            params, final = match.group(1) or "", match.group(2)
            n = int(params) if params.isdigit() else 1
            if final == "A":
                row = max(row - n, 0)
            elif final == "B":
                row += n
            elif final == "C":
                col += n
            elif final == "D":
                col = max(col - n, 0)
            elif final in "JK" and params in ("", "0"):  # erase from the cursor: to the end of screen, of line
                rows.extend([] for _ in range(row + 1 - len(rows)))
                del rows[row][col:]
                if final == "J":
                    del rows[row + 1:]
            continue
        char = stream[pos]
        pos += 1
        if char == "\r":
            col = 0
        elif char == "\n":
            row += 1
        elif char >= " ":
            rows.extend([] for _ in range(row + 1 - len(rows)))
            line = rows[row]
            line.extend(" " * (col + 1 - len(line)))
            line[col] = char
            col += 1
    return "\n".join("".join(line).rstrip() for line in rows).rstrip("\n")


class Terminal:
    """A pseudo-terminal the console runs in, as in tmux, and the screen it shows."""

    def __init__(self, tmp_path: Path) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        # No cursor-position request: the test is not a terminal that answers one.
        env = _env() | {"TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
        self.proc = subprocess.Popen(_dev(tmp_path), stdin=slave, stdout=slave, stderr=slave, cwd=tmp_path,
                                     env=env, start_new_session=True)
        os.close(slave)
        os.set_blocking(self.master, False)
        self.raw = b""

    def screen(self) -> str:
        try:
            while chunk := os.read(self.master, 65536):
                self.raw += chunk
        except (BlockingIOError, OSError):  # nothing more yet, or the child closed the terminal
            pass
        return screen(self.raw.decode(errors="replace"))

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())


async def test_at_a_terminal_the_prompt_stays_last_and_typing_never_mixes_with_the_bot(tmp_path):
    term = Terminal(tmp_path)
    try:
        await eventually(lambda: term.screen().endswith("user>"), deadline=60, what="the prompt")
        # A line, then the start of the next one typed while the bot is still answering.
        term.type("/start\rhalf typ")
        shown = await eventually(term.screen, lambda t: "bot › Hi Dev! I am Demo Bot." in t and t.endswith("half typ"),
                                 deadline=30, what="the answer above a prompt holding the typed text")
        lines = shown.splitlines()
        answered = lines.index("user › /start")
        # The bot's answer once, untouched; then the prompt, last, with what is being typed.
        assert lines[answered + 1:answered + 3] == ["bot › Hi Dev! I am Demo Bot.", "      Send /help to see the commands."]
        assert shown.count("Hi Dev! I am Demo Bot.") == 1
        assert lines[answered + 3:] == ["user> half typ"], lines
        term.type("\x15\x04")  # Ctrl-U clears the line, Ctrl-D ends the session
        await eventually(lambda: term.proc.poll() is not None, deadline=60, what="the console's exit")
        assert term.proc.returncode == 0
        assert "console › shutting down" in term.screen()
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
        term.proc.wait()
        os.close(term.master)
