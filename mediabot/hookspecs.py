"""Hook specifications: every hook a plugin can implement.

Implement a hook by defining a method with the same name on your plugin
class and decorating it with :data:`mediabot.hookimpl`. A hook
implementation may accept any *subset* of the documented parameters, by
name. Hooks marked *async* may be ``async def`` (the kernel awaits them) or
plain functions.

Failure isolation: an exception raised by one plugin's implementation is
logged with the plugin's name and counted in
``mediabot_plugin_errors_total{plugin,hook}``; the other plugins'
implementations still run. Only ``mediabot_startup`` is different: a failure
there stops the start (or, for a plugin whose metadata says
``optional=True``, disables that plugin).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mediabot.core.plugin import hookspec

if TYPE_CHECKING:
    import click

    from mediabot.core.app import App
    from mediabot.core.callbacks import Callback
    from mediabot.core.commands import Command
    from mediabot.core.config import RawConfig
    from mediabot.core.types import HealthReport, Update

__all__ = [
    "mediabot_callbacks",
    "mediabot_cli",
    "mediabot_commands",
    "mediabot_database_provider",
    "mediabot_health",
    "mediabot_shutdown",
    "mediabot_startup",
    "mediabot_update",
]


@hookspec
def mediabot_commands(app: App) -> list[Command]:
    """Return the commands this plugin offers.

    :param app: the application.

    :return: a list of :class:`mediabot.Command`; the kernel merges all
        plugins' lists into its command registry. Two plugins claiming the
        same name or alias is a startup error naming both.

    Called once, after ``mediabot_startup`` of every plugin has finished and
    before the Telegram gateway starts taking updates.
    """


@hookspec
def mediabot_callbacks(app: App) -> list[Callback]:
    """Return the button handlers this plugin offers.

    :param app: the application.

    :return: a list of :class:`mediabot.Callback`, each naming an action.
        A button made with ``ctx.button(text, action, *args)`` runs the
        handler of that action with a :class:`mediabot.CallbackContext`, but
        only after the kernel has verified the button's signature, its age
        and that the presser is the user it was made for. Two plugins
        claiming the same action is a startup error naming both.

    Called once, right after ``mediabot_commands`` and before the Telegram
    gateway starts taking updates.
    """


@hookspec
def mediabot_startup(app: App) -> None:
    """*async* Prepare the plugin: open what it owns, start background tasks.

    :param app: the application; its resources (``app.redis``,
        ``app.mongo``, ``app.database``) are open.

    Called once per plugin, sequentially, in dependency order (a plugin's
    ``requires`` start first). Start long-running work with
    ``app.supervisor.spawn(...)``, never with a bare ``asyncio.create_task``.
    Raising stops the start with a message naming the plugin, unless its
    metadata says ``optional=True``, in which case it is disabled and the bot
    starts without it.
    """


@hookspec
def mediabot_shutdown(app: App) -> None:
    """*async* Save state and release what the plugin owns.

    :param app: the application; resources are still open.

    Called once per started plugin, sequentially, in reverse dependency
    order, after updates have stopped and in-flight work has drained (or
    been cancelled at the deadline). Failures are logged and the shutdown
    continues.
    """


@hookspec
def mediabot_update(app: App, update: Update) -> None:
    """*async* Handle an update no command or button handler consumed.

    :param app: the application.
    :param update: a :class:`mediabot.Message` (private, group or channel
        post) that is not a ``/command``, or a :class:`mediabot.InlineQuery`.
        Commands go to the command registry and button presses to the
        ``mediabot_callbacks`` handlers instead; updates from banned users
        go nowhere.

    Called for every such update, concurrently in all plugins implementing it.
    Each call is in-flight work: shutdown waits for it up to
    ``runtime.shutdown_deadline``. Return value ignored.
    """


@hookspec(firstresult=True)
def mediabot_database_provider(app: App) -> Any:
    """Provide where catalogue repositories read and write.

    :param app: the application; ``app.mongo`` is open.

    :return: a database provider, or ``None`` to let the next plugin (and
        finally the kernel's single-database default) decide.

    ``firstresult``: the first non-``None`` answer wins. Called once at
    startup, before ``mediabot_startup``.
    """


@hookspec
def mediabot_health(app: App) -> list[HealthReport]:
    """*async* Report the health of what this plugin owns.

    :param app: the application.

    :return: a list of :class:`mediabot.HealthReport`. A plugin that raises
        is itself reported as ``down``.

    Called on demand (``/health``, ``/readyz``, ``mediabot`` CLI), concurrently.
    Keep it cheap: no unbounded queries.
    """


@hookspec
def mediabot_cli(cli: click.Group, config: RawConfig) -> None:
    """Add subcommands to the ``mediabot`` command line.

    :param cli: the root click group; call ``cli.add_command(...)``.
    :param config: the loaded configuration (kernel sections validated).

    Called when the CLI is built, for enabled plugins only. Synchronous.
    """
