"""A plugin's CLI subcommand as one ``async def`` that gets its plugin's context on an opened app.

Without it every subcommand repeats the same frame — a sync click callback,
``asyncio.run``, ``async with open_app(config)``, and the plugin's own name
typed again to reach its storage. With it::

    @hookimpl
    def mediabot_cli(self, cli):
        @cli.command("watchlist-export")
        @click.option("--user", type=int)
        @self.ctx.app_command
        async def export(ctx, user):
            async for doc in ctx.storage.collection("items").find():
                click.echo(doc["title"])
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec

from mediabot.core.errors import ConfigError
from mediabot.core.plugin import PluginContext

if TYPE_CHECKING:
    from mediabot.core.app import App
    from mediabot.core.config import RawConfig

__all__ = ["app_command"]

P = ParamSpec("P")


def app_command(config: RawConfig | str | os.PathLike[str] | None = None, *, plugin: str
                ) -> Callable[[Callable[Concatenate[PluginContext[Any], P], Awaitable[object]]], Callable[P, None]]:
    """Turn ``async def fn(ctx, **options)`` into a click callback that runs it on an opened app.

    The callback opens the deployment like :func:`mediabot.open_app` (Redis,
    MongoDB, the catalogue, every plugin's storage; no Telegram, no plugin's
    startup hook, no loop or periodic job), calls ``fn`` with ``plugin``'s
    :class:`mediabot.PluginContext` on that app (``ctx.app``,
    ``ctx.storage``, ``ctx.config``, ``ctx.log``, ``ctx.secrets``; the
    plugin's instance is ``ctx.app.plugin(ctx.name)``) and click's
    parameters as keywords, and closes everything when it returns or raises.
    A configuration or resource error reaches ``mediabot``'s main as one line
    and an exit code, as for the kernel's commands.

    Inside a plugin, ``self.ctx.app_command`` is the same with the plugin's name and
    the configuration its ``mediabot_cli`` received filled in.

    :param config: the ``config`` ``mediabot_cli`` received (or a path; ``None``: the default file).
    :param plugin: the plugin whose context ``fn`` gets; it must be enabled.
    """

    def decorate(fn: Callable[Concatenate[PluginContext[Any], P], Awaitable[object]]) -> Callable[P, None]:
        @functools.wraps(fn)
        def callback(*args: P.args, **kwargs: P.kwargs) -> None:
            asyncio.run(_run(config, plugin, fn, *args, **kwargs))

        return callback

    return decorate


async def _run(config: RawConfig | str | os.PathLike[str] | None, plugin: str,
               fn: Callable[Concatenate[PluginContext[Any], P], Awaitable[object]],
               *args: P.args, **kwargs: P.kwargs) -> None:
    from mediabot.core.factory import open_app  # factory imports the app, which imports plugin.py

    async with open_app(config) as app:
        await fn(plugin_context(app, plugin), *args, **kwargs)


def plugin_context(app: App, plugin: str) -> PluginContext[Any]:
    """A :class:`PluginContext` of ``plugin`` on ``app``, as the kernel builds it for the plugin's constructor.

    :raises ConfigError: ``plugin`` is not enabled in the app's configuration.
    """
    for selected in app.composition.plugins:
        if selected.meta.name == plugin:
            return PluginContext(name=plugin, config=selected.config, app=app,
                                 log=logging.getLogger(f"mediabot.plugin.{plugin}"),
                                 secrets={s.env: app.env[s.env] for s in selected.meta.secrets if s.env in app.env})
    raise ConfigError(f"this command needs plugin {plugin!r}, which is not enabled",
                      file=str(app.config.path) if app.config.path is not None else None,
                      key=f"plugins.{plugin}.enabled", fix="set enabled = true")
