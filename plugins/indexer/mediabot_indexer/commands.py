"""The indexer's admin commands: sources and history jobs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mediabot import Command, CommandContext, UsageError, parse_int
from mediabot_indexer.jobs import JobManager
from mediabot_indexer.jobstore import Job, new_job_id
from mediabot_indexer.progress import describe
from mediabot_indexer.refs import MAX_MESSAGE_ID, ChannelRef, parse_ref
from mediabot_indexer.sources import Sources

__all__ = ["IndexerCommands"]

_REF_HELP = "REF is a post link (t.me/c/1234567890/55 or t.me/name/55), @name or a channel id."


def _ref(text: str) -> ChannelRef:
    ref = parse_ref(text)
    if ref is None:
        raise UsageError(f"{text!r} is not a channel. {_REF_HELP}")
    return ref


def _message_id(text: str, what: str) -> int:
    return parse_int(text, what, minimum=1, maximum=MAX_MESSAGE_ID, what="a message id")


class IndexerCommands:
    """Handlers of ``/channels``, ``/channel_add``, ``/channel_remove``, ``/index``, ``/index_status``, ``/index_cancel``."""

    def __init__(self, app: Any, sources: Sources, jobs: Callable[[], JobManager]) -> None:
        self._app = app
        self._sources = sources
        # Resolved per call: the commands are listed (``mediabot plugins``, /help) before
        # the plugin starts and makes its job manager; they only run once it has.
        self._job_manager = jobs

    @property
    def _jobs(self) -> JobManager:
        return self._job_manager()

    def commands(self) -> list[Command]:
        return [
            Command(name="channels", description="List the channels indexed live", role="admin",
                    handler=self.channels),
            Command(name="channel_add", description="Index a channel's new posts", usage="REF", role="admin",
                    handler=self.channel_add),
            Command(name="channel_remove", description="Stop indexing a channel's new posts", usage="REF",
                    role="admin", handler=self.channel_remove),
            Command(name="index", description="Index a channel's history", usage="REF [FROM_ID] [TO_ID]",
                    role="admin", handler=self.index),
            Command(name="index_status", description="History jobs and their progress", role="admin",
                    handler=self.index_status),
            Command(name="index_cancel", description="Cancel a history job", usage="JOB", role="admin",
                    handler=self.index_cancel),
        ]

    def _wall(self) -> float:
        return self._app.clock.wall().timestamp()

    # -- sources ---------------------------------------------------------------------
    async def channels(self, ctx: CommandContext) -> None:
        sources = self._sources.list()
        if not sources:
            await ctx.reply("No channels are indexed live. Add one with /channel_add @name.")
            return
        lines = [f"Channels indexed live ({len(sources)}):"]
        for s in sources:
            name = " ".join(p for p in (s.title, f"@{s.username}" if s.username else None) if p)
            lines.append(f"• {s.chat_id} {name}".rstrip() + ("" if s.origin == "admin" else " (config)"))
        await ctx.reply("\n".join(lines))

    async def channel_add(self, ctx: CommandContext) -> None:
        ref = _ref(ctx.args)
        try:
            chat = await self._sources.resolve(ref.lookup)
        except LookupError:
            raise UsageError(f"Unknown channel: {ref}. Is the bot an admin there?") from None
        name = chat.title or chat.username or chat.id
        if chat.type != "channel":
            # Live ingestion takes channel posts only; a group's messages are its members'
            # chat, which the kernel hands to search, never to the indexer.
            await ctx.reply(f"{name} ({chat.id}) is a group, not a channel: members' uploads in a group are "
                            "not indexed live. Add the channel the files are posted in.")
            return
        added = await self._sources.add(chat, ctx.user.id, self._wall())
        await ctx.reply(f"Now indexing new posts of {name} ({chat.id})." if added
                        else f"{name} ({chat.id}) is already indexed.")

    async def channel_remove(self, ctx: CommandContext) -> None:
        ref = _ref(ctx.args)
        chat_id = ref.chat_id
        if chat_id is None:
            known = [s for s in self._sources.list() if (s.username or "").lower() == (ref.username or "").lower()]
            if known:
                chat_id = known[0].chat_id
            else:
                try:
                    chat_id = (await self._sources.resolve(ref.lookup)).id
                except LookupError:
                    raise UsageError(f"Unknown channel: {ref}.") from None
        # Named as /channel_add and /channels name it, while the source still says who it is.
        source = next((s for s in self._sources.list() if s.chat_id == chat_id), None)
        name = f"{source.title or source.username} ({chat_id})" if source and (source.title or source.username) \
            else str(chat_id)
        removed = await self._sources.remove(chat_id, ctx.user.id, self._wall())
        await ctx.reply(f"Stopped indexing new posts of {name}. Files already indexed stay." if removed
                        else f"{name} was not indexed live.")

    # -- history jobs ----------------------------------------------------------------
    async def index(self, ctx: CommandContext) -> None:
        argv = ctx.argv
        if len(argv) > 3:
            raise UsageError("Too many arguments.")
        ref = _ref(argv[0])
        from_id = _message_id(argv[1], "FROM_ID") if len(argv) > 1 else 1
        to_id = _message_id(argv[2], "TO_ID") if len(argv) > 2 else ref.message_id
        if to_id is not None and from_id > to_id:
            raise UsageError(f"FROM_ID ({from_id}) is after TO_ID ({to_id}).")
        try:
            chat = await self._sources.resolve(ref.lookup)
        except LookupError:
            raise UsageError(f"Unknown channel: {ref}. Is the bot an admin there?") from None
        job_id = new_job_id()
        last = f"{to_id:,}" if to_id is not None else "the newest post"
        first = await ctx.reply(f"Job {job_id} — {chat.title or chat.id}: ids {from_id:,} to {last}, starting.\n"
                                f"Cancel with /index_cancel {job_id}")
        await self._jobs.submit(str(ref), job_id=job_id, chat_id=chat.id, title=chat.title, from_id=from_id,
                                to_id=to_id, requested_by=ctx.user.id, report_chat=first.chat.id,
                                report_message=first.id)

    async def index_status(self, ctx: CommandContext) -> None:
        # Active first, then ended: a job that ends between the two reads is then in both
        # (never in neither), and is shown once, as ended.
        active = await self._jobs.store.active()
        recent = await self._jobs.store.recent(5)
        ended = {job.id for job in recent}
        active = [job for job in active if job.id not in ended]
        if not active and not recent:
            await ctx.reply("No history jobs. Start one with /index REF.")
            return
        parts: list[str] = []
        if active:
            parts.append("Running and waiting:")
            parts += [describe(j) + _where(j, self._jobs.owner) for j in active]
        if recent:
            parts.append("Recently ended:")
            parts += [describe(j) for j in recent]
        await ctx.reply("\n\n".join(parts))

    async def index_cancel(self, ctx: CommandContext) -> None:
        job_id = ctx.args.strip()
        job = await self._jobs.cancel(job_id)
        if job is None:
            existing = await self._jobs.store.get(job_id)
            if existing is None:
                raise UsageError(f"No job {job_id!r}; /index_status lists them.")
            await ctx.reply(f"Job {job_id} is already {existing.state}.")
            return
        await ctx.reply(f"Job {job_id} cancelled at id {job.next_id:,}; files indexed so far stay.")


def _where(job: Job, me: str) -> str:
    if job.state == "running" and job.owner:
        return "\n(running in this process)" if job.owner == me else f"\n(running in {job.owner})"
    return ""
