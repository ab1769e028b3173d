"""Message handlers: what plugins declare to answer updates that are not commands or buttons.

A plugin returns :class:`Handler` objects from ``mediabot_handlers``, the way
it returns commands from ``mediabot_commands``. The kernel keeps them in one
ordered list (:class:`Routes`) and, for each update, runs the first handler
whose filter matches; a handler that returns ``False`` *declines* and the
next matching one runs. So two plugins that both answer text never both
answer one message, and a plugin that must answer first (a manual keyword
filter before search) says so with ``order`` or the deployment's
``[routing] order``.

The checks every handler gets, the same way as commands (see
:mod:`mediabot.core.dispatch`): the sender's per-user rate, then the
handler's role (a handler the sender may not use is skipped, as if it did not
match), its own rate and its gate, then the handler itself, isolated by the
failure path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any, Literal

from mediabot.core.commands import Role
from mediabot.core.errors import ConfigError, PluginLoadError
from mediabot.core.rate import Rate
from mediabot.core.types import Chat, InlineQuery, Message, Update, User

if TYPE_CHECKING:
    from mediabot.core.context import UpdateContext

__all__ = ["ChatKind", "Content", "Handler", "Route", "Routes", "chat_kind", "update_kind"]

ChatKind = Literal["private", "group"]
Content = Literal["text", "media", "any"]


def update_kind(update: Update | Any) -> str:
    """The kind of an update: its kernel type's msgspec tag (``message``, ``inline``, ``edited``...)."""
    tag = getattr(type(update), "__struct_config__", None)
    return str(tag.tag) if tag is not None and tag.tag is not None else type(update).__name__.lower()


def chat_kind(chat: Chat | None) -> str | None:
    """``private``, ``group`` (groups and supergroups) or ``channel``; ``None`` without a chat."""
    if chat is None:
        return None
    if chat.is_private:
        return "private"
    return "group" if chat.is_group else "channel"


def sender_of(update: Update | Any) -> User | None:
    """The user account behind an update, when there is one."""
    if isinstance(update, Message):
        return update.from_user
    user = getattr(update, "from_user", None)
    if isinstance(user, User):
        return user
    user = getattr(update, "user", None)
    return user if isinstance(user, User) else None


@dataclass(frozen=True, kw_only=True)
class Handler:
    """A handler of updates that are not ``/commands`` or button presses.

    :param name: the handler's name within its plugin (``text``); the route is
        ``<plugin>.<name>`` (``search.text``), which ``[routing] order`` names.
    :param handler: ``async def handler(ctx) -> bool | None``; ``ctx`` is a
        :class:`mediabot.UpdateContext`. Return ``False`` to decline (the next
        matching handler runs); anything else claims the update.
    :param updates: the update kinds it handles: ``message`` (default),
        ``inline``, ``edited``, ``deleted``, ``chat_member``, ``join_request``,
        ``pre_checkout`` (the kernel type's tag, as :func:`update_kind` gives).
    :param chats: for messages, where: ``private``, ``group`` (groups and
        supergroups). Channel posts have no sender: only observers
        (``mediabot_update``) see them.
    :param content: for messages: ``text`` (a text, no media: the default),
        ``media`` (a file, photo, ...), ``any``.
    :param when: a cheap predicate on the update, checked after the filters
        above (e.g. "mentions the bot"); ``None``: always.
    :param role: who may use it; for anybody else it does not match.
    :param rate_limit: e.g. ``"20/min burst 10"``: a rate per user for this
        handler, on top of ``[services] user_rate``.
    :param rate_group: handlers with the same group share one rate (search's
        text and inline handlers count together); default: the route.
    :param gate: an action the plugins' gates (``mediabot_gate``) are asked
        about before it runs, e.g. ``"search"``.
    :param order: where it runs among all plugins' handlers: lower first;
        ties keep plugin start order, then declaration order. Search answers at
        ``100``; a plugin that must answer before it uses less.
    :param description: one line for ``/start`` and ``/help`` in a private
        chat, e.g. "Send me a film title and I'll find its files."; empty:
        not shown.
    """

    name: str
    handler: Callable[[UpdateContext], Awaitable[bool | None]]
    updates: tuple[str, ...] = ("message",)
    chats: tuple[ChatKind, ...] = ("private",)
    content: Content = "text"
    when: Callable[[Any], bool] | None = None
    role: Role = "user"
    rate_limit: str | None = None
    rate_group: str | None = None
    gate: str | None = None
    order: int = 100
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name or not all(ch.isalnum() or ch in "_-" for ch in self.name) or not self.name.isascii():
            raise ValueError(f"invalid handler name {self.name!r}: use letters, digits, '_' and '-'")
        if self.role not in ("user", "admin", "owner"):
            raise ValueError(f"handler {self.name}: role must be user, admin or owner, not {self.role!r}")
        if not self.updates:
            raise ValueError(f"handler {self.name}: updates must name at least one kind")
        for chat in self.chats:
            if chat not in ("private", "group"):
                raise ValueError(f"handler {self.name}: chats may be 'private' and 'group', not {chat!r}")
        if self.content not in ("text", "media", "any"):
            raise ValueError(f"handler {self.name}: content must be text, media or any, not {self.content!r}")


@dataclass(frozen=True, slots=True)
class Route:
    """A registered handler: its plugin, its route name, its parsed rate."""

    plugin: str
    handler: Handler
    rate: Rate | None

    @property
    def name(self) -> str:
        return f"{self.plugin}.{self.handler.name}"

    @property
    def rate_key(self) -> str:
        return f"{self.plugin}.{self.handler.rate_group or self.handler.name}"

    def matches(self, update: Update | Any, kind: str) -> bool:
        """Whether the filters (kind, chat, content, predicate) let this update in; role is checked apart."""
        h = self.handler
        if kind not in h.updates:
            return False
        if isinstance(update, Message):
            where = chat_kind(update.chat)
            if where not in h.chats:
                return False
            if h.content == "text" and (not update.text or update.media is not None):
                return False
            if h.content == "media" and update.media is None:
                return False
        elif isinstance(update, InlineQuery) and not isinstance(update.query, str):
            return False
        return h.when is None or bool(h.when(update))


class Routes:
    """Every plugin's handlers, in the order they are tried."""

    def __init__(self, handlers: Iterable[tuple[str, Handler]] = (), *, order: Sequence[str] = (),
                 source: str = "plugins.toml") -> None:
        routes: list[Route] = []
        seen: set[str] = set()
        for plugin, h in handlers:
            if not isinstance(h, Handler):
                raise PluginLoadError(plugin, f"mediabot_handlers returned {type(h).__name__}, not Handler")
            try:
                rate = Rate.parse(h.rate_limit) if h.rate_limit else None
            except ValueError as exc:
                raise PluginLoadError(plugin, f"handler {h.name}: {exc}") from None
            route = Route(plugin, h, rate)
            if route.name in seen:
                raise PluginLoadError(plugin, f"handler {h.name!r} is declared twice", fix="give each a name")
            seen.add(route.name)
            routes.append(route)
        by_name = {r.name: r for r in routes}
        for name in order:
            if name not in by_name:
                close = get_close_matches(name, list(by_name), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ConfigError(f"names {name!r}, which no enabled plugin declares",
                                  file=source, key="routing.order",
                                  fix=f"{hint}known: {', '.join(sorted(by_name)) or 'none'}")
        first = {name: i for i, name in enumerate(order)}
        # Stable sort: listed routes first, in the listed order; then by `order`, then as declared.
        indexed = sorted(enumerate(routes), key=lambda ir: (first.get(ir[1].name, len(first)),
                                                            ir[1].handler.order, ir[0]))
        self.routes: list[Route] = [r for _, r in indexed]

    def candidates(self, update: Update | Any) -> list[Route]:
        """The routes whose filters match ``update``, in the order they are tried."""
        kind = update_kind(update)
        return [r for r in self.routes if r.matches(update, kind)]

    def names(self) -> list[str]:
        return [r.name for r in self.routes]

    def descriptions(self, chat: ChatKind = "private") -> list[str]:
        """The ``description`` lines of message handlers for ``chat``, in route order, for /start and /help."""
        return [r.handler.description for r in self.routes
                if r.handler.description and "message" in r.handler.updates and chat in r.handler.chats
                and r.handler.role == "user"]
