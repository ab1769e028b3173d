"""Settings of ``[plugins.dbrouter]`` (validated by the kernel from ``plugins.toml``)."""

from __future__ import annotations

from typing import Literal

import msgspec

from mediabot import ConfigError

__all__ = ["DatabaseEntry", "DbRouterConfig"]


class DatabaseEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One database of ``[[plugins.dbrouter.databases]]``.

    :param name: short name used in ``/dbstatus`` and ``/dbswitch``.
    :param uri_env: environment variable holding its URI (URIs carry passwords: never in the file).
    :param database: database name inside that server.
    :param quota_mb: size the provider allows, counted as ``dataSize + indexSize`` (MongoDB Atlas free tier: 512).
    :param role: ``write`` databases take writes in list order; ``read`` ones only serve reads; ``home`` is a dedicated home database (users, bans, the file registry) that holds no files — recommended, see docs/operations.md.
    """

    name: str
    uri_env: str
    database: str = "mediabot"
    quota_mb: float = 512.0
    role: Literal["write", "read", "home"] = "write"


class DbRouterConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings of ``[plugins.dbrouter]``.

    :param databases: the databases, in write-preference order.
    :param home: name of the database holding users, bans and the registry of which database holds each file (default: the one with ``role = "home"``, else the first one).
    :param high_water: fraction of a quota after which writes move to the next database.
    :param low_water: writes move back to a preferred database only once it is below this fraction of its quota...
    :param return_after: ...and has been healthy and below ``low_water`` for this many seconds (no flapping).
    :param failure_threshold: consecutive failures that open a database's circuit breaker.
    :param failure_rate: failure rate over the last ``window`` calls that also opens it (0 turns the rate rule off).
    :param window: calls the failure rate is computed over.
    :param minimum_calls: calls recorded before the failure rate is judged.
    :param open_seconds: how long an open breaker refuses calls before half-open trials.
    :param half_open_trials: trial calls let through at a time while half-open; callers beyond them are refused at once.
    :param close_after: successful trials that close the breaker again.
    :param durable_writes: acknowledge a write only once the database has journaled it, so an acknowledged file survives a crash (MongoDB Atlas replica sets journal anyway).
    :param timeout_ms: time limit of every operation on a database, in milliseconds (a hung server counts as a failure after it).
    :param probe_interval: seconds between background pings of each database (half-open trials, return to service).
    :param capacity_refresh: seconds between background ``dbStats`` measurements of each database.
    :param claim_lease: seconds after which a file claimed for a database that never received it may be written elsewhere.
    :param reconcile_interval: seconds between background passes that settle files written while the home database was unreachable and remove stray copies left by a write that failed over mid-batch (never the last copy of a file).
    :param alert_interval: seconds between two Telegram alerts to admins about the same database and event.
    """

    databases: list[DatabaseEntry] = []
    home: str = ""
    high_water: float = 0.9
    low_water: float = 0.8
    return_after: float = 300.0
    failure_threshold: int = 5
    failure_rate: float = 0.5
    window: int = 20
    minimum_calls: int = 10
    open_seconds: float = 30.0
    half_open_trials: int = 2
    close_after: int = 2
    durable_writes: bool = True
    timeout_ms: int = 3000
    probe_interval: float = 2.0
    capacity_refresh: float = 60.0
    claim_lease: float = 120.0
    reconcile_interval: float = 10.0
    alert_interval: float = 300.0

    def validate(self) -> None:
        """What the schema cannot say: unique names, one writer at least, one home, sane marks.

        Run by the kernel when it loads ``plugins.toml`` (``mediabot config check`` too).

        :raises ConfigError: with ``key`` relative to ``[plugins.dbrouter]``.
        """
        names = [d.name for d in self.databases]
        for i, name in enumerate(names):
            if names.index(name) != i:
                raise ConfigError(f"database name {name!r} is used twice", key=f"databases[{i}].name",
                                  fix="give every database its own name")
        if names and not any(d.role == "write" for d in self.databases):
            raise ConfigError("no database takes writes", key="databases",
                              fix='set role = "write" on at least one database')
        if self.home and self.home not in names:
            raise ConfigError(f"home {self.home!r} is not a configured database", key="home",
                              fix=f"use one of: {', '.join(names) or '(none configured)'}")
        dedicated = [i for i, d in enumerate(self.databases) if d.role == "home"]
        if len(dedicated) > 1:
            raise ConfigError('more than one database has role = "home"', key=f"databases[{dedicated[1]}].role",
                              fix='keep role = "home" on one database; the others are "write" or "read"')
        if dedicated and self.home and self.home != names[dedicated[0]]:
            raise ConfigError(f'home = {self.home!r}, but {names[dedicated[0]]!r} has role = "home"', key="home",
                              fix=f"remove home, or set it to {names[dedicated[0]]!r}")
        if not 0 < self.low_water < self.high_water <= 1:
            raise ConfigError("need 0 < low_water < high_water <= 1", key="high_water",
                              fix="e.g. high_water = 0.9, low_water = 0.8")
