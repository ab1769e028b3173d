"""``mediabot health``: the deployment's health from the command line, without Telegram.

It opens what the configured deployment uses (Redis, MongoDB, the database
provider, the catalogue) with :func:`mediabot.open_app`, asks every
plugin's ``mediabot_health`` and ops' own probes, prints one line per
component, worst first, and exits 0 (ok), 1 (degraded) or 3 (down); 2 stays
"configuration error", as for every ``mediabot`` command. No plugin's
startup hook runs, so no loop starts and nothing is sent.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import click
import msgspec

from mediabot import HealthReport, PluginStartupError, open_app
from mediabot_ops.health import Snapshot, collect, exit_code, judge, render_lines

__all__ = ["health_command"]


def health_command(config: Any, default_timeout: float) -> click.Command:
    @click.command("health")
    @click.option("--timeout", type=float, default=default_timeout, show_default=True,
                  help="Seconds the checks may take before what has not answered counts as down.")
    @click.option("--json", "as_json", is_flag=True, help="Print the components as JSON.")
    def health(timeout: float, as_json: bool) -> None:
        """Probe Redis, MongoDB and every plugin's health; exit 0 ok, 1 degraded, 3 down."""
        snapshot = asyncio.run(_probe(config, timeout))
        if as_json:
            click.echo(msgspec.json.encode({"status": snapshot.status, "components": snapshot.components}).decode())
        else:
            for line in render_lines(snapshot, icons=False):
                click.echo(line)
            click.echo(f"overall: {snapshot.status}")
        sys.exit(exit_code(snapshot.status))

    return health


class _OneLine(logging.Formatter):
    """Warnings on stderr as one line each: the command's own output already says what is down."""

    def formatException(self, ei: Any) -> str:
        return ""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = ""
        return super().format(record).rstrip()


async def _probe(config: Any, timeout: float) -> Snapshot:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(_OneLine("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("mediabot")
    logger.addHandler(handler)
    try:
        return await _open_and_collect(config, timeout)
    finally:
        logger.removeHandler(handler)


async def _open_and_collect(config: Any, timeout: float) -> Snapshot:
    try:
        async with open_app(config) as app:
            return await collect(app, timeout=timeout)
    except PluginStartupError as exc:
        # The kernel could not open the deployment (MongoDB unreachable, a database
        # provider failing): that is the answer, not a crash.
        return judge([HealthReport(component=exc.plugin, status="down",
                                   detail=f"could not open: {type(exc.cause).__name__}: {_first_line(exc.cause)}")])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""
