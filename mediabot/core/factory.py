"""One call from a config file to an :class:`App`: load, discover, compose, build."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from mediabot.core.app import App
from mediabot.core.compose import compose
from mediabot.core.config import load_raw
from mediabot.core.discovery import discover


def create_app(config: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None,
               plugins: list[Any] | None = None, enable: tuple[str, ...] = (),
               gateway: Any = None, telegram_secrets: bool = False, clock: Any = None) -> App:
    """Build an application from ``plugins.toml``.

    :param config: path of the file; default ``$MEDIABOT_CONFIG`` or ``./plugins.toml``.
    :param env: environment for overrides and secrets (default ``os.environ``).
    :param plugins: plugin classes to make available in-process (not installed).
    :param enable: plugin names to enable whatever the file says.
    :param clock: the app's clock (default: real time); the testing kit passes its ``FakeClock``.
    :raises ConfigError: the configuration cannot be used (exit code 2 in the CLI).
    :raises PluginLoadError: a plugin cannot be imported or registered.
    """
    env = os.environ if env is None else env
    raw = load_raw(config, env)
    composition = compose(raw, discover(plugins), enable=enable)
    return App(composition, env=env, gateway=gateway, telegram_secrets=telegram_secrets, clock=clock)
