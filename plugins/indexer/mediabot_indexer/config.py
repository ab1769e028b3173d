"""``[plugins.indexer]``: the settings of the indexer plugin."""

from __future__ import annotations

from typing import Literal

import msgspec

from mediabot import ConfigError

__all__ = ["READ_BATCH_MAX", "IndexerConfig"]

#: Telegram answers at most 200 message ids per ``get_messages`` call.
READ_BATCH_MAX = 200

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
    min_size: int = 0
    buffer_capacity: int = 10_000
    max_stream_length: int = 1_000_000
    min_batch: int = 10
    max_batch: int = 500
    claim_idle: float = 60.0
    backfill_interval: float = 30.0
    sources_refresh: float = 60.0
    max_jobs: int = 2
    job_lease: float = 120.0
    job_poll: float = 10.0
    read_batch: int = READ_BATCH_MAX
    progress_interval: float = 5.0
    backlog_alert: int = 50_000
    backlog_clear: int = 5_000
    alert_interval: float = 900.0
    monitor_interval: float = 10.0
    alert_to: Literal["admins", "owner", "none"] = "admins"

    def validate(self) -> None:
        for n, ref in enumerate(self.channels):
            if isinstance(ref, str) and not _looks_like_username(ref):
                raise ConfigError(f"channels[{n}] = {ref!r} is neither a channel id nor an @username",
                                  key="channels", fix='e.g. channels = [-1001234567890, "@my_channel"]')
        if not 1 <= self.min_batch <= self.max_batch:
            raise ConfigError("min_batch must be at least 1 and at most max_batch", key="min_batch",
                              fix="e.g. min_batch = 10, max_batch = 500")
        if not 1 <= self.read_batch <= READ_BATCH_MAX:
            raise ConfigError(f"read_batch must be between 1 and {READ_BATCH_MAX}", key="read_batch")
        if self.max_stream_length < 0:
            raise ConfigError("max_stream_length must be 0 (no bound) or more", key="max_stream_length")
        if self.buffer_capacity < 1:
            raise ConfigError("buffer_capacity must be at least 1", key="buffer_capacity")
        if self.max_jobs < 1:
            raise ConfigError("max_jobs must be at least 1", key="max_jobs")
        if self.min_size < 0:
            raise ConfigError("min_size cannot be negative", key="min_size")
        if self.backlog_alert and self.backlog_clear >= self.backlog_alert:
            raise ConfigError("backlog_clear must be below backlog_alert", key="backlog_clear",
                              fix="e.g. backlog_alert = 50000, backlog_clear = 5000")
        for key in ("claim_idle", "backfill_interval", "sources_refresh", "job_lease", "job_poll",
                    "monitor_interval"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"{key} must be positive", key=key)
        if not self.kinds:
            raise ConfigError("kinds is empty: nothing would be indexed", key="kinds",
                              fix='e.g. kinds = ["document", "video", "audio"]')


def _looks_like_username(ref: str) -> bool:
    name = ref.removeprefix("@")
    return 4 <= len(name) <= 32 and name.replace("_", "").isalnum() and name[0].isalpha()
