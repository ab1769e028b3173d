"""How a plugin declares itself.

A plugin is a class registered under the entry point group
``mediabot.plugins``. The class carries a :class:`PluginMeta` in its ``meta``
attribute; the kernel instantiates it once per application with a
:class:`PluginContext`, so all plugin state lives on that instance and two
apps in one process never share anything::

    class Greeter:
        meta = PluginMeta(name="greeter", description="Says hello.",
                          config=GreeterConfig)

        def __init__(self, ctx: PluginContext[GreeterConfig]) -> None:
            self.config = ctx.config  # a GreeterConfig, for the type checker too

        @hookimpl
        def mediabot_commands(self):
            return [Command("hello", "Say hello", self.hello)]

A class that needs nothing from the context may leave ``__init__`` out: the
kernel then calls ``Greeter()``. Any other constructor is a load error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import msgspec
import pluggy

if TYPE_CHECKING:
    from mediabot.core.app import App
    from mediabot.core.clock import Clock
    from mediabot.core.jobs import Jobs
    from mediabot.core.periodic import PeriodicJob
    from mediabot.core.plugin_storage import PluginStorage

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
    :param hookspecs: a module or class holding hook specifications this
        plugin publishes for other plugins (functions decorated with
        :data:`mediabot.hookspec`); see "Plugin-to-plugin hooks" in
        ``docs/plugins.md``.
    :param gate_fails: what a failure of this plugin's ``mediabot_gate``
        means: ``closed`` (the action is refused, the safe default for a
        paywall or membership check) or ``open`` (the action goes ahead).
    """

    name: str
    description: str
    config: type[msgspec.Struct] = EmptyConfig
    requires: tuple[str, ...] = ()
    needs: tuple[Resource, ...] = ()
    secrets: tuple[Secret, ...] = ()
    optional: bool = False
    hookspecs: object | None = None
    gate_fails: Literal["open", "closed"] = "closed"


ConfigT = TypeVar("ConfigT")


@dataclass(kw_only=True)
class PluginContext(Generic[ConfigT]):
    """What the kernel hands a plugin when it creates it.

    Annotate it with your config type, ``ctx: PluginContext[MyConfig]``, and
    ``ctx.config`` is a ``MyConfig`` to the type checker (the kernel passes the
    instance of ``meta.config``; a bare ``PluginContext`` leaves it untyped).

    :param name: the plugin's name.
    :param config: the validated instance of ``meta.config``.
    :param log: a logger named ``mediabot.plugin.<name>``.
    :param app: the application the plugin belongs to (its resources are
        opened only after all plugins are created: use them from hooks).
    :param secrets: the plugin's secrets (``meta.secrets``) that are set, by variable name.
    """

    name: str
    config: ConfigT
    log: logging.Logger
    app: App
    secrets: dict[str, str] = field(default_factory=dict, repr=False)  # never in a repr or a log line

    @property
    def storage(self) -> PluginStorage:
        """The plugin's MongoDB collections, Redis keys and directory (:class:`mediabot.PluginStorage`)."""
        return self.app.storage(self.name)

    @property
    def jobs(self) -> Jobs:
        """The plugin's long, resumable jobs under a fenced lease, in MongoDB (:class:`mediabot.Jobs`)."""
        return self.app.jobs(self.name)

    @property
    def clock(self) -> Clock:
        """The app's clock: ``now()`` (monotonic seconds), ``wall()`` (UTC datetime), ``await sleep(s)``."""
        return self.app.clock

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run ``coro`` as a background task owned by this plugin.

        It is cancelled after every plugin's ``mediabot_shutdown``; a crash is
        logged and counted, not restarted (use :meth:`spawn_loop` for that).
        Call from hooks and handlers (the supervisor exists once the app starts).
        """
        return self.app.supervisor.spawn(coro, name=name, owner=self.name)

    def spawn_loop(self, factory: Callable[[], Awaitable[None]], *, name: str, restart: bool = True,
                   max_backoff: float = 30.0) -> asyncio.Task[Any]:
        """Run ``factory()`` for the app's lifetime, owned by this plugin.

        After a crash it starts again (with ``restart``), waiting 0.5 s, then
        twice as long after each further crash, up to ``max_backoff`` — on the
        app's clock. It is cancelled just *before* this plugin's
        ``mediabot_shutdown``, so the hook can save state without racing it.
        Sleep in the loop with ``await ctx.clock.sleep(s)``: a test's virtual
        clock then drives it.
        """
        return self.app.supervisor.spawn_loop(factory, name=name, owner=self.name, restart=restart,
                                              max_backoff=max_backoff)

    def every(self, interval: float, fn: Callable[[], Awaitable[object]], *, name: str, jitter: float = 0.0,
              max_backoff: float = 30.0) -> PeriodicJob:
        """Run ``await fn()`` every ``interval`` seconds of the app's clock while the app runs.

        Call it from ``__init__`` or ``mediabot_startup``: jobs start once
        every plugin has started (the first run one interval later) and stop
        just before this plugin's ``mediabot_shutdown``. A run that outlasts
        the interval delays the next to the following tick (runs never
        overlap or pile up); ``jitter`` delays each run by up to that many
        seconds, at random. A run that raises is logged and counted, and the
        next waits for its tick (and a backoff of 0.5 s doubling up to
        ``max_backoff`` while failures continue). The job's last success,
        last error and lag appear in ``app.health()`` as component
        ``<plugin>.<name>`` with no code in the plugin. In an app opened
        for a CLI subcommand (:func:`mediabot.open_app`) jobs never run.

        :returns: the job's :class:`mediabot.PeriodicJob` (its counts and last outcome).
        :raises ValueError: a non-positive interval, a jitter over the interval, a name used twice.
        """
        return self.app.periodic.add(self.name, interval, fn, name=name, jitter=jitter, max_backoff=max_backoff)

    def app_command(self, fn: Callable[..., Awaitable[object]]) -> Callable[..., None]:
        """Make ``async def fn(ctx, **options)`` a click callback run with this plugin's context on an opened app.

        For ``mediabot_cli``; see :func:`mediabot.app_command`, which this is for this plugin
        and the configuration this app was built from.
        """
        from mediabot.core.clihelp import app_command

        return app_command(self.app.config, plugin=self.name)(fn)
