"""``[plugins.search]``: the settings of the search plugin."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from mediabot import ConfigError, Directory, Rate

__all__ = ["SearchConfig"]


class SearchConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings of ``[plugins.search]``.

    :param page_size: results per page of the result list in a chat (1-20).
    :param inline_page_size: results per inline answer (1-50; Telegram shows up to 50).
    :param min_query_length: a text with fewer letters or digits gets a hint instead of a search.
    :param rate: searches a user may make, e.g. ``"20/min burst 10"`` (text messages and inline queries together).
    :param groups: in groups: ``off`` (ignore), ``mention`` (search when the message mentions the bot), ``all`` (every text message is a search).
    :param skip_chatter: with ``groups = "all"``, leave alone group messages that are plainly not searches: greetings, one-word chat ("lol", "ok"), questions ("…?", "can you…"); a message that mentions the bot is always a search.
    :param quiet_misses: in groups, say nothing when a search finds nothing or is too short (a private chat always answers).
    :param inline: answer inline queries (``@bot query`` in any chat).
    :param send_all: offer "Send all on this page" under a result list.
    :param index_lag: seconds within which a catalogue change reaches this process's index (stream mode).
    :param cache_ttl: seconds a cached result page lives in Redis (0: no result cache).
    :param invalidation_interval: at most one cache version bump per this many seconds across the deployment, however fast files arrive. A new file can wait for the next bump, then for the follower's next poll (``min(0.25, index_lag / 4)``): keep the sum at most ``index_lag``.
    :param rebuild_batch: files read from the catalogue per batch while the index is rebuilt.
    :param index_dir: where this process keeps its index; empty: ``<data_dir>/plugins/search/index``. A relative path is relative to the data directory.
    :param auto_delete: moved to ``[delivery] auto_delete`` (it now covers every plugin's deliveries): set here, any value is an error naming the new key.
    """

    page_size: Annotated[int, msgspec.Meta(ge=1, le=20)] = 10
    inline_page_size: Annotated[int, msgspec.Meta(ge=1, le=50)] = 20
    min_query_length: Annotated[int, msgspec.Meta(ge=1, le=10)] = 2
    rate: str = "20/min burst 10"
    groups: Literal["off", "mention", "all"] = "mention"
    skip_chatter: bool = True
    quiet_misses: bool = True
    inline: bool = True
    send_all: bool = True
    index_lag: Annotated[float, msgspec.Meta(ge=0.05, le=60)] = 1.0
    cache_ttl: Annotated[float, msgspec.Meta(ge=0, le=86_400)] = 600.0
    invalidation_interval: Annotated[float, msgspec.Meta(ge=0.01, le=3600)] = 0.5
    rebuild_batch: Annotated[int, msgspec.Meta(ge=10, le=10_000)] = 1000
    index_dir: Directory = ""
    # Kept only to say where it went: a deployment that set it must move it, not lose it silently.
    auto_delete: float | None = None

    def validate(self) -> None:
        if self.auto_delete is not None:
            raise ConfigError("auto_delete moved to [delivery] auto_delete, where it covers every plugin's "
                              "deliveries", key="auto_delete",
                              fix=f"delete it here and write [delivery] auto_delete = {self.auto_delete:g}")
        try:
            Rate.parse(self.rate)
        except ValueError as exc:
            raise ConfigError(str(exc), key="rate", fix='e.g. rate = "20/min burst 10"') from None
