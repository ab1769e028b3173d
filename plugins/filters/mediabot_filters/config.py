"""Settings of ``[plugins.filters]``."""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ["FiltersConfig"]


class FiltersConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings of ``[plugins.filters]``.

    :param max_per_group: filters one group (or the global scope) may hold.
    :param max_keyword_length: characters of one keyword.
    :param max_reply_length: characters of a reply's text (Telegram allows 4,096 for a text, 1,024 for a caption).
    :param group_rate: filter replies per group, e.g. ``"10/min burst 5"``; past it matching messages get no
        reply (and are not searched either).
    :param page_size: keywords per page of ``/filters``.
    :param refresh: seconds between two looks at the change signal in Redis (how soon other processes see a
        change).
    :param max_import_bytes: largest ``/import_filters`` document read.
    """

    max_per_group: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 150
    max_keyword_length: Annotated[int, msgspec.Meta(ge=1, le=200)] = 64
    max_reply_length: Annotated[int, msgspec.Meta(ge=1, le=4096)] = 4096
    group_rate: str = "10/min burst 5"
    page_size: Annotated[int, msgspec.Meta(ge=5, le=100)] = 30
    refresh: Annotated[float, msgspec.Meta(ge=0.05, le=60)] = 0.25
    max_import_bytes: Annotated[int, msgspec.Meta(ge=1024, le=20_000_000)] = 1_000_000

    def validate(self) -> None:
        from mediabot import ConfigError, Rate

        try:
            Rate.parse(self.group_rate)
        except ValueError as exc:
            raise ConfigError(str(exc), key="group_rate", fix='e.g. group_rate = "10/min burst 5"') from None
