"""mediabot-dbrouter: write routing over several MongoDB databases."""

from __future__ import annotations

from typing import Literal

import msgspec

from mediabot import PluginContext, PluginMeta


class DatabaseEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One database of ``[[plugins.dbrouter.databases]]``.

    :param name: short name used in ``/dbstatus`` and ``/dbswitch``.
    :param uri_env: environment variable holding its URI (URIs carry passwords: never in the file).
    :param database: database name inside that server.
    :param quota_mb: size the provider allows (MongoDB Atlas free tier: 512).
    :param role: ``write`` databases take writes in list order; ``read`` ones only serve reads.
    """

    name: str
    uri_env: str
    database: str = "mediabot"
    quota_mb: float = 512.0
    role: Literal["write", "read"] = "write"


class DbRouterConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings of ``[plugins.dbrouter]``.

    :param databases: the databases, in write-preference order.
    :param high_water: fraction of a quota after which writes move to the next database.
    :param failure_threshold: consecutive failures that open a database's circuit breaker.
    :param open_seconds: how long an open breaker refuses calls before half-open trials.
    :param half_open_trials: calls let through while half-open.
    :param close_after: successful trials that close the breaker again.
    :param capacity_refresh: seconds between background ``dbStats`` refreshes.
    """

    databases: list[DatabaseEntry] = []
    high_water: float = 0.9
    failure_threshold: int = 5
    open_seconds: float = 30.0
    half_open_trials: int = 2
    close_after: int = 2
    capacity_refresh: float = 60.0


class DbRouterPlugin:
    meta = PluginMeta(
        name="dbrouter",
        description="Routes catalogue writes over several MongoDB databases with breakers and failover.",
        config=DbRouterConfig,
    )

    def __init__(self, ctx: PluginContext) -> None:
        self.config: DbRouterConfig = ctx.config
