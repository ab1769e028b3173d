"""One call from a config file to an :class:`App`: load, discover, compose, build."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from mediabot.core.app import App
from mediabot.core.compose import compose
from mediabot.core.config import RawConfig, load_raw
from mediabot.core.discovery import discover


def create_app(config: str | os.PathLike[str] | RawConfig | None = None, *, env: Mapping[str, str] | None = None,
               plugins: list[Any] | None = None, enable: tuple[str, ...] = (),
               gateway: Any = None, telegram_secrets: bool = False, clock: Any = None) -> App:
    """Build an application from ``plugins.toml``.

    :param config: path of the file (default ``$MEDIABOT_CONFIG`` or ``./plugins.toml``), or a loaded
        configuration (what ``mediabot_cli`` receives).
    :param env: environment for overrides and secrets (default ``os.environ``).
    :param plugins: plugin classes to make available in-process (not installed).
    :param enable: plugin names to enable whatever the file says.
    :param clock: the app's clock (default: real time).
    :raises ConfigError: the configuration cannot be used (exit code 2 in the CLI).
    :raises PluginLoadError: a plugin cannot be imported or registered.
    """
    env = os.environ if env is None else env
    raw = config if isinstance(config, RawConfig) else load_raw(config, env)
    composition = compose(raw, discover(plugins), enable=enable)
    return App(composition, env=env, gateway=gateway, telegram_secrets=telegram_secrets, clock=clock)


@asynccontextmanager
async def open_app(config: str | os.PathLike[str] | RawConfig | None = None, *,
                   env: Mapping[str, str] | None = None, plugins: list[Any] | None = None,
                   enable: tuple[str, ...] = ()) -> AsyncIterator[App]:
    """The deployment's resources, without Telegram: for CLI subcommands and scripts.

    ``async with open_app(config) as app:`` gives an app whose Redis
    (``app.redis``), MongoDB (``app.mongo``, ``app.database``), catalogue
    (``app.files``, ``app.users``) and plugin storage (``app.storage(name)``)
    are open; no plugin's startup hook runs and nothing connects to
    Telegram. Everything is closed on exit. For scripts; a plugin's
    ``mediabot_cli`` subcommand gets the same with its own context through
    :func:`mediabot.app_command` (``@self.ctx.app_command``)::

        async with open_app("plugins.toml") as app:
            async for doc in app.storage("watchlist").collection("items").find():
                print(doc["title"])

    Arguments as for :func:`create_app`.
    """
    app = create_app(config, env=env, plugins=plugins, enable=enable)
    await app.open()
    try:
        yield app
    finally:
        await app.stop("done")
