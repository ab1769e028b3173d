"""The command and button registry: what the dispatcher routes, /help lists and menus show.

Built once at startup from every plugin's ``mediabot_commands`` and
``mediabot_callbacks``; everything a plugin could declare wrong (a bad rate,
two plugins claiming one button action) is a load error here, naming the
plugin, not a surprise on the first message. Two commands answering to one
name or alias are refused here, whoever declared them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mediabot.core.callbacks import Callback
from mediabot.core.commands import Command, Role, Scope
from mediabot.core.errors import PluginLoadError
from mediabot.core.rate import Rate

#: Role order: a role may use what any lower role may.
RANK: dict[str, int] = {"user": 0, "admin": 1, "owner": 2}


def may_use(role: Role, needed: Role) -> bool:
    return RANK[role] >= RANK[needed]


@dataclass(frozen=True)
class CommandEntry:
    """A registered command and what the registry derived from it.

    :param requires_args: the usage synopsis starts with a required part
        (``QUERY``, not ``[QUERY]``), so a call without arguments gets the usage line.
    :param rate: the command's own rate, checked on top of the per-user rate.
    """

    plugin: str
    command: Command
    rate: Rate | None
    requires_args: bool

    @property
    def usage_line(self) -> str:
        return f"/{self.command.name} {self.command.usage}".rstrip()


@dataclass(frozen=True)
class CallbackEntry:
    plugin: str
    callback: Callback


def _requires_args(usage: str) -> bool:
    usage = usage.strip()
    return bool(usage) and not usage.startswith("[")


class Registry:
    """Commands by name and alias, button handlers by action."""

    def __init__(self, commands: Iterable[tuple[str, Command]] = (),
                 callbacks: Iterable[tuple[str, Callback]] = ()) -> None:
        self._commands: dict[str, CommandEntry] = {}
        self.entries: list[CommandEntry] = []
        for plugin, cmd in commands:
            if not isinstance(cmd, Command):
                raise PluginLoadError(plugin, f"mediabot_commands returned {type(cmd).__name__}, not Command")
            try:
                rate = Rate.parse(cmd.rate_limit) if cmd.rate_limit else None
            except ValueError as exc:
                raise PluginLoadError(plugin, f"command /{cmd.name}: {exc}") from None
            entry = CommandEntry(plugin, cmd, rate, _requires_args(cmd.usage))
            for name in (cmd.name, *cmd.aliases):
                # The one duplicate check: a name (or alias) answers to exactly one handler.
                taken = self._commands.get(name)
                if taken is not None:
                    raise PluginLoadError(plugin, f"command /{name} is already registered by {taken.plugin!r}",
                                          fix="rename one of them")
                self._commands[name] = entry
            self.entries.append(entry)
        self._callbacks: dict[str, CallbackEntry] = {}
        for plugin, cb in callbacks:
            if not isinstance(cb, Callback):
                raise PluginLoadError(plugin, f"mediabot_callbacks returned {type(cb).__name__}, not Callback")
            other = self._callbacks.get(cb.action)
            if other is not None:
                raise PluginLoadError(plugin, f"button action {cb.action!r} is already registered by "
                                      f"{other.plugin!r}", fix="prefix actions with the plugin's name")
            self._callbacks[cb.action] = CallbackEntry(plugin, cb)

    def command(self, name: str) -> CommandEntry | None:
        """The command called ``name`` (or with that alias)."""
        return self._commands.get(name)

    def callback(self, action: str) -> CallbackEntry | None:
        return self._callbacks.get(action)

    def visible(self, role: Role, scope: Scope | None = None) -> list[CommandEntry]:
        """Commands ``role`` may use (in ``scope``, if given), for /help and menus; hidden ones left out."""
        return [e for e in self.entries
                if not e.command.hidden and may_use(role, e.command.role)
                and (scope is None or scope in e.command.scopes)]

    def menu(self, role: Role) -> list[tuple[str, str]]:
        """``(name, description)`` pairs for Telegram's command menu of ``role``."""
        # Telegram: descriptions are 1-256 characters.
        return [(e.command.name, (e.command.description or e.command.name)[:256]) for e in self.visible(role)]
