"""Building a router from ``[plugins.dbrouter]`` and the environment."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from pymongo import AsyncMongoClient

from mediabot import ConfigError
from mediabot_dbrouter.alerts import Alerts
from mediabot_dbrouter.breaker import CircuitBreaker
from mediabot_dbrouter.capacity import MB, Capacity
from mediabot_dbrouter.config import DbRouterConfig
from mediabot_dbrouter.member import Member
from mediabot_dbrouter.router import DatabaseRouter

__all__ = ["build_router", "check_config", "connect", "home_of"]

KEY = "plugins.dbrouter"


def check_config(config: DbRouterConfig, env: Mapping[str, str] | None = None) -> None:
    """At least one database, :meth:`DbRouterConfig.validate` and, given ``env``, the URIs it sets
    (:meth:`DbRouterConfig.check_environment`); keys made absolute."""
    if not config.databases:
        raise ConfigError("no databases configured", key=f"{KEY}.databases",
                          fix="add [[plugins.dbrouter.databases]] tables with name and uri_env")
    try:
        config.validate()
        if env is not None:
            config.check_environment(env)
    except ConfigError as exc:
        raise ConfigError(exc.message, key=f"{KEY}.{exc.key}", fix=exc.fix) from None


def home_of(config: DbRouterConfig) -> str:
    """The home database's name: ``home``, else the one with ``role = "home"``, else the first."""
    if config.home:
        return config.home
    return next((d.name for d in config.databases if d.role == "home"), config.databases[0].name)


def connect(uri: str, timeout_ms: int, **options: Any) -> AsyncMongoClient:
    """A client for one database: every operation bounded by ``timeout_ms``."""
    return AsyncMongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=timeout_ms,
                            connectTimeoutMS=timeout_ms, socketTimeoutMS=timeout_ms, timeoutMS=timeout_ms,
                            appname="mediabot-dbrouter", **options)


def build_router(config: DbRouterConfig, env: Mapping[str, str], *, alerts: Alerts | None = None,
                 metrics: Any = None, clock: Callable[[], float] = time.monotonic,
                 client_options: dict[str, Any] | None = None) -> DatabaseRouter:
    """The router for ``config``; URIs come from ``env``.

    :param client_options: extra ``AsyncMongoClient`` options (e.g. ``event_listeners``).
    :raises ConfigError: a URI variable is not set or not a valid URI, two entries are one database,
        or the settings do not hold together.
    """
    check_config(config, env)
    members = []
    for i, entry in enumerate(config.databases):
        uri = env.get(entry.uri_env)
        if not uri:
            raise ConfigError(f"environment variable {entry.uri_env} is not set (URI of database "
                              f"{entry.name!r})", key=f"{KEY}.databases[{i}].uri_env",
                              fix=f"export {entry.uri_env}=mongodb+srv://user:password@host/")
        breaker = CircuitBreaker(
            entry.name, failure_threshold=config.failure_threshold, failure_rate=config.failure_rate,
            window=config.window, minimum_calls=config.minimum_calls, open_seconds=config.open_seconds,
            half_open_trials=config.half_open_trials, close_after=config.close_after, clock=clock)
        members.append(Member(name=entry.name, client=connect(uri, config.timeout_ms, **(client_options or {})),
                              database=entry.database, role=entry.role, breaker=breaker,
                              capacity=Capacity(entry.quota_mb * MB), order=i,
                              durable=config.durable_writes))
    home_name = home_of(config)
    home = next(m for m in members if m.name == home_name)
    return DatabaseRouter(members, home=home, settings=config, alerts=alerts, metrics=metrics, clock=clock)
