"""Command declarations.

Plugins return :class:`Command` objects from the ``mediabot_commands`` hook;
the kernel's command registry dispatches them, checks roles and rate limits,
and generates ``/help`` and Telegram's command menus from them.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["user", "admin", "owner"]
Scope = Literal["private", "group"]

_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
# "/name", "/name@bot", then whitespace and the arguments. Anything else starting
# with "/" (a path, a lone slash) is ordinary text.
_COMMAND_LINE = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+(.*))?", re.DOTALL)


def parse_command(text: str) -> tuple[str, str | None, str] | None:
    """``("name", "botname" or None, "args")`` for ``/name@botname args``, else ``None``.

    The one parser of command lines: the dispatcher routes with it and
    :attr:`mediabot.Message.command` returns what it found, so a plugin reading a
    message sees the command the dispatcher saw.
    """
    m = _COMMAND_LINE.fullmatch(text)
    if m is None:
        return None
    return m.group(1).lower(), m.group(2), (m.group(3) or "").strip()


@dataclass(frozen=True, kw_only=True)
class Command:
    """A bot command a plugin offers.

    :param name: without the slash; 1-32 characters of ``a-z``, ``0-9``, ``_``
        (Telegram's rule for command menus).
    :param description: one line for ``/help`` and the command menu.
    :param handler: ``async def handler(ctx) -> None``; ``ctx`` is a
        :class:`mediabot.CommandContext`.
    :param usage: argument synopsis, e.g. ``"QUERY [PAGE]"``; shown as ``Usage: /name QUERY [PAGE]``
        when arguments are wrong. When it starts with a required part (``QUERY``,
        not ``[QUERY]``), a call without arguments gets that line and the handler
        does not run; a handler raises :class:`mediabot.UsageError` for the rest.
    :param aliases: other names that run the same handler (not in menus).
    :param role: who may run it: ``user`` (everyone), ``admin``, ``owner``.
    :param rate_limit: e.g. ``"5/10s"``: this command's rate per user, checked on top of
        the per-user rate of all commands (``[services] user_rate``); ``None``: that one only.
    :param scopes: where it works: private chats, groups, or both.
    :param hidden: keep it out of ``/help`` and menus.
    :param gate: an action name the plugins' gates (``mediabot_gate``) are
        asked about before the handler runs, e.g. ``"search"``; ``None``: no gate.
    """

    name: str
    description: str
    handler: Callable[[Any], Awaitable[None]]
    usage: str = ""
    aliases: tuple[str, ...] = ()
    role: Role = "user"
    rate_limit: str | None = None
    scopes: tuple[Scope, ...] = ("private", "group")
    hidden: bool = False
    gate: str | None = None

    def __post_init__(self) -> None:
        for n in (self.name, *self.aliases):
            if not _NAME.match(n):
                raise ValueError(f"invalid command name {n!r}: use 1-32 of a-z, 0-9, _")
        if self.role not in ("user", "admin", "owner"):
            raise ValueError(f"command /{self.name}: role must be user, admin or owner, not {self.role!r}")
