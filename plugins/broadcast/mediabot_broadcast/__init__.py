"""mediabot-broadcast: an admin's message copied to every user, paced, resumable, at most once each.

Flow: an admin replies ``/broadcast [silent] [pin] [days N]`` to a message
(text, media, album, with buttons) -> a preview with the audience size and
Confirm / Cancel -> on Confirm a job copies the message to every active user
(or those seen in the last N days). ``/broadcast_status``, ``_pause``,
``_resume``, ``_cancel`` work from any process. State lives in MongoDB
(:mod:`.store`, on the kernel's jobs facility), nothing in Redis; one process
at a time runs the job under a fenced lease (:mod:`.runner`); sends use the kernel's ``bulk`` priority, so users'
replies go first. See ``docs/broadcast.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from datetime import timedelta
from typing import Any

from mediabot import (
    Callback,
    CallbackContext,
    Command,
    CommandContext,
    JobProgress,
    PluginContext,
    PluginMeta,
    UsageError,
    hookimpl,
    parse_int,
)
from mediabot_broadcast import texts
from mediabot_broadcast.config import BroadcastConfig
from mediabot_broadcast.runner import Runner
from mediabot_broadcast.store import ACTIVE, Job, JobSpec, JobStore

__all__ = ["BroadcastConfig", "BroadcastPlugin"]

_NOT_A_REPLY = "Reply /broadcast to the message you want to send to everyone."
_NONE = "No broadcast is running."
# Real seconds a graceful shutdown waits for the sends under way (a send and its
# retries); past it the runner is cancelled and its in-flight users are in doubt.
DRAIN_TIMEOUT = 5.0
# "days N" reaches back at most ten years: more is a typo (and would overflow a date).
MAX_DAYS = 3650


class BroadcastPlugin:
    meta = PluginMeta(
        name="broadcast",
        description="Admin broadcast paced near Telegram's limit; pause, resume, cancel, survives restarts.",
        config=BroadcastConfig,
        needs=("mongo",),
    )

    def __init__(self, ctx: PluginContext[BroadcastConfig]) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.log = ctx.log
        # Who this process is, in the job's ``owner`` field (for operators).
        self.owner = f"{ctx.name}-{secrets.token_hex(3)}"
        self.store: JobStore | None = None
        self.runner: Runner | None = None
        self.runner_task: asyncio.Task[Any] | None = None
        # (job id, heartbeat count) at the last look: an owner is dead only when
        # its lease ran out *and* it missed every heartbeat between two looks.
        self._last_beat: tuple[str, int] | None = None
        ctx.storage.declare_index("deliveries", [("job", 1), ("status", 1)], name="job_status")
        self._progress_edits = JobProgress(ctx.app, self.config.progress_every)

    # -- lifecycle -------------------------------------------------------------------
    @hookimpl
    def mediabot_startup(self) -> None:
        self.store = JobStore(self.ctx.jobs, self.ctx.storage.collection, self._now)
        self.ctx.spawn_loop(self._watch, name="watch")

    @hookimpl
    def mediabot_cli(self, cli: Any, config: Any) -> None:
        from mediabot_broadcast.cli import broadcast_group

        cli.add_command(broadcast_group(config))

    @hookimpl
    async def mediabot_shutdown(self) -> None:
        task, runner = self.runner_task, self.runner
        if task is None or runner is None or task.done():
            return
        # Let the sends under way finish and give every other claimed user back, so a
        # restart leaves nobody in doubt; cancel (as a crash would) only if that stalls.
        runner.drain()
        try:
            await asyncio.wait_for(asyncio.shield(task), DRAIN_TIMEOUT)
        except TimeoutError:
            task.cancel()
        except Exception:  # noqa: BLE001 - a runner that failed has stopped all the same
            pass
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        # Hand the job over at once instead of after the lease runs out.
        with contextlib.suppress(Exception):
            await self._store.release_lease(runner.job.id, runner.token)

    @property
    def _store(self) -> JobStore:
        assert self.store is not None, "used before startup"
        return self.store

    @property
    def running_here(self) -> bool:
        return self.runner_task is not None and not self.runner_task.done()

    async def _watch(self) -> None:
        """Find a job nobody runs (its owner died, or it was resumed) and run it."""
        at_start = True
        while True:
            try:
                await self._adopt(at_start)
            except Exception as exc:  # noqa: BLE001 - MongoDB away: try again next round
                self.log.warning("broadcast watch failed: %s: %s", type(exc).__name__, exc)
            at_start = False
            # The clock's sleep also stops a loop whose cancel a client timeout swallowed.
            await self.ctx.clock.sleep(self.config.lease / 2)

    async def _adopt(self, at_start: bool) -> None:
        if self.running_here:
            return
        job = await self._store.load()
        if job is None:
            return
        seen, self._last_beat = self._last_beat, (job.id, job.beat)
        if job.lease_live(self._now()):
            return
        if job.state == "cancelled" and not job.reported:
            if seen == (job.id, job.beat):
                # Cancelled while its owner was dead (or stalled): nobody else will report it.
                # Fence the owner out first, so the report's counts are the final ones.
                token, _ = await self._store.acquire(job.id, self.owner, self.config.lease,
                                                     job.beat, state="cancelled")
                if token >= 0:
                    await self._report(job.id)
            return
        if job.report_due(self._now()):
            # Finished, but its owner died before the report went out.
            await self._report(job.id)
            return
        if job.state != "running":
            return
        orphan = job.fence > 0  # someone held it before: it was interrupted
        # A lease handed over (shutdown, pause) reads 0 and is taken at once;
        # one that merely ran out is taken once its owner also missed a look.
        handed_over = job.lease_until == 0
        if orphan and not handed_over and seen != (job.id, job.beat):
            return
        if orphan and at_start and self.config.on_restart == "wait":
            before = await self._store.transition(job.id, ("running",), "paused", "restart")
            if before == "running":
                await self._tell(job.spec.admin, f"Broadcast {job.id} was interrupted at "
                                 f"{job.processed}/{job.spec.audience}. /broadcast_resume to continue.")
            return
        await self._run(job, resumed=orphan, beat=None if handed_over else job.beat)

    async def _run(self, job: Job, *, resumed: bool, beat: int | None = None) -> bool:
        token, doubt = await self._store.acquire(job.id, self.owner, self.config.lease, beat)
        if token < 0:
            return False
        job = await self._store.load() or job
        if resumed:
            note = f" {doubt} users were in flight and are not sent it again." if doubt else ""
            await self._tell(job.spec.admin, f"Broadcast {job.id} resumed at {job.processed}/"
                             f"{job.spec.audience}.{note}")
        self.runner = Runner(self.ctx.app, self._store, self.config, job, token, on_progress=self._progress)
        self.runner_task = self.ctx.spawn(self._drive(self.runner), name=f"job-{job.id}")
        return True

    async def _drive(self, runner: Runner) -> None:
        job_id = runner.job.id
        try:
            outcome = await runner.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            # Redis or MongoDB failed under us: stop here; the lease runs out and
            # the job is taken over (by this process too) without re-sending.
            self.log.exception("broadcast %s: runner failed; it will be taken over", job_id)
            return
        store = self._store
        if outcome == "done":
            # The last word on who was served comes from the deliveries (earlier owners' too).
            await store.close_books(job_id, runner.token)
        elif outcome not in ("fenced", "gone"):
            # Still ours: the counts told next (report, pause count, status) are the deliveries'.
            await store.recount(job_id, runner.token)
        if outcome == "done":
            before = await store.transition(job_id, ("running",), "done")
            if before == "paused":
                # Paused while its last sends finished: it stays paused (a resume ends it),
                # and the admin hears what a pause says, not a final report.
                await store.release_lease(job_id, runner.token)
                await self._paused(job_id)
                return
        elif outcome in ("source_gone", "unauthorized"):
            await store.transition(job_id, ("running", "paused"), "failed", outcome)
        elif outcome in ("paused", "fenced", "gone", "shutdown"):
            if outcome == "paused":
                await store.release_lease(job_id, runner.token)
                await self._paused(job_id)
            return
        await self._report(job_id)

    # -- commands --------------------------------------------------------------------
    @hookimpl
    def mediabot_commands(self) -> list[Command]:
        admin: dict[str, Any] = {"role": "admin", "scopes": ("private",)}
        return [
            Command(name="broadcast", description="Send the replied message to all users",
                    usage="[silent] [pin] [days N]", handler=self.broadcast, **admin),
            Command(name="broadcast_status", description="Progress of the broadcast", handler=self.status, **admin),
            Command(name="broadcast_pause", description="Pause the broadcast", handler=self.pause, **admin),
            Command(name="broadcast_resume", description="Resume the broadcast", handler=self.resume, **admin),
            Command(name="broadcast_cancel", description="Cancel the broadcast", handler=self.cancel, **admin),
        ]

    @hookimpl
    def mediabot_callbacks(self) -> list[Callback]:
        return [Callback("broadcast.go", self.confirm, role="admin"),
                Callback("broadcast.drop", self.drop, role="admin")]

    async def broadcast(self, ctx: CommandContext) -> None:
        source = ctx.message.reply_to_message_id
        if not source:
            await ctx.reply(_NOT_A_REPLY)
            return
        silent, pin, days = _options(ctx.argv)
        job = await self._store.load()
        if job is not None and job.active:
            await ctx.reply(f"Broadcast {job.id} is {job.state}; one at a time.\n"
                            "/broadcast_status, /broadcast_cancel")
            return
        assert ctx.chat is not None
        album = await ctx.app.telegram.album(ctx.chat.id, source)
        if not album:
            await ctx.reply("That message is gone; reply /broadcast to one that exists.")
            return
        since = ctx.app.clock.wall() - timedelta(days=days) if days else None
        # Sightings are written in batches: flushed first, whoever wrote a moment
        # ago (the admin too) is in the count, as they will be in the audience.
        await ctx.app.users.flush()
        audience = await ctx.app.users.count_active(seen_since=since)
        spec = JobSpec(chat_id=ctx.chat.id, message_id=source, album=len(album) if len(album) > 1 else 0,
                       silent=silent, pin=pin, days=days, admin=ctx.user.id, audience=audience)
        draft = await self._store.save_draft(spec, self.config.draft_ttl)
        await ctx.reply(texts.preview(spec), keyboard=[[ctx.button("Confirm", "broadcast.go", draft),
                                                        ctx.button("Cancel", "broadcast.drop", draft)]])

    async def confirm(self, ctx: CallbackContext) -> None:
        spec = await self._store.take_draft(ctx.args[0])
        if spec is None:
            await ctx.edit("This preview has expired; send /broadcast again.")
            return
        job_id = await self._store.create(spec)
        if job_id is None:
            job = await self._store.load()
            await ctx.edit(f"Not started: broadcast {job.id if job else '?'} is already running.")
            return
        await ctx.edit(f"Broadcast {job_id} started: 0/{spec.audience}.")
        if ctx.message is not None:
            await self._store.set_progress_message(job_id, ctx.message.id)
        job = await self._store.load()
        if job is not None and job.id == job_id and not self.running_here:
            await self._run(job, resumed=False)
        await ctx.answer("Started")

    async def drop(self, ctx: CallbackContext) -> None:
        await self._store.drop_draft(ctx.args[0])
        await ctx.edit("Broadcast cancelled; nothing was sent.")

    async def status(self, ctx: CommandContext) -> None:
        job = await self._store.load()
        if job is None:
            await ctx.reply(_NONE)
            return
        await ctx.reply(texts.progress(job, self._now()) if job.active else texts.report(job, self._now()))

    async def pause(self, ctx: CommandContext) -> None:
        job = await self._active_job(ctx)
        if job is None:
            return
        before = await self._store.transition(job.id, ("running",), "paused", "by an admin")
        if before != "running":
            await ctx.reply(f"Broadcast {job.id} is {before}, not running.")
            return
        if job.lease_live(self._now()):
            # A runner (here or in another process) held the job before the pause: it
            # finishes the sends under way, and tells the final count once it has stopped.
            who = "you" if ctx.user.id == job.spec.admin else f"admin {job.spec.admin}"
            await ctx.reply(f"Broadcast {job.id} pausing: the sends under way finish first; "
                            f"{who} will get the final count once it is paused. /broadcast_status")
            return
        # Nobody was sending: it is paused already, and this count is final.
        await ctx.reply(texts.paused(await self._store.load() or job))

    async def resume(self, ctx: CommandContext) -> None:
        job = await self._active_job(ctx)
        if job is None:
            return
        before = await self._store.transition(job.id, ("paused",), "running")
        if before != "paused":
            await ctx.reply(f"Broadcast {job.id} is {before}, not paused.")
            return
        await ctx.reply(f"Broadcast {job.id} resumed at {job.processed}/{job.spec.audience}.")
        job = await self._store.load()
        if job is not None and not self.running_here and not job.lease_live(self._now()):
            await self._run(job, resumed=False)

    async def cancel(self, ctx: CommandContext) -> None:
        job = await self._active_job(ctx)
        if job is None:
            return
        before = await self._store.transition(job.id, ACTIVE, "cancelled", "by an admin")
        if before not in ACTIVE:
            await ctx.reply(f"Broadcast {job.id} is {before}.")
            return
        await ctx.reply(f"Broadcast {job.id} cancelled.")
        if before == "paused":
            await self._report(job.id)  # no runner will: report now

    async def _active_job(self, ctx: CommandContext) -> Job | None:
        job = await self._store.load()
        if job is None or not job.active:
            await ctx.reply(_NONE)
            return None
        return job

    # -- telling the admin -------------------------------------------------------------
    async def _report(self, job_id: str) -> None:
        """Send the final report, unless it was sent or another process is sending it.

        Claimed, then sent, then marked: a process that dies in between leaves the
        claim to lapse (``lease``) and the watch loop of a live one sends it.
        """
        if not await self._store.claim_report(job_id, self.owner, self.config.lease):
            return
        job = await self._store.load()
        if job is None or job.id != job_id:
            return
        await self._show(job)
        await self._tell(job.spec.admin, texts.report(job, self._now()))
        await self._store.mark_reported(job_id)

    async def _progress(self, job: Job) -> None:
        await self._show(job)

    async def _paused(self, job_id: str) -> None:
        """The runner stopped for a pause, its sends under way recorded: tell the final count, once."""
        job = await self._store.load()
        if job is None or job.id != job_id:
            return
        await self._show(job)
        if job.state == "paused":  # not resumed while the last sends finished
            await self._tell(job.spec.admin, texts.paused(job))

    async def _show(self, job: Job) -> None:
        if job.record is not None:
            await self._progress_edits.show(job.record, texts.progress(job, self._now()), force=True)

    async def _tell(self, user_id: int, text: str) -> None:
        try:
            await self.ctx.app.telegram.send_text(user_id, text)
        except Exception as exc:  # noqa: BLE001 - the job goes on whether or not the admin hears
            self.log.warning("could not tell admin %s: %s", user_id, exc)

    def _now(self) -> float:
        return float(self.ctx.clock.wall().timestamp())


def _options(argv: list[str]) -> tuple[bool, bool, int]:
    silent = pin = False
    days = 0
    words = [w.lower() for w in argv]
    i = 0
    while i < len(words):
        word = words[i]
        if word == "silent":
            silent = True
        elif word == "pin":
            pin = True
        elif word.startswith("days="):
            days = _days(word[5:])
        elif word == "days" and i + 1 < len(words):
            i += 1
            days = _days(words[i])
        else:
            raise UsageError(f"Unknown option {argv[i]!r}.")
        i += 1
    return silent, pin, days


def _days(text: str) -> int:
    return parse_int(text, "days", minimum=1, maximum=MAX_DAYS)
