"""Middleware: checks a plugin puts in front of every update, before it is routed.

Modelled on aiogram's outer middlewares. A middleware is an async callable
``middleware(incoming, call_next)``: it looks at the :class:`Incoming`
update, and either calls ``await call_next()`` to let it go on (to the next
middleware, and finally to the commands, buttons and handlers), or does not,
which stops it there — usually after ``await incoming.refuse(text)``.

The kernel's own checks come first (a banned sender's update stops before
any middleware), then every plugin's middlewares, in plugin order. A
middleware that raises is logged with its plugin's name and counted like any
hook failure, and the update goes on as if it had called ``call_next``: one
plugin's bug does not stop the bot from answering.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from mediabot.core.commands import Role, parse_command
from mediabot.core.routing import chat_kind, sender_of, update_kind
from mediabot.core.types import CallbackQuery, Chat, InlineQuery, Keyboard, Message, Update, User

if TYPE_CHECKING:
    from mediabot.core.app import App

__all__ = ["Incoming", "Middleware", "MiddlewareChain"]

log = logging.getLogger("mediabot.middleware")


class Incoming:
    """An update on its way through the middleware chain.

    :ivar update: the update, as the kernel typed it.
    :ivar kind: ``message``, ``callback``, ``inline``, ``edited``, ... (:func:`mediabot.update_kind`).
    :ivar user: the user account behind it (``None``: a channel post, an anonymous admin).
    :ivar chat: where it happened (``None``: an inline query).
    :ivar role: the user's role (``None`` without a user).
    :ivar command: for a ``/command`` message, its name (``start``); else ``None``.
    """

    __slots__ = ("app", "chat", "command", "kind", "role", "update", "user")

    def __init__(self, app: App, update: Update | Any) -> None:
        self.app = app
        self.update = update
        self.kind = update_kind(update)
        self.user: User | None = sender_of(update)
        self.role: Role | None = app.role_of(self.user.id) if self.user is not None else None
        chat: Chat | None = None
        if isinstance(update, Message):
            chat = update.chat
        elif isinstance(update, CallbackQuery) and update.message is not None:
            chat = update.message.chat
        else:
            found = getattr(update, "chat", None)
            chat = found if isinstance(found, Chat) else None
        self.chat = chat
        self.command: str | None = None
        if isinstance(update, Message) and update.text and update.text[0] == "/" and not update.is_channel_post:
            parsed = parse_command(update.text)
            self.command = parsed[0] if parsed is not None else None

    @property
    def where(self) -> str | None:
        """``private``, ``group``, ``channel``, or ``None`` without a chat."""
        return chat_kind(self.chat)

    @property
    def is_staff(self) -> bool:
        """Whether the sender is an admin or the owner (most checks let them through)."""
        return self.role in ("admin", "owner")

    async def refuse(self, text: str | None, keyboard: Keyboard | None = None) -> None:
        """Tell the sender ``text`` the way this kind of update can be answered, and log nothing.

        A message is answered in its chat (quoting it in groups), a button press
        with an alert, an inline query with no results; other updates are not
        answered. ``None``: answer without a word (a press's spinner stops).
        """
        tg = self.app.telegram if self.app.gateway is not None else None
        if tg is None:
            return
        update = self.update
        try:
            if isinstance(update, CallbackQuery):
                await tg.answer_callback(update.id, text, alert=text is not None)
            elif isinstance(update, InlineQuery):
                await tg.answer_inline(update.id, [])
            elif isinstance(update, Message) and text is not None and not update.is_channel_post:
                await tg.send_text(update.chat.id, text, keyboard=keyboard,
                                   reply_to=None if update.chat.is_private else update.id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. the user blocked the bot
            log.warning("could not answer a refused %s: %s: %s", self.kind, type(exc).__name__, exc)


Middleware = Callable[[Incoming, Callable[[], Awaitable[None]]], Awaitable[None]]


class MiddlewareChain:
    """The plugins' middlewares in order, ending at ``terminal`` (the router)."""

    def __init__(self, app: App, middlewares: Sequence[tuple[str, Middleware]],
                 terminal: Callable[[Update], Awaitable[None]]) -> None:
        self.app = app
        self.middlewares = list(middlewares)
        self.terminal = terminal

    def __bool__(self) -> bool:
        return bool(self.middlewares)

    async def run(self, update: Update) -> None:
        if not self.middlewares:
            await self.terminal(update)
            return
        await self._step(Incoming(self.app, update), 0)

    async def _step(self, incoming: Incoming, i: int) -> None:
        if i == len(self.middlewares):
            await self.terminal(incoming.update)
            return
        plugin, middleware = self.middlewares[i]
        called = False

        async def call_next() -> None:
            nonlocal called
            if called:  # a middleware calling it twice must not answer twice
                return
            called = True
            await self._step(incoming, i + 1)

        try:
            await middleware(incoming, call_next)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - one plugin's check never silences the bot
            self.app.host.failures.record(plugin, "middleware", exc)
            if not called:
                await call_next()
