"""How a plugin declares itself.

A plugin is a class registered under the entry point group
``mediabot.plugins``. The class carries a :class:`PluginMeta` in its ``meta``
attribute; the kernel instantiates it once per application with a
:class:`PluginContext`, so all plugin state lives on that instance and two
apps in one process never share anything::

    class Greeter:
        meta = PluginMeta(name="greeter", description="Says hello.",
                          config=GreeterConfig)

        def __init__(self, ctx: PluginContext) -> None:
            self.config: GreeterConfig = ctx.config

        @hookimpl
        def mediabot_commands(self):
            return [Command("hello", "Say hello", self.hello)]
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import msgspec
import pluggy

if TYPE_CHECKING:
    from mediabot.core.app import App

PROJECT = "mediabot"
ENTRY_POINT_GROUP = "mediabot.plugins"

#: Marker for hook implementations: decorate plugin methods with ``@hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT)
#: Marker for hook specifications (used by :mod:`mediabot.hookspecs`).
hookspec = pluggy.HookspecMarker(PROJECT)

Resource = Literal["redis", "mongo"]


class EmptyConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Schema of a plugin that takes no settings besides ``enabled``."""


@dataclass(frozen=True, kw_only=True)
class Secret:
    """An environment variable a plugin (or the kernel) reads a secret from.

    :param env: variable name, e.g. ``MEDIABOT_BOT_TOKEN``.
    :param description: what it is, shown in config errors and ``config show``.
    :param required: whether startup fails when it is missing.
    """

    env: str
    description: str
    required: bool = True


@dataclass(frozen=True, kw_only=True)
class PluginMeta:
    """Everything the kernel needs to know about a plugin, in one place.

    :param name: unique plugin name; must equal the entry point name and the
        ``[plugins.<name>]`` table in ``plugins.toml``.
    :param description: one line, shown by ``mediabot plugins``.
    :param config: msgspec ``Struct`` type validating the plugin's table
        (``enabled`` is handled by the kernel and never reaches it). Declare it
        with ``forbid_unknown_fields=True`` so typos are reported.
    :param requires: names of plugins that must be enabled and start first.
    :param needs: shared resources the kernel must open for this plugin.
    :param secrets: environment variables the plugin reads.
    :param optional: when ``True`` a failure in the plugin's startup hook
        disables the plugin (with a warning) instead of stopping the bot.
    """

    name: str
    description: str
    config: type[msgspec.Struct] = EmptyConfig
    requires: tuple[str, ...] = ()
    needs: tuple[Resource, ...] = ()
    secrets: tuple[Secret, ...] = ()
    optional: bool = False


@dataclass(kw_only=True)
class PluginContext:
    """What the kernel hands a plugin when it creates it.

    :param name: the plugin's name.
    :param config: the validated instance of ``meta.config``.
    :param log: a logger named ``mediabot.plugin.<name>``.
    :param app: the application the plugin belongs to (its resources are
        opened only after all plugins are created: use them from hooks).
    """

    name: str
    config: Any
    log: logging.Logger
    app: "App"
    secrets: dict[str, str] = field(default_factory=dict)
