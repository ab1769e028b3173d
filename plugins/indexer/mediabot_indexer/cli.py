"""``mediabot index REF [FROM_ID] [TO_ID]``: queue a history job and follow its progress.

The command does not talk to Telegram itself (a second session of the bot's
token would compete with the running bot): it queues the job in the
deployment's database, where a running process with the indexer claims it
within ``job_poll`` seconds, and prints the job's progress from its
checkpoint until it ends. Interrupting the command leaves the job running.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

import click

from mediabot import MediabotError, create_app
from mediabot_indexer.jobstore import ACTIVE, Job
from mediabot_indexer.progress import describe
from mediabot_indexer.refs import MAX_MESSAGE_ID, parse_ref

__all__ = ["follow", "index_command"]

# Plugins the command needs: the indexer, and dbrouter when it provides the databases.
_NEEDED = ("indexer", "dbrouter")


def _line(job: Job) -> str:
    total = (job.to_id - job.from_id + 1) if job.to_id is not None else None
    done = max(0, job.next_id - job.from_id)
    share = f" {100 * min(done, total) // total:3d}%" if total else ""
    of = f"/{total:,}" if total is not None else ""
    return (f"job {job.id} {job.state}{share} ids {min(done, total or done):,}{of} · indexed {job.indexed:,} · "
            f"duplicates {job.duplicates:,} · skipped {job.skipped:,} · errors {job.errors:,}")


async def follow(store: Any, job_id: str, *, every: float, echo: Any, sleep: Any = asyncio.sleep,
                 show: Any = None) -> Job | None:
    """Report the job whenever it moved, until it ends; returns it as it ended.

    :param echo: prints a progress line (logs, scripts).
    :param show: instead of lines, called with the job (a terminal's progress bar).
    """
    last = ""
    while True:
        job = await store.get(job_id)
        if job is None:
            return None
        line = _line(job)
        if line != last:
            if show is not None:
                show(job)
            else:
                echo(line)
            last = line
        if job.state not in ACTIVE:
            return job
        await sleep(every)


class _Bar:
    """A ``rich`` progress bar over the job's id range, for a terminal."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar
        self._task = bar.add_task("queued", total=None)

    def __call__(self, job: Job) -> None:
        total = (job.to_id - job.from_id + 1) if job.to_id is not None else None
        done = max(0, job.next_id - job.from_id)
        self._bar.update(self._task, total=total, completed=min(done, total or done),
                         description=f"job {job.id} {job.state} · indexed {job.indexed:,} · "
                                     f"duplicates {job.duplicates:,} · errors {job.errors:,}")


def index_command(config: Any) -> click.Command:
    @click.command("index")
    @click.argument("ref")
    @click.argument("from_id", type=click.IntRange(min=1, max=MAX_MESSAGE_ID), default=1)
    @click.argument("to_id", type=click.IntRange(min=1, max=MAX_MESSAGE_ID), required=False)
    @click.option("--detach", is_flag=True, help="Queue the job and return at once.")
    @click.option("--every", type=float, default=2.0, show_default=True, help="Seconds between progress lines.")
    def index(ref: str, from_id: int, to_id: int | None, detach: bool, every: float) -> None:
        """Index the history of channel REF (t.me/c/123/55, t.me/name/55, @name or an id).

        A running bot with the indexer does the work; this command queues the
        job and shows its progress (Ctrl-C stops watching, not the job).
        Exit code 0 when the job finished, 1 when it failed or was cancelled.
        """
        parsed = parse_ref(ref)
        if parsed is None:
            raise click.BadParameter("not a channel: use t.me/c/123/55, t.me/name/55, @name or an id", param_hint="REF")
        last = to_id if to_id is not None else parsed.message_id
        if last is not None and from_id > last:
            raise click.BadParameter(f"FROM_ID ({from_id}) is after TO_ID ({last})", param_hint="FROM_ID")
        try:
            job = asyncio.run(_run(config, str(parsed), parsed.chat_id, from_id, last, detach, every))
        except MediabotError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("stopped watching; the job goes on (see /index_status)", err=True)
            sys.exit(130)
        if job is not None and job.state not in ACTIVE:
            click.echo(describe(job))
            sys.exit(0 if job.state == "done" else 1)

    return index


async def _run(config: Any, ref: str, chat_id: int | None, from_id: int, to_id: int | None,
               detach: bool, every: float) -> Job | None:
    env = dict(os.environ)
    for name, table in config.plugin_tables().items():
        if name not in _NEEDED and isinstance(table, dict) and table.get("enabled"):
            env[f"MEDIABOT__PLUGINS__{name.upper()}__ENABLED"] = "false"
    app = create_app(config.path, env=env)
    plugin = app.plugin("indexer")
    plugin.autostart = False  # only the database: the running bot does the work
    await app.start()
    try:
        assert plugin.jobs is not None
        job = await plugin.jobs.submit(ref, chat_id=chat_id, title=None, from_id=from_id, to_id=to_id)
        click.echo(f"queued job {job.id}: {ref} ids {from_id:,} to {to_id if to_id is not None else 'the newest'}; "
                   f"a running bot with the indexer starts it within "
                   f"{plugin.config.job_poll:g} s")
        if detach:
            return job
        started = time.monotonic()
        if sys.stdout.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                          TimeRemainingColumn()) as bar:
                return await follow(plugin.store, job.id, every=every, echo=click.echo, show=_Bar(bar))
        return await follow(plugin.store, job.id, every=every, echo=lambda s: click.echo(
            f"[{time.monotonic() - started:6.0f}s] {s}"))
    finally:
        await app.stop("index command done")
