"""``[plugins.search]``: the settings of the search plugin."""

from __future__ import annotations

from typing import Literal

import msgspec

from mediabot import ConfigError

__all__ = ["SearchConfig"]


class SearchConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings of ``[plugins.search]``.

    :param page_size: results per page of the result list in a chat (1-20).
    :param inline_page_size: results per inline answer (1-50; Telegram shows up to 50).
    :param min_query_length: a text with fewer letters or digits gets a hint instead of a search.
    :param rate: searches a user may make, e.g. ``"20/min burst 10"`` (text messages and inline queries together).
    :param groups: in groups: ``off`` (ignore), ``mention`` (search when the message mentions the bot), ``all`` (every text message is a search).
    :param inline: answer inline queries (``@bot query`` in any chat).
    :param send_all: offer "Send all on this page" under a result list.
    :param index_lag: seconds within which a catalogue change reaches this process's index (stream mode).
    :param cache_ttl: seconds a cached result page lives in Redis (0: no result cache).
    :param invalidation_interval: at most one cache version bump per this many seconds across the deployment, however fast files arrive. A new file can wait for the next bump, then for the follower's next poll (``min(0.25, index_lag / 4)``): keep the sum at most ``index_lag``.
    :param rebuild_batch: files read from the catalogue per batch while the index is rebuilt.
    :param index_dir: where this process keeps its index; empty: ``<data_dir>/plugins/search/index``. A relative path is relative to the data directory.
    :param auto_delete: seconds after which files the plugin delivered are deleted from the user's chat (0: never; at most 172800, Telegram's 48 h limit for a bot deleting its messages). Needs Redis.
    """

    page_size: int = 10
    inline_page_size: int = 20
    min_query_length: int = 2
    rate: str = "20/min burst 10"
    groups: Literal["off", "mention", "all"] = "mention"
    inline: bool = True
    send_all: bool = True
    index_lag: float = 1.0
    cache_ttl: float = 600.0
    invalidation_interval: float = 0.5
    rebuild_batch: int = 1000
    index_dir: str = ""
    auto_delete: float = 0.0

    def validate(self) -> None:
        from mediabot_search.autodelete import MAX_AUTO_DELETE
        from mediabot_search.limits import parse_rate

        if not 1 <= self.page_size <= 20:
            raise ConfigError("page_size must be between 1 and 20", key="page_size", fix="e.g. page_size = 10")
        if not 1 <= self.inline_page_size <= 50:
            raise ConfigError("inline_page_size must be between 1 and 50", key="inline_page_size",
                              fix="e.g. inline_page_size = 20")
        if not 1 <= self.min_query_length <= 10:
            raise ConfigError("min_query_length must be between 1 and 10", key="min_query_length")
        try:
            parse_rate(self.rate)
        except ValueError as exc:
            raise ConfigError(str(exc), key="rate", fix='e.g. rate = "20/min burst 10"') from None
        if not 0.05 <= self.index_lag <= 60:
            raise ConfigError("index_lag must be between 0.05 and 60 seconds", key="index_lag")
        if self.cache_ttl < 0:
            raise ConfigError("cache_ttl cannot be negative", key="cache_ttl", fix="0 turns the cache off")
        if not 0 < self.invalidation_interval <= 3600:
            raise ConfigError("invalidation_interval must be above 0 and at most 3600 seconds",
                              key="invalidation_interval")
        if not 10 <= self.rebuild_batch <= 10_000:
            raise ConfigError("rebuild_batch must be between 10 and 10000", key="rebuild_batch")
        if not 0 <= self.auto_delete <= MAX_AUTO_DELETE:
            raise ConfigError(f"auto_delete must be between 0 and {MAX_AUTO_DELETE} seconds (48 h: Telegram "
                              "lets a bot delete its messages for 48 hours)", key="auto_delete",
                              fix="e.g. auto_delete = 600 (10 minutes), or 0 to keep delivered files")
