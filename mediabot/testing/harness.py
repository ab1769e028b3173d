"""BotHarness: run a real bot against the fake Telegram, talk to it as a user.

A complete plugin test (the ``make_bot`` fixture comes with mediabot's
pytest plugin and gives the bot real Redis and MongoDB servers)::

    from mediabot import Command, PluginMeta, hookimpl

    class Hello:
        meta = PluginMeta(name="hello", description="Says hello.")
        def __init__(self, ctx): ...
        @hookimpl
        def mediabot_commands(self):
            return [Command(name="hello", description="Greet", handler=self.hello)]
        async def hello(self, ctx):
            await ctx.reply(f"Hello, {ctx.args or 'world'}!")

    async def test_hello(make_bot):
        bot = await make_bot(plugins=[Hello])
        replies = await bot.send("/hello Ann", user=1)
        assert replies.texts == ["Hello, Ann!"]

What the harness does:

* builds the app as :func:`mediabot.create_app` does from ``config`` (TOML
  text), enabling every plugin passed in ``plugins``; ``admins``/``owner``
  set ``[bot] admins``/``owner``;
* plugs a :class:`~mediabot.core.telegram.gateway.Gateway` over a
  :class:`~mediabot.testing.fake.FakeTelegram`, both on one
  :class:`~mediabot.testing.FakeClock`: pacing and FloodWaits
  run in virtual time, so "1 message per second" costs no real second; the
  app reports its Redis and MongoDB calls to that clock, which stands still
  while one is in flight;
* each action (:meth:`BotHarness.send`, :meth:`~BotHarness.press`,
  :meth:`~BotHarness.inline`, :meth:`~BotHarness.post`) pushes one update
  through pyrogram's handlers, the gateway and ``app.submit``, waits until
  the app has no work in flight, and returns what the bot did in response.

Replies are :class:`Replies`: a list of kernel :class:`~mediabot.Message`
(sent or edited in the chat of the update, in their current state) with
``.texts`` and, after a press, ``.answer`` (the toast/alert, a
:class:`~mediabot.testing.fake.CallbackAnswer`).
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from mediabot.core.app import App
from mediabot.core.compose import compose
from mediabot.core.config import load_raw
from mediabot.core.discovery import discover
from mediabot.core.telegram.convert import message_from_pyrogram
from mediabot.core.telegram.gateway import Gateway
from mediabot.core.types import Button, Message
from mediabot.testing.clock import FakeClock
from mediabot.testing.fake import CallbackAnswer, FakeTelegram, InlineAnswer
from mediabot.testing.tl import FakeFile

__all__ = ["BotHarness", "Replies"]

# Calls whose result is a message the user sees in the chat.
_SENDS = ("send_message", "send_cached_media", "send_document", "copy_message", "send_photo", "send_invoice")
_ALBUMS = ("send_media_group",)
_EDITS = ("edit_message_text", "edit_message_reply_markup", "edit_message_caption", "edit_message_media")


class Replies(list[Message]):
    """Messages the bot sent or edited in response to one action, as they are now.

    :ivar answer: after :meth:`BotHarness.press`, how the bot answered the
        press (``None`` if it did not).
    """

    answer: CallbackAnswer | None = None

    @property
    def texts(self) -> list[str]:
        """The text (or caption) of each reply; ``""`` for a file without caption."""
        return [m.text if m.text is not None else (m.caption or "") for m in self]

    @property
    def last(self) -> Message:
        if not self:
            raise AssertionError("the bot did not reply")
        return self[-1]


class BotHarness:
    """A running app on the fake Telegram, driven as users would drive it.

    Build it with :meth:`build` (or the ``make_bot`` fixture), then
    ``async with bot:`` or :meth:`start`/:meth:`stop`.

    :param app: the app, created with ``gateway=`` a :class:`Gateway` over ``fake``.
    :param fake: the fake Telegram behind the gateway.
    :param clock: the virtual clock shared by the gateway and the fake.
    :param timeout: real seconds an action may take before the test fails.
    """

    def __init__(self, app: App, fake: FakeTelegram, clock: FakeClock, *, timeout: float = 10.0,
                 cleanup: tempfile.TemporaryDirectory[str] | None = None) -> None:
        self.app = app
        self.fake = fake
        self.clock = clock
        self.timeout = timeout
        self._cleanup = cleanup

    @classmethod
    def build(cls, *, plugins: Iterable[Any] = (), config: str = "", admins: Iterable[int] = (),
              owner: int | None = None, env: Mapping[str, str] | None = None, directory: Path | None = None,
              clock: FakeClock | None = None, timeout: float = 10.0) -> BotHarness:
        """Create (not start) a bot.

        :param plugins: plugin classes to make available and enable.
        :param config: ``plugins.toml`` text (dedented); enabling is automatic.
        :param admins: user ids for ``[bot] admins`` (overrides the config's).
        :param owner: user id for ``[bot] owner``.
        :param env: environment: ``MEDIABOT_REDIS_URL``, ``MEDIABOT_MONGO_URI``,
            overrides (``MEDIABOT__SECTION__KEY``) and plugin secrets. Nothing
            is read from the process environment.
        :param directory: where to write the config file (default: a temporary directory).
        """
        cleanup = None
        if directory is None:
            cleanup = tempfile.TemporaryDirectory(prefix="mediabot-bot-")
            directory = Path(cleanup.name)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "plugins.toml"
        path.write_text(textwrap.dedent(config), encoding="utf-8")
        full_env = dict(env or {})
        # Signed buttons need a secret; a fixed one per bot avoids the "not set" warning.
        full_env.setdefault("MEDIABOT_CALLBACK_SECRET", secrets.token_hex(16))
        if admins:
            full_env["MEDIABOT__BOT__ADMINS"] = "[" + ", ".join(str(int(a)) for a in admins) + "]"
        if owner is not None:
            full_env["MEDIABOT__BOT__OWNER"] = str(int(owner))
        clock = clock if clock is not None else FakeClock()
        fake = FakeTelegram(clock)
        plugins = list(plugins)
        names = tuple(p.meta.name for p in plugins)
        try:
            # create_app's steps, plus the I/O observer only the testing kit passes.
            composition = compose(load_raw(path, full_env), discover(plugins), enable=names)
            app = App(composition, env=full_env, gateway=Gateway(fake, clock=clock), clock=clock,
                      io_observer=clock if isinstance(clock, FakeClock) else None)
        except BaseException:
            if cleanup is not None:
                cleanup.cleanup()
            raise
        return cls(app, fake, clock, timeout=timeout, cleanup=cleanup)

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> Self:
        await self.app.start()
        return self

    async def stop(self) -> None:
        try:
            await self.app.stop("test finished")
        finally:
            if self._cleanup is not None:
                self._cleanup.cleanup()
                self._cleanup = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    @property
    def gateway(self) -> Gateway:
        return self.app.telegram

    def plugin(self, name: str) -> Any:
        """The instance of an enabled plugin."""
        return self.app.plugin(name)

    # -- actions ---------------------------------------------------------------------
    async def send(self, text: str | None = None, *, user: int = 1, chat: int | None = None,
                   file: FakeFile | str | None = None, reply_to: int | None = None) -> Replies:
        """``user`` sends ``text`` (a caption when ``file`` is given) in a private chat, or in group ``chat``.

        :param file: a :class:`~mediabot.testing.tl.FakeFile`, or a file name.
        :return: what the bot sent or edited in that chat in response.
        """
        fake_file = _as_file(file)
        mark = len(self.fake.calls)
        if fake_file is None:
            await self.fake.user_message(user, text, chat_id=chat, reply_to=reply_to)
        else:
            await self.fake.user_message(user, chat_id=chat, file=fake_file, caption=text, reply_to=reply_to)
        await self.settle()
        return self._replies_since(mark, chat if chat is not None else user)

    async def press(self, message: Message, text: str | None = None, *, data: str | None = None,
                    user: int = 1) -> Replies:
        """``user`` presses the button labelled ``text`` on ``message`` (as it is now).

        :param data: press with this callback data instead, whether or not a
            button carries it (a forged or stale press).
        :return: what the bot sent or edited in that chat; ``.answer`` is the
            toast or alert the user saw.
        """
        chat_id = message.chat.id
        mark = len(self.fake.calls)
        if data is None:
            if text is None:
                raise ValueError("press(message, 'Button text') or press(message, data=...)")
            button = self.button(message, text)
            query_id = await self.fake.user_press(user, chat_id, message.id, button.callback or "")
        else:
            query_id = await self.fake.user_press(user, chat_id, message.id, data, forge=True)
        await self.settle()
        replies = self._replies_since(mark, chat_id)
        replies.answer = self.fake.callback_answers.get(query_id)
        return replies

    async def inline(self, query: str, *, user: int = 1, offset: str = "") -> InlineAnswer | None:
        """``user`` types ``@bot query``; returns the bot's answer (``None`` if it gave none)."""
        query_id = await self.fake.user_inline_query(user, query, offset)
        await self.settle()
        return self.fake.inline_answers.get(query_id)

    async def post(self, channel_id: int, text: str | None = None, *, media: FakeFile | str | None = None,
                   caption: str | None = None) -> Message:
        """A post appears in channel ``channel_id`` (ids look like ``-1001234567890``).

        :param media: a :class:`~mediabot.testing.tl.FakeFile` or a file name
            (the kind follows the extension: ``.mkv`` is a video...).
        :return: the post as the bot received it (with its ``file_unique_id``).
        """
        posted = await self.fake.channel_post(channel_id, text, file=_as_file(media), caption=caption)
        await self.settle()
        message = message_from_pyrogram(posted)
        assert message is not None
        return message

    async def edit_post(self, channel_id: int, message_id: int, caption: str) -> Message:
        """The channel's admin edits a post's caption (or text); returns it as the bot received it."""
        edited = await self.fake.channel_edit(channel_id, message_id, caption)
        await self.settle()
        message = message_from_pyrogram(edited)
        assert message is not None
        return message

    async def delete_posts(self, channel_id: int, message_ids: Iterable[int]) -> None:
        """The channel's admin deletes posts (Telegram tells the bot, as it does for channels)."""
        await self.fake.channel_delete(channel_id, list(message_ids))
        await self.settle()

    async def settle(self) -> None:
        """Wait until the app has no update handler or job step in flight."""
        try:
            await asyncio.wait_for(self.app.supervisor.wait_idle(), self.timeout)
        except TimeoutError:
            busy = ", ".join(self.app.supervisor.running("work")) or "?"
            raise AssertionError(f"the bot was still busy after {self.timeout:g}s: {busy}") from None

    # -- what the users see -----------------------------------------------------------
    def replies_to(self, user: int) -> list[Message]:
        """Every message the bot sent to ``user``'s private chat that still exists, as it is now."""
        return self.fake.sent_to(user)

    def button(self, message: Message, text: str) -> Button:
        """The button labelled ``text`` on ``message`` as it is now (after edits)."""
        current = self.fake.message(message.chat.id, message.id) or message
        buttons = [b for row in current.keyboard or [] for b in row]
        for b in buttons:
            if b.text == text:
                if b.callback is None:
                    raise AssertionError(f"button {text!r} opens a link or inline query; it cannot be pressed")
                return b
        shown = ", ".join(repr(b.text) for b in buttons) or "none"
        raise AssertionError(f"no button {text!r} on message {message.id}; buttons: {shown}")

    def _replies_since(self, mark: int, chat_id: int) -> Replies:
        ids: dict[int, None] = {}
        for call in self.fake.calls[mark:]:
            if not call.ok or call.params.get("chat_id") != chat_id:
                continue
            if call.method in _SENDS and call.result is not None:
                ids[call.result.id] = None
            elif call.method in _ALBUMS:
                ids.update(dict.fromkeys(m.id for m in call.result or []))
            elif call.method in _EDITS:
                ids[call.params["message_id"]] = None
        out = Replies()
        for message_id in ids:
            current = self.fake.message(chat_id, message_id)
            if current is not None:
                out.append(current)
        return out


def _as_file(file: FakeFile | str | None) -> FakeFile | None:
    if file is None or isinstance(file, FakeFile):
        return file
    return FakeFile(file_name=file)
