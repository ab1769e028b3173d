"""``[plugins.access]``: the chats users must join, what it guards, and how it behaves when Telegram cannot say."""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec

from mediabot import ConfigError

__all__ = ["ACTIONS", "GATE_ACTIONS", "AccessConfig", "ChannelConfig"]

Action = Literal["search", "delivery", "inline", "deep_link", "commands"]
#: Every action name the config takes.
ACTIONS: tuple[str, ...] = ("search", "delivery", "inline", "deep_link", "commands")
#: Config action names -> the kernel's gate actions (``commands`` is checked by the plugin's middleware).
GATE_ACTIONS: dict[str, str] = {"search": "search", "delivery": "deliver", "inline": "inline",
                                "deep_link": "deep_link"}
_USERNAME = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{3,31}$")


class ChannelConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One chat users must join (``[[plugins.access.channels]]``).

    :param chat: the chat: a public ``@username`` or a numeric id (``-100...`` for channels and supergroups).
    :param label: the name shown on its Join button and in the refusal; empty: the ``@username``, else "our channel".
    :param mode: ``member``: the user must be in the chat; ``request``: a join request the bot saw counts too (the bot's own link then creates join requests).
    :param link: the link the Join button opens; empty: the bot makes its own invite link (a public chat in ``member`` mode uses its ``t.me`` link).
    """

    chat: int | str
    label: str = ""
    mode: Literal["member", "request"] = "member"
    link: str = ""

    @property
    def key(self) -> str:
        """How the chat is named in Redis and MongoDB: its id, or its username in lower case."""
        return str(self.chat) if isinstance(self.chat, int) else self.chat.lstrip("@").lower()

    @property
    def username(self) -> str | None:
        return self.chat.lstrip("@") if isinstance(self.chat, str) else None

    @property
    def shown(self) -> str:
        """What users read: the label, the ``@username``, or "our channel"."""
        return self.label or (f"@{self.username}" if self.username else "our channel")


class AccessConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings of ``[plugins.access]``.

    :param channels: the chats users must join (none: force-subscribe is off; maintenance mode still works).
    :param actions: what is guarded: ``delivery`` (files), ``deep_link`` (opening a ``t.me/<bot>?start=`` link), ``search`` (text searches), ``inline`` (inline queries: a non-member gets an article that opens the private chat), ``commands`` (every command but /start and /help).
    :param cache_ttl: seconds a "member" answer is kept in Redis (dropped at once when Telegram says the user left).
    :param negative_ttl: seconds a "not a member" answer is kept (at most 10; dropped at once when the user joins), so inline typing does not ask Telegram per keystroke.
    :param request_ttl: seconds a join request the bot saw lets the user through (Telegram says nothing when a request is withdrawn).
    :param approve_requests: approve the join requests the bot sees to the ``request`` chats (off: they are left to the chat's admins).
    :param exempt_users: user ids who never have to join.
    :param exempt_admins: the bot's admins and owner never have to join (``false``: they are asked like everyone, e.g. to try the refusal yourself).
    :param on_error: when Telegram cannot answer (the bot is not an admin of a chat, the chat is gone): ``open`` lets users through, ``closed`` refuses them; the operators get a notice either way.
    :param notice_interval: seconds between two notices about one chat Telegram cannot answer for.
    :param text: the refusal; ``{chats}`` is replaced by the names of the chats still to join.
    :param retry_ttl: seconds the refused action is kept for its Try again button.
    :param maintenance_poll: seconds between two reads of the maintenance flag by each process.
    :param maintenance_group_interval: in a group, at most one maintenance answer per this many seconds.
    """

    channels: list[ChannelConfig] = []
    actions: list[Action] = msgspec.field(default_factory=lambda: ["delivery", "deep_link"])
    cache_ttl: Annotated[float, msgspec.Meta(ge=1, le=30 * 86_400)] = 3600.0
    negative_ttl: Annotated[float, msgspec.Meta(ge=0, le=10)] = 10.0
    request_ttl: Annotated[float, msgspec.Meta(ge=60, le=90 * 86_400)] = 7 * 86_400.0
    approve_requests: bool = False
    exempt_users: list[int] = []
    exempt_admins: bool = True
    on_error: Literal["open", "closed"] = "open"
    notice_interval: Annotated[float, msgspec.Meta(ge=0, le=86_400)] = 3600.0
    text: str = "To use this bot, join {chats} first, then press Try again."
    retry_ttl: Annotated[float, msgspec.Meta(ge=60, le=7 * 86_400)] = 3600.0
    maintenance_poll: Annotated[float, msgspec.Meta(ge=0.5, le=300)] = 5.0
    maintenance_group_interval: Annotated[float, msgspec.Meta(ge=0, le=86_400)] = 300.0

    def validate(self) -> None:
        seen: set[str] = set()
        for i, ch in enumerate(self.channels):
            if isinstance(ch.chat, str) and not _USERNAME.match(ch.chat):
                raise ConfigError(f"{ch.chat!r} is neither a public @username nor a numeric id",
                                  key=f"channels[{i}].chat", fix='e.g. chat = "@films" or chat = -1001234567890')
            if ch.key in seen:
                raise ConfigError(f"{ch.chat!r} is listed twice", key=f"channels[{i}].chat",
                                  fix="list each chat once")
            seen.add(ch.key)
            if ch.link and not ch.link.startswith("https://t.me/"):
                raise ConfigError(f"{ch.link!r} is not a t.me link", key=f"channels[{i}].link",
                                  fix='e.g. link = "https://t.me/+AbCdEf" (or leave it empty)')
        if "{chats}" not in self.text:
            raise ConfigError("text must name the chats to join", key="text",
                              fix='keep "{chats}" in it, e.g. "Join {chats} first, then press Try again."')

    @property
    def gate_actions(self) -> frozenset[str]:
        """The kernel gate actions guarded (``deliver``, ``search``, ``inline``, ``deep_link``)."""
        return frozenset(GATE_ACTIONS[a] for a in self.actions if a in GATE_ACTIONS)
