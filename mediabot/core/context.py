"""What a command or button handler receives: the update, who sent it, and ways to answer.

A handler answers through its context (``ctx.reply``, ``ctx.answer``,
``ctx.edit``), keeps per-user state with ``ctx.session``/``ctx.save_session``
and makes buttons that come back to one of its :class:`mediabot.Callback`
handlers with ``ctx.button``. Contexts are created per update and never shared.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any, TypeVar

from mediabot.core.commands import Command, Role
from mediabot.core.errors import MediabotError
from mediabot.core.telegram.text import split_text
from mediabot.core.types import Button, CallbackQuery, Chat, InlineQuery, InlineResult, Keyboard, Message, User

if TYPE_CHECKING:
    from mediabot.core.app import App

S = TypeVar("S")


class UsageError(MediabotError):
    """Raise from a command handler when the arguments are wrong.

    The user gets ``Usage: /name USAGE`` (after ``message``, when given) and
    nothing is logged as an error.

    :param message: one short line saying what is wrong, e.g. ``"PAGE must be a number."``.
    """

    def __init__(self, message: str = "") -> None:
        self.message = message
        super().__init__(message or "wrong arguments")


def split_args(text: str) -> list[str]:
    """Split like a shell does (quotes group words), without running one.

    Unbalanced quotes (``/search it's``) fall back to splitting on whitespace
    instead of failing: users type apostrophes.
    """
    if not text:
        return []
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


class _Context:
    """What both kinds of handler context share."""

    __slots__ = ("app", "chat", "plugin", "role", "user")

    def __init__(self, app: App, *, user: User, chat: Chat | None, role: Role, plugin: str) -> None:
        self.app = app
        self.user = user
        self.chat = chat
        self.role: Role = role
        self.plugin = plugin

    # -- sessions ----------------------------------------------------------------
    async def session(self, kind: str, type_: type[S]) -> S | None:
        """This user's stored state of ``kind`` decoded as ``type_``, or ``None``.

        ``None`` also when it expired or no longer matches ``type_``.
        """
        return await self.app.sessions.namespace(kind).get(self.user.id, type_)

    async def save_session(self, kind: str, value: Any, *, ttl: float | None = None) -> None:
        """Store ``value`` (a msgspec Struct or any msgspec-encodable value) as this user's ``kind`` state.

        :param ttl: seconds it lives; default ``[services] session_ttl``.
        """
        await self.app.sessions.namespace(kind).set(self.user.id, value, ttl)

    async def clear_session(self, kind: str) -> None:
        """Forget this user's ``kind`` state."""
        await self.app.sessions.namespace(kind).delete(self.user.id)

    # -- buttons -----------------------------------------------------------------
    def button(self, text: str, action: str, *args: object, bound: bool = True) -> Button:
        """An inline button that runs the :class:`mediabot.Callback` registered for ``action``.

        ``args`` come back as strings in ``ctx.args`` of the button's handler.

        :param bound: only this user may press it (default); ``False`` lets
            anyone in the chat press it.
        :raises mediabot.CallbackDataTooLong: action and arguments do not fit
            Telegram's 64 bytes (keep bulky state in a session instead).
        """
        data = self.app.dispatcher.signer.sign(action, args, user_id=self.user.id if bound else None)
        return Button(text=text, callback=data)

    def deep_link(self, action: str, *args: object) -> str:
        """A ``https://t.me/<bot>?start=...`` link that opens the private chat and runs ``action``.

        Opening it sends ``/start PAYLOAD``; the kernel verifies the signature
        and age and calls ``mediabot_deep_link(app, ctx, action, args)``, where
        the plugin owning ``action`` answers ``True``. Anyone may open it (a
        group's members): check in the handler what the opener may do.
        ``action`` and ``args`` are ASCII letters and digits (Telegram's limit
        for a start payload), 64 characters in all.
        """
        return self.app.deep_link(action, *args)


class CommandContext(_Context):
    """A command call: ``/name args``.

    :ivar app: the application (``app.telegram`` to send elsewhere, ``app.sessions``...).
    :ivar message: the :class:`mediabot.Message` carrying the command.
    :ivar user: who sent it.
    :ivar chat: where it was sent.
    :ivar command: the :class:`mediabot.Command` being run.
    :ivar args: the text after the command name, stripped.
    :ivar argv: ``args`` split like a shell (quotes group words).
    :ivar role: the caller's role: ``user``, ``admin`` or ``owner``.
    :ivar plugin: the name of the plugin the command belongs to.
    """

    __slots__ = ("_argv", "args", "command", "message")

    def __init__(self, app: App, *, message: Message, user: User, command: Command, args: str,
                 role: Role, plugin: str) -> None:
        super().__init__(app, user=user, chat=message.chat, role=role, plugin=plugin)
        self.message = message
        self.command = command
        self.args = args
        self._argv: list[str] | None = None

    @property
    def argv(self) -> list[str]:
        if self._argv is None:
            self._argv = split_args(self.args)
        return self._argv

    async def reply(self, text: str, *, keyboard: Keyboard | None = None, html: bool = False) -> Message:
        """Answer in the chat the command came from (quoting it in groups).

        A text over Telegram's 4,096 characters goes as several messages, cut
        at blank lines, line breaks or spaces (:func:`~mediabot.core.telegram.text.split_text`);
        the keyboard goes with the last one, which is returned.
        """
        assert self.chat is not None
        return await _send_parts(self.app, self.chat.id, text, keyboard=keyboard, html=html,
                                 reply_to=self.message.id if self.chat.is_group else None)

    async def reply_document(self, data: bytes, filename: str, *, caption: str | None = None) -> Message:
        """Answer with a file made of ``data`` (an export, a log excerpt), named ``filename``.

        Sent from memory to the chat the command came from. ``data`` must not
        be empty (Telegram refuses empty files).
        """
        assert self.chat is not None
        return await self.app.telegram.send_document(self.chat.id, data, filename=filename, caption=caption)


class CallbackContext(_Context):
    """A press on a button made with ``ctx.button(text, action, *args)``.

    :ivar query: the :class:`mediabot.CallbackQuery`.
    :ivar message: the message carrying the keyboard (``None`` for inline-mode messages).
    :ivar action: the button's action.
    :ivar args: its arguments, as strings.
    :ivar user: who pressed it.
    :ivar role: their role.
    :ivar answered: whether the press was answered already (the kernel answers
        it without text after the handler when the handler did not).
    """

    __slots__ = ("action", "answered", "args", "message", "query")

    def __init__(self, app: App, *, query: CallbackQuery, action: str, args: tuple[str, ...],
                 role: Role, plugin: str) -> None:
        message = query.message
        super().__init__(app, user=query.from_user, chat=message.chat if message else None,
                         role=role, plugin=plugin)
        self.query = query
        self.message = message
        self.action = action
        self.args = args
        self.answered = False

    async def answer(self, text: str | None = None, *, alert: bool = False) -> None:
        """Stop the button's spinner, optionally with a toast (or, with ``alert``, a dialog)."""
        self.answered = True
        await self.app.telegram.answer_callback(self.query.id, text, alert=alert)

    async def edit(self, text: str, *, keyboard: Keyboard | None = None) -> None:
        """Replace the text (and keyboard) of the message carrying the button."""
        if self.message is None:
            raise RuntimeError("this button is on an inline-mode message, which cannot be edited here")
        await self.app.telegram.edit_text(self.message.chat.id, self.message.id, text, keyboard=keyboard)

    async def reply(self, text: str, *, keyboard: Keyboard | None = None, html: bool = False) -> Message:
        """Send a new message to the chat of the button (or to the user, for inline-mode messages).

        Long texts are cut as for :meth:`CommandContext.reply`.
        """
        chat_id = self.message.chat.id if self.message is not None else self.user.id
        return await _send_parts(self.app, chat_id, text, keyboard=keyboard, html=html)


class UpdateContext(_Context):
    """An update a :class:`mediabot.Handler` matched: a plain message, an inline query, ...

    :ivar update: the update, as the kernel typed it.
    :ivar message: the :class:`mediabot.Message`, for a message (``None`` otherwise).
    :ivar query: the :class:`mediabot.InlineQuery`, for an inline query (``None`` otherwise).
    :ivar user: who sent it.
    :ivar chat: where (``None`` for an inline query).
    :ivar role: their role.
    :ivar route: the handler's route, ``<plugin>.<name>``.
    :ivar plugin: the name of the handler's plugin.
    """

    __slots__ = ("message", "query", "route", "update")

    def __init__(self, app: App, *, update: Any, user: User, role: Role, plugin: str, route: str) -> None:
        message = update if isinstance(update, Message) else getattr(update, "message", None)
        message = message if isinstance(message, Message) else None
        super().__init__(app, user=user, chat=message.chat if message is not None else None, role=role,
                         plugin=plugin)
        self.update = update
        self.message = message
        self.query = update if isinstance(update, InlineQuery) else None
        self.route = route

    @property
    def text(self) -> str:
        """The message's text (or caption), or the inline query's; ``""`` when there is none."""
        if self.query is not None:
            return self.query.query
        if self.message is not None:
            return self.message.text or self.message.caption or ""
        return ""

    async def reply(self, text: str, *, keyboard: Keyboard | None = None, html: bool = False) -> Message:
        """Answer in the message's chat (quoting it in groups); for other updates, in the user's private chat.

        Long texts are cut as for :meth:`CommandContext.reply`.
        """
        if self.message is not None:
            return await _send_parts(self.app, self.message.chat.id, text, keyboard=keyboard, html=html,
                                     reply_to=self.message.id if self.message.chat.is_group else None)
        return await _send_parts(self.app, self.user.id, text, keyboard=keyboard, html=html)

    async def answer_inline(self, results: list[InlineResult], *, next_offset: str = "") -> None:
        """Answer the inline query with ``results`` (an empty list shows nothing)."""
        if self.query is None:
            raise RuntimeError("answer_inline answers an inline query; this update is not one")
        await self.app.telegram.answer_inline(self.query.id, results, next_offset=next_offset)


async def _send_parts(app: App, chat_id: int, text: str, *, keyboard: Keyboard | None, html: bool,
                      reply_to: int | None = None) -> Message:
    parts = split_text(text, html=html)
    sent: Message | None = None
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        sent = await app.telegram.send_text(chat_id, part, keyboard=keyboard if last else None, html=html,
                                            reply_to=reply_to if i == 0 else None)
    assert sent is not None
    return sent


__all__ = ["CallbackContext", "CommandContext", "UpdateContext", "UsageError", "split_args"]
