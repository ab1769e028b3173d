"""mediabot-search: indexed media search for Telegram users."""

from __future__ import annotations

import msgspec

from mediabot import PluginContext, PluginMeta


class SearchConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings of ``[plugins.search]``.

    :param page_size: results per page of the result keyboard (1-50).
    :param max_results: most results a query can return across all pages.
    :param min_query_length: shorter queries get a hint instead of a search.
    :param cache_ttl: seconds a cached result page lives in Redis.
    :param invalidation_interval: at most one cache version bump per this many seconds, however fast files are indexed.
    :param inline: answer inline queries (``@bot query`` in any chat).
    :param send_all: offer a "send all" button (subject to the quota plugin when enabled).
    """

    page_size: int = 10
    max_results: int = 500
    min_query_length: int = 2
    cache_ttl: float = 600.0
    invalidation_interval: float = 5.0
    inline: bool = True
    send_all: bool = True


class SearchPlugin:
    meta = PluginMeta(
        name="search",
        description="Indexed media search: ranked results, pagination, result cache, inline mode.",
        config=SearchConfig,
        needs=("redis", "mongo"),
    )

    def __init__(self, ctx: PluginContext) -> None:
        self.config: SearchConfig = ctx.config
        self.log = ctx.log
