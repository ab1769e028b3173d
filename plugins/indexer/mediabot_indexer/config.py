"""``[plugins.indexer]``: the settings of the indexer plugin."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from mediabot import ConfigError

__all__ = ["READ_BATCH_MAX", "IndexerConfig"]

#: Telegram answers at most 200 message ids per ``get_messages`` call.
READ_BATCH_MAX = 200

#: Telegram's largest file (4 GiB, premium uploads); a larger ``min_size`` would skip every file.
MAX_FILE_SIZE = 4 * 2**30
DAY = 86_400.0

Kind = Literal["document", "video", "audio", "photo", "animation", "voice", "video_note"]


class IndexerConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings of ``[plugins.indexer]``.

    :param channels: source channels indexed live, by id (``-1001234567890``) or ``@username``. Admins add and remove sources at runtime with ``/channel_add`` and ``/channel_remove``; those changes are stored and win over this list.
    :param kinds: media kinds that become catalogue files; posts of other kinds are skipped.
    :param min_size: smallest file, in bytes, that is indexed (0: any size).
    :param buffer_capacity: most channel posts held in memory on their way to Redis (also while Redis is down); a post beyond it is dropped, recorded as a gap and re-read by the backfill.
    :param max_stream_length: most entries the Redis Stream may hold while the consumers are behind (0: no bound); beyond, posts are recorded as gaps and re-read by the backfill once the stream has room, so a long consumer outage cannot fill Redis' memory.
    :param min_batch: catalogue batch size when the queue is quiet.
    :param max_batch: catalogue batch size when the backlog is at least this deep.
    :param claim_idle: seconds after which stream entries delivered to a consumer that stopped acknowledging (a dead process) are taken over by another.
    :param backfill_interval: seconds between rounds of re-reading recorded gaps (dropped posts, holes in a channel's id sequence).
    :param sources_refresh: seconds between reloads of the source list, so a channel added in one process is indexed by all.
    :param max_jobs: history jobs this process runs at once; more wait in the queue.
    :param job_lease: seconds a process owns a history job without renewing its lease; after a crash another process takes the job over once this has passed.
    :param job_poll: seconds between looks for history jobs to start or resume (jobs left by a stopped process, paused jobs, jobs queued by the CLI).
    :param read_batch: message ids a history job reads per Telegram call (1-200).
    :param progress_interval: a job's progress message is edited at most once per this many seconds.
    :param backlog_alert: admins are alerted when this many stream entries wait to be written to the catalogue (0: never).
    :param backlog_clear: the backlog is back to normal (and admins are told) below this many entries.
    :param alert_interval: the same kind of alert is sent at most once per this many seconds (across processes).
    :param monitor_interval: seconds between checks of the backlog, the buffer and Redis for alerts and metrics.
    :param alert_to: who gets alerts: ``admins`` (``[bot] admins`` and the owner), ``owner`` or ``none``.
    """

    channels: list[int | str] = []
    kinds: list[Kind] = msgspec.field(default_factory=lambda: ["document", "video", "audio"])
    min_size: Annotated[int, msgspec.Meta(ge=0, le=MAX_FILE_SIZE)] = 0
    buffer_capacity: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 10_000
    max_stream_length: Annotated[int, msgspec.Meta(ge=0, le=1_000_000_000)] = 1_000_000
    min_batch: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 10
    max_batch: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 500
    # Shorter than a slow batch write, a live consumer's entries would be taken from it.
    claim_idle: Annotated[float, msgspec.Meta(ge=1, le=DAY)] = 60.0
    backfill_interval: Annotated[float, msgspec.Meta(ge=0.01, le=DAY)] = 30.0
    sources_refresh: Annotated[float, msgspec.Meta(ge=0.01, le=DAY)] = 60.0
    max_jobs: Annotated[int, msgspec.Meta(ge=1, le=100)] = 2
    # Renewed every third of it: below a few seconds a busy process would lose its own jobs.
    job_lease: Annotated[float, msgspec.Meta(ge=3, le=DAY)] = 120.0
    job_poll: Annotated[float, msgspec.Meta(ge=0.01, le=3600)] = 10.0
    read_batch: Annotated[int, msgspec.Meta(ge=1, le=READ_BATCH_MAX)] = READ_BATCH_MAX
    progress_interval: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 5.0
    backlog_alert: Annotated[int, msgspec.Meta(ge=0, le=1_000_000_000)] = 50_000
    backlog_clear: Annotated[int, msgspec.Meta(ge=0, le=1_000_000_000)] = 5_000
    alert_interval: Annotated[float, msgspec.Meta(ge=0, le=7 * DAY)] = 900.0
    monitor_interval: Annotated[float, msgspec.Meta(ge=0.01, le=3600)] = 10.0
    alert_to: Literal["admins", "owner", "none"] = "admins"

    def validate(self) -> None:
        for n, ref in enumerate(self.channels):
            if isinstance(ref, str) and not _looks_like_username(ref):
                raise ConfigError(f"channels[{n}] = {ref!r} is neither a channel id nor an @username",
                                  key="channels", fix='e.g. channels = [-1001234567890, "@my_channel"]')
        # Single values are bounded by the schema; these rules tie keys together.
        if self.min_batch > self.max_batch:
            raise ConfigError("min_batch must be at most max_batch", key="min_batch",
                              fix="e.g. min_batch = 10, max_batch = 500")
        if self.backlog_alert and self.backlog_clear >= self.backlog_alert:
            raise ConfigError("backlog_clear must be below backlog_alert", key="backlog_clear",
                              fix="e.g. backlog_alert = 50000, backlog_clear = 5000")
        if not self.kinds:
            raise ConfigError("kinds is empty: nothing would be indexed", key="kinds",
                              fix='e.g. kinds = ["document", "video", "audio"]')


def _looks_like_username(ref: str) -> bool:
    name = ref.removeprefix("@")
    return 4 <= len(name) <= 32 and name.replace("_", "").isalnum() and name[0].isalpha()
