"""``mediabot broadcast status|pause|resume|cancel``: the broadcast from a shell, through its state in MongoDB.

The commands change the job's state only; the running bot's processes act on
it (a paused job stops sending within one batch, a resumed one is taken up by
the process watching for unowned jobs).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import click

from mediabot import MediabotError, open_app
from mediabot_broadcast import texts
from mediabot_broadcast.store import ACTIVE, Job, JobStore

__all__ = ["broadcast_group"]

NONE = "No broadcast is running."


def broadcast_group(config: Any) -> click.Group:
    @click.group("broadcast")
    def broadcast() -> None:
        """The admin broadcast (broadcast plugin)."""

    @broadcast.command("status")
    def status() -> None:
        """Progress of the running broadcast, or the report of the last one."""
        job = _run(config, _load)
        if job is None:
            click.echo(NONE)
            return
        click.echo(texts.progress(job, time.time()) if job.active else texts.report(job, time.time()))

    def change(name: str, from_states: tuple[str, ...], to: str, done: str, short: str, description: str) -> None:
        # help= and not a docstring set afterwards: click reads the help when the command is made.
        @broadcast.command(name, short_help=short, help=description)
        def command() -> None:
            job, before = _run(config, lambda store: _transition(store, from_states, to))
            if job is None:
                click.echo(NONE)
                sys.exit(1)
            if before not in from_states:
                click.echo(f"Broadcast {job.id} is {before}.")
                sys.exit(1)
            click.echo(f"Broadcast {job.id} {done} at {job.processed}/{job.spec.audience}.")

    change("pause", ("running",), "paused", "pausing", "Pause the running broadcast.",
           "Pause the broadcast: a running bot finishes the sends under way, then tells its admin the count.")
    change("resume", ("paused",), "running", "resumed", "Resume the paused broadcast.",
           "Resume a paused broadcast where it stopped (a running bot takes it up).")
    change("cancel", ACTIVE, "cancelled", "cancelled", "Cancel the broadcast for good.",
           "Cancel the broadcast for good: nobody else gets it; its admin gets the report.")
    return broadcast


async def _load(store: JobStore) -> Job | None:
    return await store.load()


async def _transition(store: JobStore, from_states: tuple[str, ...], to: str) -> tuple[Job | None, str | None]:
    job = await store.load()
    if job is None or not job.active:
        return None, None
    before = await store.transition(job.id, from_states, to, "from the command line")  # type: ignore[arg-type]
    return job, before


def _run(config: Any, action: Any) -> Any:
    async def run() -> Any:
        async with open_app(config) as app:
            storage = app.storage("broadcast")
            return await action(JobStore(app.jobs("broadcast"), storage.collection,
                                         lambda: float(app.clock.wall().timestamp())))

    try:
        return asyncio.run(run())
    except MediabotError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
