"""``mediabot search reindex``: rebuild this host's search index from the catalogue, with progress."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

import click

from mediabot import MediabotError, PluginStartupError, create_app

__all__ = ["search_group"]

# Plugins the rebuild needs: search itself, and dbrouter when it provides the databases.
_NEEDED = ("search", "dbrouter")


class _RichProgress:
    """A ``rich`` progress bar, for a terminal."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar
        self._task = bar.add_task("indexing", total=None)

    def __call__(self, done: int, expected: int) -> None:
        self._bar.update(self._task, completed=done, total=max(expected, done) or None)


class _Progress:
    """Plain progress lines (output not a terminal: logs, scripts): at most one a second, and the last."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, done: int, expected: int) -> None:
        now = time.monotonic()
        if now - self._last < 1.0 and done < expected:
            return
        self._last = now
        share = f" ({100 * done // expected}%)" if expected else ""
        click.echo(f"indexed {done:,} of about {expected:,} files{share}")


def search_group(config: Any) -> click.Group:
    @click.group("search")
    def search() -> None:
        """The search index (search plugin)."""

    @search.command("reindex")
    def reindex() -> None:
        """Rebuild the search index of this deployment's data directory from the catalogue.

        Run it with the bot stopped (the running bot holds the index); a bot
        also rebuilds by itself when its index is missing, damaged or behind.
        """
        try:
            count, seconds = asyncio.run(_reindex(config))
        except PluginStartupError as exc:
            click.echo(f"error: {exc}", err=True)
            click.echo("hint: is the bot running on this data directory? Stop it first: "
                       "it rebuilds by itself when its index is missing or behind.", err=True)
            sys.exit(1)
        except MediabotError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        click.echo(f"search index rebuilt: {count:,} files in {seconds:.1f} s")

    return search


async def _reindex(config: Any) -> tuple[int, float]:
    env = dict(os.environ)
    for name, table in config.plugin_tables().items():
        # Only what the rebuild needs starts: no Telegram, no indexer, no HTTP server.
        if name not in _NEEDED and isinstance(table, dict) and table.get("enabled"):
            env[f"MEDIABOT__PLUGINS__{name.upper()}__ENABLED"] = "false"
    app = create_app(config.path, env=env)
    plugin = app.plugin("search")
    plugin.autostart = False  # this command rebuilds; the plugin must not start one of its own
    await app.start()
    try:
        started = time.monotonic()
        reason = "requested with `mediabot search reindex`"
        if sys.stdout.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                          TimeRemainingColumn()) as bar:
                count = await plugin.keeper.rebuild(reason, progress=_RichProgress(bar))
        else:
            count = await plugin.keeper.rebuild(reason, progress=_Progress())
        return count, time.monotonic() - started
    finally:
        await app.stop("reindex done")
