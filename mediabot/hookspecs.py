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

    from mediabot.catalog.models import MediaFile
    from mediabot.core.app import App
    from mediabot.core.callbacks import Callback
    from mediabot.core.commands import Command
    from mediabot.core.config import RawConfig
    from mediabot.core.context import CommandContext
    from mediabot.core.middleware import Middleware
    from mediabot.core.routing import Handler
    from mediabot.core.types import GateRefusal, HealthReport, Reservation, Update, User

__all__ = [
    "mediabot_callbacks",
    "mediabot_cli",
    "mediabot_commands",
    "mediabot_database_provider",
    "mediabot_deep_link",
    "mediabot_delivery_progress",
    "mediabot_delivery_reserve",
    "mediabot_delivery_settle",
    "mediabot_files_added",
    "mediabot_files_removed",
    "mediabot_files_updated",
    "mediabot_gate",
    "mediabot_handlers",
    "mediabot_health",
    "mediabot_middleware",
    "mediabot_shutdown",
    "mediabot_start_payload",
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
    before the Telegram gateway starts taking updates. Also called on an
    unstarted plugin by ``mediabot plugins`` to list the commands: do not
    depend on what startup creates (resolve it when a handler runs).
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
def mediabot_handlers(app: App) -> list[Handler]:
    """Return the handlers of updates that are not commands or buttons (plain messages, inline queries...).

    :param app: the application.

    :return: a list of :class:`mediabot.Handler`, each with a filter (update
        kinds, chats, content, a predicate), a role, a rate and a gate. For
        each update the kernel runs the first matching handler, in route order
        (``Handler.order``, then plugin order; ``[routing] order`` in
        ``plugins.toml`` overrides it); one that returns ``False`` declines
        and the next runs. So one update gets at most one answer. Two handlers
        of a plugin with one name is a startup error.

    Called once, right after ``mediabot_callbacks`` and before the Telegram
    gateway starts taking updates; also on an unstarted plugin by ``mediabot
    plugins`` to list the routes (do not depend on what startup creates).
    Use ``mediabot_update`` to watch updates without answering them.
    """


@hookspec
def mediabot_middleware(app: App) -> list[Middleware]:
    """Return checks to put in front of every update (force-subscribe, maintenance mode).

    :param app: the application.

    :return: a list of async callables ``middleware(incoming, call_next)``;
        ``incoming`` is a :class:`mediabot.Incoming` (the update, its kind,
        sender, role, chat and command name). Call ``await call_next()`` to let
        the update go on; return without calling it to stop it, usually after
        ``await incoming.refuse(text, keyboard)``.

    Called once, with ``mediabot_handlers``. Every update from a sender who is
    not banned goes through every plugin's middlewares, in plugin order,
    before commands, buttons and handlers. A middleware that raises is logged
    and counted, and the update goes on.
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
    """*async* Watch an update that is not a command or a button press (an observer: never answer it).

    :param app: the application.
    :param update: a :class:`mediabot.Message` (private, group or channel
        post) that is not a ``/command``, a :class:`mediabot.InlineQuery`, a
        :class:`mediabot.MessageEdited` (a message or channel post was
        edited), a :class:`mediabot.MessagesDeleted` (Telegram tells bots
        of deletions in channels), a :class:`mediabot.ChatMemberUpdated`
        (the bot's own membership anywhere, other users' in chats it
        administers), a :class:`mediabot.JoinRequest` or a
        :class:`mediabot.PreCheckoutQuery`; a successful Stars payment is a
        ``Message`` with ``payment`` set. Commands go to the command registry and button presses to the
        ``mediabot_callbacks`` handlers instead; updates from banned users
        go nowhere.

    Called for every such update, concurrently in all plugins implementing it
    and beside the handler that answers it (``mediabot_handlers``): to answer
    a message or an inline query, declare a :class:`mediabot.Handler`
    instead, so that only one plugin answers. Each call is in-flight work:
    shutdown waits for it up to ``runtime.shutdown_deadline``. Return value
    ignored.
    """


@hookspec(firstresult=True)
def mediabot_database_provider(app: App) -> Any:
    """Provide where catalogue repositories read and write.

    :param app: the application; ``app.mongo`` is open.

    :return: a database provider, or ``None`` to let the next plugin (and
        finally the kernel's single-database default) decide.

    ``firstresult``: the first non-``None`` answer wins. Called once by
    ``App.start`` (``mediabot run``, the testing kit) and ``App.open``
    (``mediabot.open_app``), before any ``mediabot_startup``. An
    implementation that raises stops the start: ``mediabot run`` prints one
    line naming the plugin and exits 1; the kernel never falls back to
    another database.
    """


@hookspec
def mediabot_health(app: App) -> list[HealthReport]:
    """*async* Report the health of what this plugin owns.

    :param app: the application.

    :return: a list of :class:`mediabot.HealthReport`. A plugin that raises
        is itself reported as ``down``.

    Called by ``app.health()``, concurrently in every implementing plugin;
    the ``ops`` plugin calls it for ``/health``, ``/readyz`` and ``mediabot
    health``. Keep it cheap: no unbounded queries.
    """


@hookspec
def mediabot_cli(cli: click.Group, config: RawConfig) -> None:
    """Add subcommands to the ``mediabot`` command line.

    :param cli: the root click group; call ``cli.add_command(...)``.
    :param config: the loaded configuration (kernel sections validated).

    Called for enabled plugins only, when the command line looks up a
    command that is not the kernel's (or lists them for ``--help``), after
    the configuration is validated. Synchronous: an ``async`` subcommand
    that needs the deployment's resources is wrapped with
    ``ctx.app_command`` (or ``mediabot.app_command(config, plugin=...)``),
    which opens the app, hands it the plugin's own context and closes it;
    ``async with mediabot.open_app(config)`` does the same by hand.
    """


@hookspec
def mediabot_files_added(app: App, files: list[MediaFile]) -> None:
    """*async* Files entered the catalogue.

    :param app: the application.
    :param files: the files this write stored — only the new ones: a file
        already in the catalogue (same ``file_unique_id``) is not repeated.

    Called in the process that wrote, after the write, by every writer of
    ``app.files.insert_batch`` (the indexer, a CLI command, a test), under
    any database provider. Other processes learn the same from the
    catalogue's change stream (``app.changes``; see ``docs/plugins.md``).
    """


@hookspec
def mediabot_files_updated(app: App, files: list[MediaFile]) -> None:
    """*async* Files of the catalogue changed (a caption edited in the channel: new caption and tokens).

    :param app: the application.
    :param files: the files as they are now.

    Called in the process that wrote, after ``app.files.update_caption``;
    also published to the change stream.
    """


@hookspec
def mediabot_files_removed(app: App, files: list[MediaFile]) -> None:
    """*async* Files left the catalogue, or were marked dead (Telegram no longer has them).

    :param app: the application.
    :param files: the files as they were.

    Called in the process that wrote, after ``app.files.remove``,
    ``remove_messages`` or ``mark_dead``; also published to the change stream.
    """


@hookspec(firstresult=True)
def mediabot_delivery_reserve(app: App, user_id: int, count: int) -> Reservation | None:
    """*async* Reserve a delivery of ``count`` files to ``user_id``, before anything is sent.

    :param app: the application.
    :param user_id: who receives the files.
    :param count: how many files the delivery holds.

    :return: a :class:`mediabot.Reservation` saying how many may go (its
        ``granted``, at most ``count``), or ``None`` to have no say.

    ``firstresult``: the first non-``None`` answer decides. No implementation
    (or none answering) means unlimited. An implementation that *raises*
    means refused: nothing is sent and the user gets an apology — a broken
    quota never means unlimited. Called by ``app.delivery.send``.
    """


@hookspec
def mediabot_delivery_progress(app: App, reservation: Reservation, sent: int) -> None:
    """*async* The ``sent``-th file of a reserved delivery is about to be sent.

    :param app: the application.
    :param reservation: what ``mediabot_delivery_reserve`` returned.
    :param sent: how many files of the reservation may have reached the user once
        this one is sent: those delivered so far, plus this one (a failed send
        does not count, so the next call repeats the number).

    Called by ``app.delivery.send`` before each send, only in the plugin whose
    reservation it is, so that a crash before ``mediabot_delivery_settle``
    never refunds a file that may have reached the user. Raising stops the
    batch (nothing more is sent); implementing it is optional.
    """


@hookspec
def mediabot_delivery_settle(app: App, reservation: Reservation, delivered: int) -> None:
    """*async* Say how a reserved delivery ended.

    :param app: the application.
    :param reservation: what ``mediabot_delivery_reserve`` returned.
    :param delivered: how many files reached the user (sends that failed
        are not counted). The rest of ``reservation.granted`` is released.

    Called by ``app.delivery.send`` after the sends, only in the plugin whose
    reservation it was. A failure here is logged; the plugin's lease
    (``reservation.lease_expires``) must settle what is never settled.
    """


@hookspec
def mediabot_gate(app: App, user: User, action: str) -> GateRefusal | None:
    """*async* Refuse an action to a user, before it runs.

    :param app: the application.
    :param user: who wants to act (admins and the owner reach only the gates of plugins that called ``app.gates.ask_about_staff(name)``).
    :param action: what they want: ``search`` (the search plugin, for a text
        message), ``inline`` (its inline queries), ``deliver``
        (``app.delivery.send``), ``deep_link`` (``/start PAYLOAD``, before the
        payload's plugin runs), or the ``gate`` a :class:`mediabot.Command`,
        :class:`mediabot.Callback` or :class:`mediabot.Handler` declares.

    :return: a :class:`mediabot.GateRefusal` (text and buttons shown to the
        user) to refuse, ``None`` to let it through.

    Called through ``app.gates.check``: every implementation, concurrently;
    the first refusal in plugin order wins. Keep it cheap: it runs before
    every gated action (cache what you look up). An implementation that
    raises is logged and counted; its plugin's ``PluginMeta.gate_fails``
    says whether that refuses the action (``closed``, the default) or not.
    """


@hookspec(firstresult=True)
def mediabot_deep_link(app: App, ctx: CommandContext, action: str, args: tuple[str, ...]) -> bool | None:
    """*async* Handle a deep link made with ``ctx.deep_link(action, *args)``.

    :param app: the application.
    :param ctx: the ``/start`` command's context, in the private chat of the user who opened the link.
    :param action: the link's action.
    :param args: its arguments, as strings.

    :return: ``True`` when this plugin handled the link (its action); ``None``
        otherwise. ``firstresult``: the first ``True`` ends the call.

    Called by ``/start PAYLOAD`` after the kernel verified the payload's
    signature and age (an expired one gets "This link has expired." and no
    hook; one that is not the kernel's goes to ``mediabot_start_payload``).
    Nobody answering shows the normal ``/start`` text.
    """


@hookspec(firstresult=True)
def mediabot_start_payload(app: App, ctx: CommandContext, payload: str) -> bool | None:
    """*async* Handle a ``/start PAYLOAD`` the kernel did not sign (a plugin's own link format).

    :param app: the application.
    :param ctx: the ``/start`` command's context, in the opener's private chat.
    :param payload: the payload as Telegram sent it: up to 64 characters of
        ``A-Z a-z 0-9 _ -``. Anyone may have typed it: check it (a plugin's
        own signature, a lookup) before acting on it.

    :return: ``True`` when this plugin handled it; ``None`` otherwise.
        ``firstresult``: the first ``True`` ends the call.

    Called by ``/start PAYLOAD`` when the payload is not a link made with
    ``ctx.deep_link`` (or was made with another secret). Nobody answering
    shows the welcome, as for ``/start`` alone.
    """
