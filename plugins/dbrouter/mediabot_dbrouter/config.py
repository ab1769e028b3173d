"""Settings of ``[plugins.dbrouter]`` (validated by the kernel from ``plugins.toml``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from mediabot import ConfigError, check_mongo_uri

__all__ = ["DatabaseEntry", "DbRouterConfig", "check_uri"]

_Seconds = Annotated[float, msgspec.Meta(ge=0.01, le=86_400)]
_Fraction = Annotated[float, msgspec.Meta(gt=0, le=1)]


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
    quota_mb: Annotated[float, msgspec.Meta(gt=0, le=1_048_576)] = 512.0
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
    :param alert_interval: seconds between two posts (to `[bot] log_channel`, else the admins) about the same database and event, for the whole deployment.
    """

    databases: list[DatabaseEntry] = []
    home: str = ""
    high_water: _Fraction = 0.9
    low_water: Annotated[float, msgspec.Meta(gt=0, lt=1)] = 0.8
    return_after: Annotated[float, msgspec.Meta(ge=0, le=86_400)] = 300.0
    failure_threshold: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 5
    failure_rate: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.5
    window: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 20
    minimum_calls: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 10
    open_seconds: _Seconds = 30.0
    half_open_trials: Annotated[int, msgspec.Meta(ge=1, le=100)] = 2
    close_after: Annotated[int, msgspec.Meta(ge=1, le=100)] = 2
    durable_writes: bool = True
    timeout_ms: Annotated[int, msgspec.Meta(ge=100, le=600_000)] = 3000
    probe_interval: Annotated[float, msgspec.Meta(ge=0.05, le=3600)] = 2.0
    capacity_refresh: Annotated[float, msgspec.Meta(ge=1, le=86_400)] = 60.0
    claim_lease: Annotated[float, msgspec.Meta(ge=1, le=86_400)] = 120.0
    reconcile_interval: Annotated[float, msgspec.Meta(ge=0.05, le=86_400)] = 10.0
    alert_interval: Annotated[float, msgspec.Meta(ge=0, le=86_400)] = 300.0

    def validate(self, env: Mapping[str, str] | None = None) -> None:
        """What the schema cannot say: unique names and databases, one writer at least, one home,
        sane marks; and, given the environment, the URIs it sets for them.

        Run by the kernel when it loads ``plugins.toml`` (``mediabot config check`` too), with
        the environment the deployment runs with: every database's variable must be set and
        hold a valid URI, and no two may name the same database.

        :raises ConfigError: with ``key`` relative to ``[plugins.dbrouter]``.
        """
        names = [d.name for d in self.databases]
        for i, name in enumerate(names):
            if names.index(name) != i:
                raise ConfigError(f"database name {name!r} is used twice", key=f"databases[{i}].name",
                                  fix="give every database its own name")
        seen: dict[tuple[str, str], int] = {}
        for i, d in enumerate(self.databases):
            # Two entries for one database: each would take the other's files for stray
            # copies, and the reconciler could delete a file's only copy.
            first = seen.setdefault((d.uri_env, d.database), i)
            if first != i:
                raise ConfigError(f"databases {names[first]!r} and {d.name!r} are the same database "
                                  f"({d.database!r} at the URI in {d.uri_env})", key=f"databases[{i}].database",
                                  fix="list every database once; give another database a different "
                                      "database name or URI variable")
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
        if env is not None:
            self.check_environment(env)

    def check_environment(self, env: Mapping[str, str]) -> None:
        """The URIs ``env`` sets: each a valid MongoDB URI, no two naming the same database.

        Parsed with pymongo's own parser, without connecting (nor resolving ``mongodb+srv``
        names). A variable that is not set is an error too.

        :raises ConfigError: with ``key`` relative to ``[plugins.dbrouter]`` (the ``uri_env``
            naming the variable) and the variable named in the message.
        """
        seen: dict[tuple[tuple[str, ...], str], int] = {}
        for i, d in enumerate(self.databases):
            uri = env.get(d.uri_env)
            if not uri:
                raise ConfigError(f"environment variable {d.uri_env} is not set (URI of database {d.name!r})",
                                  key=f"databases[{i}].uri_env",
                                  fix=f"export {d.uri_env}=mongodb://host:27017 (secrets live in the environment)")
            try:
                servers = check_uri(uri)
            except ValueError as exc:
                raise ConfigError(f"environment variable {d.uri_env} (URI of database {d.name!r}) is not a "
                                  f"valid MongoDB URI: {exc}", key=f"databases[{i}].uri_env",
                                  fix=f"export {d.uri_env}=mongodb+srv://user:password@host/ (or "
                                      f"mongodb://host:27017); percent-encode @ : / in the password") from None
            first = seen.setdefault((servers, d.database), i)
            if first != i:
                other = self.databases[first]
                raise ConfigError(f"databases {other.name!r} and {d.name!r} are the same database "
                                  f"({d.database!r} on the servers of {other.uri_env} and {d.uri_env})",
                                  key=f"databases[{i}].uri_env",
                                  fix="list every database once; point one of the variables at another server, "
                                      "or give one entry another database name")


# The kernel's check (pymongo's own parser, offline, never echoing a password).
check_uri = check_mongo_uri
