"""mediabot-indexer: channel ingestion into the catalogue."""

from __future__ import annotations

import msgspec

from mediabot import PluginContext, PluginMeta


class IndexerConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings of ``[plugins.indexer]``.

    :param channels: channel ids whose new posts are indexed live.
    :param queue_size: in-memory queue bound; beyond it items go to the durable overflow in Redis.
    :param min_batch: smallest batch written to the catalogue.
    :param max_batch: largest batch, used when the queue is deep.
    :param checkpoint_every: history jobs save their position every this many messages.
    :param alert_queue_ratio: alert admins when the queue is this full (0-1).
    """

    channels: list[int] = []
    queue_size: int = 1000
    min_batch: int = 10
    max_batch: int = 200
    checkpoint_every: int = 100
    alert_queue_ratio: float = 0.8


class IndexerPlugin:
    meta = PluginMeta(
        name="indexer",
        description="Channel ingestion: live posts and resumable history jobs with checkpoints.",
        config=IndexerConfig,
        needs=("redis", "mongo"),
    )

    def __init__(self, ctx: PluginContext) -> None:
        self.config: IndexerConfig = ctx.config
