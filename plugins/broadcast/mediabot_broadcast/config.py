"""Settings of ``[plugins.broadcast]``."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from mediabot import ConfigError

__all__ = ["BroadcastConfig"]

DAY = 86_400.0
# Far above Telegram's ~30/s; the bench runs a fake account at 1,000/s.
_Rate = Annotated[float, msgspec.Meta(gt=0, le=10_000)]


class BroadcastConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """Settings of ``[plugins.broadcast]``.

    :param rate: messages per second a broadcast aims at. The kernel caps it at ``[telegram] bulk_share`` of ``[telegram] global_rate`` across all processes, and replies to users always go first.
    :param min_rate: the rate never steps down below this.
    :param step_down: after a FloodWait the rate is multiplied by this (at most once per half ``recover_every``).
    :param recover_every: seconds without FloodWait after which the rate climbs back by a tenth of ``rate``.
    :param concurrency: sends in flight at once (keep it below ``[telegram] send_concurrency`` so replies find a free permit).
    :param window: users claimed but not yet settled, at most. After a crash these are counted ``unknown`` and not sent again (at most once); the window bounds how many users a crash can cost.
    :param lease: seconds the running process's lease lasts without a heartbeat (renewed every third of it); after that another process, or the next start, takes the job over.
    :param on_restart: what a process does with a job whose owner died: ``resume`` it from its cursor, or ``wait`` (paused) for an admin's ``/broadcast_resume``. The admin who started it is told either way.
    :param progress_every: seconds between edits of the progress message.
    :param draft_ttl: seconds a preview can still be confirmed.
    """

    rate: _Rate = 20.0
    min_rate: _Rate = 1.0
    step_down: Annotated[float, msgspec.Meta(gt=0, lt=1)] = 0.5
    recover_every: Annotated[float, msgspec.Meta(ge=1, le=DAY)] = 30.0
    concurrency: Annotated[int, msgspec.Meta(ge=1, le=64)] = 6
    window: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 24
    # Renewed every third of it: below a few seconds a busy process would lose its own job.
    lease: Annotated[float, msgspec.Meta(ge=3, le=DAY)] = 30.0
    on_restart: Literal["resume", "wait"] = "resume"
    progress_every: Annotated[float, msgspec.Meta(ge=1, le=3600)] = 10.0
    draft_ttl: Annotated[float, msgspec.Meta(ge=60, le=7 * DAY)] = 3600.0

    def validate(self) -> None:
        # Single values are bounded by the schema; these rules tie keys together.
        if self.min_rate > self.rate:
            raise ConfigError("min_rate must be at most rate", key="min_rate", fix="e.g. rate = 20, min_rate = 1")
        if self.window < self.concurrency:
            raise ConfigError("window must be at least concurrency: workers beyond the window would never "
                              "have a user to send to", key="window", fix="e.g. concurrency = 6, window = 24")
