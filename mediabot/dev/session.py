"""A `mediabot dev` session: the app on the fake Telegram, the console's input and output, the shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import signal
import sys
from pathlib import Path
from typing import TextIO

from mediabot.core.clock import MonotonicClock
from mediabot.core.factory import create_app
from mediabot.core.telegram.gateway import Gateway
from mediabot.dev.console import USER_ID, DevConsole
from mediabot.dev.demo import seed_demo
from mediabot.dev.inputs import is_terminal, script_lines, stdin_lines, terminal_lines, terminal_output, until
from mediabot.testing.fake import FakeTelegram


def export_lines(services_env: dict[str, str], config: str | None) -> list[str]:
    """What another shell exports to reach this console's bot (``mediabot broadcast status``...)."""
    lines = [f"export {var}={shlex.quote(value)}" for var, value in sorted(services_env.items())]
    if config is not None:
        lines.append(f"export MEDIABOT_CONFIG={shlex.quote(str(Path(config).resolve()))}")
    return lines


async def run_console(*, config: str | None, demo: bool, script: TextIO | None, env: dict[str, str],
                      services_env: dict[str, str] | None = None, downloads: Path | None = None,
                      out: TextIO | None = None) -> int:
    """Run the app (on the services ``env`` points at) and the chat until the input ends; shut down.

    Returns 0, or 1 when a ``:wait-for`` timed out (a script's expected reply never came).
    """
    interactive = script is None and out is None and is_terminal()
    with terminal_output() if interactive else contextlib.nullcontext(out or sys.stdout) as shown:
        return await _session(config=config, demo=demo, script=script, env=env, interactive=interactive,
                              services_env=services_env or {}, downloads=downloads or Path("downloads"),
                              out=shown)


async def _session(*, config: str | None, demo: bool, script: TextIO | None, env: dict[str, str],
                   interactive: bool, services_env: dict[str, str], downloads: Path, out: TextIO) -> int:
    clock = MonotonicClock()
    fake = FakeTelegram(clock)
    app = create_app(config, env=env, gateway=Gateway(fake, clock=clock), clock=clock)
    await app.start()
    console = DevConsole(app, fake, out, downloads=downloads)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig_name in ("SIGINT", "SIGTERM"):
        loop.add_signal_handler(getattr(signal, sig_name), stop.set)
    try:
        out.write(f"console › {app.section('bot').name} is running with plugins: "
                  f"{', '.join(app.started) or 'none'}; you are the user (id {USER_ID}); "
                  f"type :help for the console's commands\n")
        exports = export_lines(services_env, config)
        if exports:
            # A transcript stays the same from run to run: the addresses (new ports each time) go to stderr.
            where = out if interactive else sys.stderr
            where.write("console › from another shell, reach this bot's Redis and MongoDB "
                        "(e.g. for `mediabot broadcast status`) with:\n")
            for line in exports:
                where.write(f"          {line}\n")
            where.flush()
        if demo:
            await seed_demo(app, out)
        if script is not None:
            lines = script_lines(script)
        else:
            lines = terminal_lines(lambda: f"{console.who}> ") if interactive else stdin_lines()
        async with contextlib.aclosing(lines):
            async for line in until(lines, stop):
                if not await console.handle(line):
                    break
        return 1 if console.failed else 0
    finally:
        out.write("console › shutting down\n")
        out.flush()
        await app.stop("console closed")
