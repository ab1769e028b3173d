"""mediabot-broadcast: paced, resumable admin broadcast."""

from __future__ import annotations

import msgspec

from mediabot import PluginContext, PluginMeta


class BroadcastConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings of ``[plugins.broadcast]``.

    :param rate: messages per second (kept below the kernel's global send pace).
    :param progress_every: seconds between progress updates to the admin.
    :param stale_after: a running broadcast whose heartbeat is older than this is reported stale.
    """

    rate: float = 20.0
    progress_every: float = 10.0
    stale_after: float = 120.0


class BroadcastPlugin:
    meta = PluginMeta(
        name="broadcast",
        description="Admin broadcast paced near Telegram's limit; pause, resume, cancel, survives restarts.",
        config=BroadcastConfig,
        needs=("redis", "mongo"),
    )

    def __init__(self, ctx: PluginContext) -> None:
        self.config: BroadcastConfig = ctx.config
