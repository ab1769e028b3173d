"""The Telegram gateway: the one narrow interface plugins talk to Telegram through.

``app.telegram`` is a :class:`Gateway`. It wraps a pyrogram-``Client``-like
object (Kurigram's ``pyrogram.Client`` in production, the testing kit's
``FakeTelegram`` in tests) and runs every call through
:class:`~mediabot.core.telegram.flood.FloodControl`: per-domain concurrency,
send pacing (global, per chat), FloodWait pauses shared by the whole domain,
retries of transient failures. It speaks kernel types only: plugins pass
:data:`~mediabot.Keyboard` and :class:`~mediabot.InlineResult` and get
:class:`~mediabot.Message` and :class:`~mediabot.Chat` back.

Errors a caller may see (all :class:`~mediabot.core.telegram.errors.TelegramError`):
``FloodWaitTooLong`` (reschedule), ``PermanentTelegramError`` (with a
``reason``: ``blocked``, ``deactivated``, ``peer_invalid``...; never
retried), ``TransientTelegramError`` (Telegram unreachable after retries).

Domains: ``send`` for messages, files, copies and pins (paced per chat and
globally, by priority: ``priority="reply"`` (default) for what a user waits
for, ``priority="bulk"`` for broadcasts, which only use the slots replies
leave, up to ``[telegram] bulk_share``; with Redis the global slots are
shared by every process of the bot, see :mod:`.budget`);
``edit`` for edits, deletions, callback and inline answers and command
menus; ``read`` for channel reads and chat resolution.

Updates: :meth:`Gateway.start` registers pyrogram handlers for messages
(private, group, channel posts, successful payments), edits, deletions,
button presses, inline queries, membership changes
(:class:`~mediabot.ChatMemberUpdated`), join requests
(:class:`~mediabot.JoinRequest`) and pre-checkout queries
(:class:`~mediabot.PreCheckoutQuery`); each update is converted to a kernel
type and handed to ``app.submit``.

Metrics (in ``app.metrics``): ``mediabot_telegram_events_total{event,domain}``
counts flood control events (``flood_wait``, ``domain_paused``,
``transient_retry``, ``permanent``...); ``mediabot_telegram_requests_total
{method,outcome}`` counts calls by outcome (``ok``, ``error`` or the typed
error's class name).
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pyrogram import enums
from pyrogram import types as pt
from pyrogram.errors import MessageNotModified, QueryIdInvalid
from pyrogram.file_id import FileId, FileType
from pyrogram.handlers import (
    CallbackQueryHandler,
    ChatJoinRequestHandler,
    ChatMemberUpdatedHandler,
    DeletedMessagesHandler,
    EditedMessageHandler,
    InlineQueryHandler,
    MessageHandler,
    PreCheckoutQueryHandler,
)

from mediabot.core.clock import Clock
from mediabot.core.telegram.chat_admin import ChatAdmin
from mediabot.core.telegram.convert import (
    callback_from_pyrogram,
    chat_from_pyrogram,
    deleted_from_pyrogram,
    edited_from_pyrogram,
    inline_from_pyrogram,
    inline_result_to_pyrogram,
    join_request_from_pyrogram,
    keyboard_to_pyrogram,
    member_updated_from_pyrogram,
    message_from_pyrogram,
    pre_checkout_from_pyrogram,
    user_from_pyrogram,
)
from mediabot.core.telegram.errors import PermanentTelegramError, TelegramError
from mediabot.core.telegram.flood import FloodConfig, FloodControl, FloodEvent
from mediabot.core.telegram.pacing import Priority
from mediabot.core.telegram.stars import StarsPayments
from mediabot.core.types import (
    AlbumItem,
    Chat,
    InlineResult,
    Keyboard,
    Message,
    User,
)

if TYPE_CHECKING:
    from mediabot.core.app import App
    from mediabot.core.metrics import Metrics

__all__ = ["READ_BATCH", "Gateway"]

log = logging.getLogger("mediabot.telegram")
T = TypeVar("T")

#: Message ids per ``get_messages`` call (Telegram's limit).
READ_BATCH = 200
#: Message ids per ``delete_messages`` call (Telegram's limit).
DELETE_BATCH = 100
_DEFAULT_TIMEOUT = 30.0


class Gateway(ChatAdmin, StarsPayments):
    """Everything the framework sends to or reads from Telegram.

    Groups and channels (members, invite links, join requests) are in
    :class:`~mediabot.core.telegram.chat_admin.ChatAdmin`; Stars payments in
    :class:`~mediabot.core.telegram.stars.StarsPayments`.

    :param client: a started-on-demand pyrogram ``Client`` (or the fake).
    :param config: flood limits; default: the app's ``[telegram]`` section,
        read at :meth:`start`.
    :param clock: time source for pacing and waits (a ``FakeClock`` in tests).
    :param rng: jitter source; seed one for reproducible tests.
    """

    def __init__(self, client: Any, *, config: FloodConfig | None = None, clock: Clock | None = None,
                 rng: random.Random | None = None) -> None:
        self.client = client
        self._config = config
        self._clock = clock
        self._rng = rng
        self.flood = FloodControl(config, clock=clock, on_event=self._on_flood_event, rng=rng)
        self.call_timeout: float = getattr(config, "call_timeout", _DEFAULT_TIMEOUT)
        #: The bot's own account, known once started.
        self.me: User | None = None
        self._app: App | None = None
        self._handlers: list[Any] = []
        self._accepting = False
        self._client_started = False
        self._events: Any = None
        self._requests: Any = None
        #: FloodWaits Telegram answered to sends of this process; a bulk
        #: sender compares it between sends to slow down (they are retried here).
        self.send_flood_waits = 0

    # -- lifecycle -------------------------------------------------------------------
    async def start(self, app: App) -> None:
        """Connect, learn who the bot is, and start handing updates to ``app.submit``."""
        self._app = app
        if self._config is None:
            cfg = app.section("telegram")
            self.flood = FloodControl(cfg, clock=self._clock, on_event=self._on_flood_event, rng=self._rng)
            self.call_timeout = cfg.call_timeout
        self.bind_metrics(app.metrics)
        self._share_budget(app)
        # Handlers before connecting: pyrogram drops updates nobody handles.
        self._handlers = [MessageHandler(self._on_message), CallbackQueryHandler(self._on_callback),
                          InlineQueryHandler(self._on_inline), EditedMessageHandler(self._on_edited),
                          DeletedMessagesHandler(self._on_deleted), ChatMemberUpdatedHandler(self._on_member),
                          ChatJoinRequestHandler(self._on_join_request),
                          PreCheckoutQueryHandler(self._on_pre_checkout)]
        for handler in self._handlers:
            self.client.add_handler(handler)
        self._accepting = True
        await self.client.start()
        self._client_started = True
        me = await self._call("read", "get_me", lambda: self.client.get_me())
        self.me = user_from_pyrogram(me)
        log.info("connected to Telegram as @%s (%d)", self.me.username, self.me.id)

    def _share_budget(self, app: App) -> None:
        """Book global send slots in Redis, shared by every process of the bot (``[telegram] shared_budget``)."""
        redis = getattr(app, "redis", None)  # a stand-in app without resources paces locally
        if redis is None or not getattr(self.flood.config, "shared_budget", True):
            return
        from mediabot.core.telegram.budget import SharedBudget  # needs redis-py: only with Redis

        pacer = self.flood.pacer
        pacer.budget = SharedBudget(redis, getattr(app, "redis_health", None), prefix=app.section("redis").key_prefix,
                                    local=pacer.local_budget, clock=self.flood.clock)

    def bind_metrics(self, metrics: Metrics) -> None:
        """Count flood events and calls in ``metrics`` (done by :meth:`start`)."""
        self._events = metrics.counter(
            "mediabot_telegram_events_total", "Flood control events (FloodWaits, pauses, retries, errors)",
            ["event", "domain"])
        self._requests = metrics.counter(
            "mediabot_telegram_requests_total", "Telegram calls by method and outcome", ["method", "outcome"])

    async def stop_updates(self) -> None:
        """Stop taking updates; sending keeps working until :meth:`close`."""
        self._accepting = False
        for handler in self._handlers:
            try:
                self.client.remove_handler(handler)
            except ValueError:
                pass  # already gone
        self._handlers = []

    async def close(self) -> None:
        """Disconnect the client."""
        self._accepting = False
        if self._client_started:
            self._client_started = False
            await self.client.stop()

    # -- sending ---------------------------------------------------------------------
    async def send_text(self, chat_id: int, text: str, *, keyboard: Keyboard | None = None,
                        reply_to: int | None = None, html: bool = False, silent: bool = False,
                        protect_content: bool = False, priority: Priority = "reply") -> Message:
        """Send a text message.

        :param html: read ``text`` as Telegram HTML (``<b>``, ``<a href>``...);
            otherwise it is sent exactly as given, with no formatting.
        :param reply_to: id of the message in ``chat_id`` to reply to.
        :param silent: deliver without a notification sound.
        :param protect_content: the receiver cannot forward or save it.
        :param priority: ``reply`` (a user waits for it) or ``bulk`` (a broadcast).
        """
        markup = keyboard_to_pyrogram(keyboard)
        result = await self._call("send", "send_message", lambda: self.client.send_message(
            chat_id=chat_id, text=text, parse_mode=_mode(html), reply_markup=markup,
            reply_parameters=_reply(reply_to), disable_notification=silent or None,
            protect_content=protect_content or None),
            chat_id=chat_id, priority=priority)
        return self._message(result, "send_message")

    async def send_media(self, chat_id: int, file_id: str, *, caption: str | None = None,
                         keyboard: Keyboard | None = None, html: bool = False,
                         protect_content: bool = False, silent: bool = False,
                         priority: Priority = "reply") -> Message:
        """Send a file Telegram already has, by ``file_id`` (no upload).

        :param protect_content: the receiver cannot forward or save it.
        :param silent: deliver without a notification sound.
        :param priority: ``reply`` (a user waits for it) or ``bulk`` (a broadcast).
        :raises mediabot.PermanentTelegramError: with reason ``file_gone`` when
            Telegram no longer has the file (or ``file_id`` is malformed).
        """
        markup = keyboard_to_pyrogram(keyboard)

        async def send() -> Any:
            try:
                return await self.client.send_cached_media(
                    chat_id=chat_id, file_id=file_id, caption=caption or "", parse_mode=_mode(html),
                    protect_content=protect_content or None, reply_markup=markup,
                    disable_notification=silent or None)
            except ValueError as exc:  # pyrogram's verdict on a malformed file_id
                raise PermanentTelegramError("file_gone", exc, method="send_cached_media") from exc

        return self._message(await self._call("send", "send_cached_media", send, chat_id=chat_id,
                                              priority=priority), "send_cached_media")

    async def send_document(self, chat_id: int, data: bytes, *, filename: str, caption: str | None = None,
                            html: bool = False, silent: bool = False, protect_content: bool = False,
                            priority: Priority = "reply") -> Message:
        """Upload ``data`` as a document named ``filename`` (a log excerpt, an export).

        The bytes are sent from memory; nothing is written to disk. Telegram
        refuses an empty file: ``data`` must not be empty.

        :param silent: deliver without a notification sound.
        :param priority: ``reply`` (a user waits for it) or ``bulk`` (a broadcast).
        """
        if not data:
            raise ValueError("send_document: Telegram refuses an empty file")

        async def send() -> Any:
            # A fresh stream per attempt: a FloodWait retry must upload from the start.
            stream = io.BytesIO(data)
            stream.name = filename
            return await self.client.send_document(
                chat_id=chat_id, document=stream, file_name=filename, caption=caption or "",
                parse_mode=_mode(html), disable_notification=silent or None,
                protect_content=protect_content or None)

        return self._message(await self._call("send", "send_document", send, chat_id=chat_id,
                                              priority=priority), "send_document")

    async def copy_message(self, chat_id: int, from_chat_id: int, message_id: int, *,
                           caption: str | None = None, keyboard: Keyboard | None = None,
                           keep_keyboard: bool = False, silent: bool = False, protect_content: bool = False,
                           priority: Priority = "reply") -> Message:
        """Copy a message (e.g. a catalogue post) into ``chat_id`` without a "forwarded from" header.

        The copy carries ``keyboard``; without one it carries the source's
        buttons with ``keep_keyboard=True``, none otherwise. ``caption``
        replaces a file's caption; a text is copied as is.

        :param silent: deliver without a notification sound.
        :param priority: ``reply`` (a user waits for it) or ``bulk`` (a broadcast).
        :raises PermanentTelegramError: ``message_empty`` when the source is gone.
        """
        # pyrogram's default (the ``object`` class itself) means "the source's markup".
        markup: Any = object if keyboard is None and keep_keyboard else keyboard_to_pyrogram(keyboard)
        result = await self._call("send", "copy_message", lambda: self.client.copy_message(
            chat_id=chat_id, from_chat_id=from_chat_id, message_id=message_id, caption=caption,
            reply_markup=markup, disable_notification=silent or None, protect_content=protect_content or None),
            chat_id=chat_id, priority=priority)
        if result is None:
            # pyrogram copies nothing (and returns None) for a deleted or service message.
            raise PermanentTelegramError("message_empty", method="copy_message")
        return self._message(result, "copy_message")

    async def copy_album(self, chat_id: int, from_chat_id: int, message_id: int, *, size: int = 10,
                         silent: bool = False, protect_content: bool = False,
                         priority: Priority = "reply") -> list[Message]:
        """Copy the whole album (media group) ``message_id`` belongs to, captions included.

        :param size: how many messages the album holds (:meth:`album` tells):
            paced as that many sends, since Telegram counts each. The default,
            10, is the most an album can hold.
        :raises PermanentTelegramError: ``message_empty`` when the source is
            gone or is not part of an album.
        """

        async def copy() -> Any:
            try:
                return await self.client.copy_media_group(chat_id=chat_id, from_chat_id=from_chat_id,
                                                          message_id=message_id,
                                                          disable_notification=silent or None,
                                                          protect_content=protect_content or None)
            except ValueError as exc:  # pyrogram: "the message doesn't belong to a media group"
                raise PermanentTelegramError("message_empty", exc, method="copy_media_group") from exc

        result = await self._call("send", "copy_media_group", copy, chat_id=chat_id, priority=priority,
                                  weight=max(1, min(size, 10)))
        return [self._message(m, "copy_media_group") for m in result or []]

    async def pin(self, chat_id: int, message_id: int, *, silent: bool = True,
                  priority: Priority = "reply") -> None:
        """Pin a message in ``chat_id`` (in a private chat, for the user too).

        Paced like a send: pinning posts a service message in the chat.

        :param silent: pin without notifying the chat's members.
        """
        both = chat_id > 0  # a private chat: pin on the user's side, not only the bot's

        await self._call("send", "pin_chat_message", lambda: self.client.pin_chat_message(
            chat_id=chat_id, message_id=message_id, disable_notification=silent, both_sides=both),
            chat_id=chat_id, priority=priority)

    async def send_photo(self, chat_id: int, photo: str, *, caption: str | None = None,
                         keyboard: Keyboard | None = None, html: bool = False, protect_content: bool = False,
                         silent: bool = False, priority: Priority = "reply") -> Message:
        """Send a photo by ``file_id`` or by an ``http(s)`` URL Telegram fetches itself.

        :raises mediabot.PermanentTelegramError: ``file_gone`` for a malformed
            ``file_id``; ``bad_request`` when Telegram cannot fetch the URL.
        """
        _check_remote(photo, "send_photo")
        markup = keyboard_to_pyrogram(keyboard)

        async def send() -> Any:
            try:
                return await self.client.send_photo(
                    chat_id=chat_id, photo=photo, caption=caption or "", parse_mode=_mode(html),
                    protect_content=protect_content or None, reply_markup=markup,
                    disable_notification=silent or None)
            except ValueError as exc:  # pyrogram: neither a URL nor a valid photo file_id
                raise PermanentTelegramError("file_gone", exc, method="send_photo") from exc

        return self._message(await self._call("send", "send_photo", send, chat_id=chat_id, priority=priority),
                             "send_photo")

    async def send_album(self, chat_id: int, items: Sequence[AlbumItem], *, html: bool = False,
                         protect_content: bool = False, silent: bool = False,
                         priority: Priority = "reply") -> list[Message]:
        """Send 2-10 files as one album (media group); each :class:`~mediabot.AlbumItem` has its caption.

        Paced as one send per file, since Telegram counts each.

        :raises ValueError: fewer than 2 or more than 10 items.
        :raises mediabot.PermanentTelegramError: ``file_gone`` for a malformed ``file_id``.
        """
        if not 2 <= len(items) <= 10:
            raise ValueError(f"an album holds 2 to 10 files, not {len(items)}")
        media = [_input_media(item.media, item.caption, html, "send_media_group") for item in items]

        async def send() -> Any:
            try:
                return await self.client.send_media_group(chat_id=chat_id, media=media,
                                                          protect_content=protect_content or None,
                                                          disable_notification=silent or None)
            except ValueError as exc:
                raise PermanentTelegramError("file_gone", exc, method="send_media_group") from exc

        result = await self._call("send", "send_media_group", send, chat_id=chat_id, priority=priority,
                                  weight=len(items))
        return [self._message(m, "send_media_group") for m in result or []]

    # -- editing ---------------------------------------------------------------------
    async def edit_text(self, chat_id: int, message_id: int, text: str, *, keyboard: Keyboard | None = None,
                        html: bool = False) -> None:
        """Replace a message's text (a file's caption) and keyboard.

        Telegram's rule: an edit without ``keyboard`` removes the keyboard.
        Editing a message to what it already says is not an error.
        """
        markup = keyboard_to_pyrogram(keyboard)

        async def edit() -> None:
            try:
                await self.client.edit_message_text(chat_id=chat_id, message_id=message_id, text=text,
                                                    parse_mode=_mode(html), reply_markup=markup)
            except MessageNotModified:
                pass  # a double press on "Next" lands here: the user sees the right page already

        await self._call("edit", "edit_message_text", edit)

    async def edit_caption(self, chat_id: int, message_id: int, caption: str, *,
                           keyboard: Keyboard | None = None, html: bool = False) -> None:
        """Replace a file's caption (and keyboard: without one, it is removed, as with :meth:`edit_text`)."""
        markup = keyboard_to_pyrogram(keyboard)

        async def edit() -> None:
            try:
                await self.client.edit_message_caption(chat_id=chat_id, message_id=message_id, caption=caption,
                                                       parse_mode=_mode(html), reply_markup=markup)
            except MessageNotModified:
                pass

        await self._call("edit", "edit_message_caption", edit)

    async def edit_media(self, chat_id: int, message_id: int, media: str, *, caption: str | None = None,
                         keyboard: Keyboard | None = None, html: bool = False) -> None:
        """Replace a message's file: ``media`` is a ``file_id`` or the ``http(s)`` URL of a photo.

        The kind (photo, video, audio, document, animation) is the one the
        ``file_id`` denotes. ``caption`` replaces the caption (none: no caption).

        :raises mediabot.PermanentTelegramError: ``file_gone`` for a malformed ``file_id``.
        """
        markup = keyboard_to_pyrogram(keyboard)
        input_media = _input_media(media, caption, html, "edit_message_media")

        async def edit() -> None:
            try:
                await self.client.edit_message_media(chat_id=chat_id, message_id=message_id, media=input_media,
                                                     reply_markup=markup)
            except MessageNotModified:
                pass
            except ValueError as exc:
                raise PermanentTelegramError("file_gone", exc, method="edit_message_media") from exc

        await self._call("edit", "edit_message_media", edit)

    async def edit_keyboard(self, chat_id: int, message_id: int, keyboard: Keyboard | None) -> None:
        """Replace a message's keyboard (``None`` or ``[]`` removes it)."""
        markup = keyboard_to_pyrogram(keyboard)

        async def edit() -> None:
            try:
                await self.client.edit_message_reply_markup(chat_id=chat_id, message_id=message_id,
                                                            reply_markup=markup)
            except MessageNotModified:
                pass

        await self._call("edit", "edit_message_reply_markup", edit)

    async def delete(self, chat_id: int, message_ids: int | Sequence[int]) -> None:
        """Delete messages; ids that no longer exist are ignored."""
        ids = [message_ids] if isinstance(message_ids, int) else list(message_ids)
        for start in range(0, len(ids), DELETE_BATCH):
            batch = ids[start:start + DELETE_BATCH]
            await self._call("edit", "delete_messages",
                             functools.partial(self.client.delete_messages, chat_id=chat_id, message_ids=batch))

    # -- answering -------------------------------------------------------------------
    async def answer_callback(self, callback_id: str, text: str | None = None, *, alert: bool = False) -> None:
        """Answer a button press: a short toast, an alert box with ``alert=True``, or nothing.

        A query too old to answer (Telegram gives about 15 seconds) is ignored.
        """

        async def answer() -> None:
            try:
                await self.client.answer_callback_query(callback_query_id=callback_id, text=text,
                                                        show_alert=alert)
            except QueryIdInvalid:
                log.debug("callback query %s expired before it was answered", callback_id)

        await self._call("edit", "answer_callback_query", answer)

    async def answer_inline(self, query_id: str, results: list[InlineResult], *, next_offset: str = "",
                            cache_time: int = 0, personal: bool = True) -> None:
        """Answer an inline query with up to 50 results.

        :param next_offset: passed back in the next query's ``offset`` when the
            user scrolls; empty when there are no more results.
        :param personal: results depend on the user (Telegram caches per user).
        """
        converted = [inline_result_to_pyrogram(r) for r in results]

        async def answer() -> None:
            try:
                await self.client.answer_inline_query(inline_query_id=query_id, results=converted,
                                                      cache_time=cache_time, is_personal=personal,
                                                      next_offset=next_offset)
            except QueryIdInvalid:
                # The user typed on: Telegram already sent a newer query.
                log.debug("inline query %s expired before it was answered", query_id)

        await self._call("edit", "answer_inline_query", answer)

    async def set_commands(self, commands: list[tuple[str, str]], *,
                           scope: Literal["users", "admins"] = "users", chat_id: int | None = None) -> None:
        """Set the command menu Telegram shows.

        ``scope="users"``: every private chat (and the default menu).
        ``scope="admins"``: the private chat with ``chat_id`` only (one call per admin).
        """
        bot_commands = [pt.BotCommand(name, description) for name, description in commands]
        scopes: list[Any]
        if scope == "users":
            scopes = [pt.BotCommandScopeAllPrivateChats(), pt.BotCommandScopeDefault()]
        elif scope == "admins":
            if chat_id is None:
                raise ValueError("set_commands(scope='admins') needs the admin's chat_id")
            scopes = [pt.BotCommandScopeChat(chat_id=chat_id)]
        else:
            raise ValueError(f"scope must be 'users' or 'admins', not {scope!r}")
        for s in scopes:
            await self._call("edit", "set_bot_commands",
                             functools.partial(self.client.set_bot_commands, commands=bot_commands, scope=s))

    # -- reading ---------------------------------------------------------------------
    async def read_channel(self, chat_id: int, ids: Sequence[int]) -> list[Message]:
        """Messages ``ids`` of ``chat_id``, in the order asked; deleted and empty ones are skipped.

        Reads in batches of :data:`READ_BATCH` ids per call.
        """
        out: list[Message] = []
        ids = list(ids)
        for start in range(0, len(ids), READ_BATCH):
            batch = ids[start:start + READ_BATCH]
            found = await self._call("read", "get_messages",
                                     functools.partial(self.client.get_messages, chat_id=chat_id, message_ids=batch))
            for m in found if isinstance(found, list) else [found]:
                converted = message_from_pyrogram(m) if m is not None else None
                if converted is not None:
                    out.append(converted)
        return out

    async def album(self, chat_id: int, message_id: int) -> list[Message]:
        """The messages of the album (media group) ``message_id`` belongs to, in order.

        A message that is not part of an album is returned alone.
        """
        if message_id <= 0:
            return []
        try:
            found = await self._call("read", "get_media_group",
                                     lambda: self.client.get_media_group(chat_id=chat_id, message_id=message_id))
        except ValueError:  # pyrogram: not part of a media group
            return self._drop_none(await self.read_channel(chat_id, [message_id]))
        return self._drop_none([message_from_pyrogram(m) for m in found or []])

    async def download(self, file_id: str, *, max_size: int) -> bytes:
        """The bytes of the file ``file_id`` (a document a user sent), downloaded into memory.

        Nothing is written to disk. A file id does not say the file's size:
        check ``Media.file_size`` before calling; a file that turns out larger
        than ``max_size`` is refused (its bytes are dropped).

        :raises ValueError: ``file_id`` is malformed, or the file is larger than ``max_size``.
        :raises mediabot.PermanentTelegramError: Telegram no longer has the file.
        """
        _check_remote(file_id, "download_media")
        if _is_url(file_id):
            raise ValueError("download takes a file id, not a URL")
        data = await self._call("read", "download_media", lambda: self.client.download_media(
            message=file_id, in_memory=True))
        if data is None:
            raise PermanentTelegramError("file_gone", method="download_media")
        raw = bytes(data.getbuffer()) if hasattr(data, "getbuffer") else bytes(data.read())
        if len(raw) > max_size:
            raise ValueError(f"the file is {len(raw):,} bytes; at most {max_size:,} are read")
        return raw

    @staticmethod
    def _drop_none(messages: Sequence[Message | None]) -> list[Message]:
        return [m for m in messages if m is not None]

    async def is_member(self, chat_id: int | str, user_id: int) -> bool:
        """Whether ``user_id`` is in ``chat_id`` now (a member, admin or owner; not left, banned or restricted out).

        The bot must be able to see the chat's members (an admin of a channel).
        :raises mediabot.PermanentTelegramError: the bot cannot look (``forbidden``, ``peer_invalid``).
        """
        # One reading of Telegram's answer: get_member's (left, banned, restricted out are not "in").
        member = await self.get_member(chat_id, user_id)
        return member.in_chat

    async def resolve_chat(self, ref: int | str) -> Chat:
        """The chat ``ref`` names: an id, ``@username`` or ``username``."""
        chat = await self._call("read", "get_chat", lambda: self.client.get_chat(chat_id=ref, force_full=False))
        return chat_from_pyrogram(chat)

    # -- internals -------------------------------------------------------------------
    async def _call(self, domain: str, method: str, fn: Callable[[], Awaitable[T]],
                    *, chat_id: int | None = None, priority: Priority = "reply", weight: int = 1) -> T:
        timeout = self.call_timeout

        async def attempt() -> T:
            # A hung connection must not hold a permit forever; TimeoutError is
            # an OSError, so flood control retries it as a network failure.
            async with asyncio.timeout(timeout):
                return await fn()

        try:
            result = await self.flood.call(domain, attempt, chat_id=chat_id, method=method,
                                           priority=priority, weight=weight)
        except TelegramError as exc:
            self._count(method, type(exc).__name__)
            raise
        except Exception:
            self._count(method, "error")
            raise
        self._count(method, "ok")
        return result

    def _count(self, method: str, outcome: str) -> None:
        if self._requests is not None:
            self._requests.labels(method=method, outcome=outcome).inc()

    def _on_flood_event(self, name: FloodEvent, domain: str) -> None:
        if name == "flood_wait" and domain == "send":
            self.send_flood_waits += 1
        if self._events is not None:
            self._events.labels(event=name, domain=domain).inc()

    @staticmethod
    def _message(result: Any, method: str) -> Message:
        message = message_from_pyrogram(result)
        if message is None:
            raise RuntimeError(f"{method} returned no message the kernel can read: {type(result).__name__}")
        return message

    # -- updates ---------------------------------------------------------------------
    async def _on_message(self, _client: Any, message: pt.Message) -> None:
        self._take(message_from_pyrogram, message)

    async def _on_callback(self, _client: Any, query: pt.CallbackQuery) -> None:
        self._take(callback_from_pyrogram, query)

    async def _on_inline(self, _client: Any, query: pt.InlineQuery) -> None:
        self._take(inline_from_pyrogram, query)

    async def _on_edited(self, _client: Any, message: pt.Message) -> None:
        self._take(edited_from_pyrogram, message)

    async def _on_member(self, _client: Any, update: pt.ChatMemberUpdated) -> None:
        bot_id = self.me.id if self.me is not None else None
        self._take(lambda u: member_updated_from_pyrogram(u, bot_id), update)

    async def _on_join_request(self, _client: Any, request: pt.ChatJoinRequest) -> None:
        self._take(join_request_from_pyrogram, request)

    async def _on_pre_checkout(self, _client: Any, query: pt.PreCheckoutQuery) -> None:
        self._take(pre_checkout_from_pyrogram, query)

    async def _on_deleted(self, _client: Any, messages: list[pt.Message]) -> None:
        if not self._accepting or self._app is None:
            return
        try:
            updates = deleted_from_pyrogram(messages)
        except Exception:
            log.exception("could not convert a deleted-messages update; dropped")
            return
        for update in updates:
            self._app.submit(update)

    def _take(self, convert: Callable[[Any], Any], raw_update: Any) -> None:
        if not self._accepting or self._app is None:
            return
        try:
            update = convert(raw_update)
        except Exception:
            log.exception("could not convert a %s update; dropped", type(raw_update).__name__)
            return
        if update is not None:
            self._app.submit(update)


def _mode(html: bool) -> enums.ParseMode:
    # DISABLED, not pyrogram's default: its default parses Markdown *and* HTML,
    # which would mangle file names like "__init__.py" or "a*b".
    return enums.ParseMode.HTML if html else enums.ParseMode.DISABLED


#: The InputMedia class of each kind a file id denotes (a photo URL is a photo).
_INPUT_MEDIA: dict[FileType, Any] = {
    FileType.PHOTO: pt.InputMediaPhoto, FileType.VIDEO: pt.InputMediaVideo, FileType.AUDIO: pt.InputMediaAudio,
    FileType.ANIMATION: pt.InputMediaAnimation, FileType.DOCUMENT: pt.InputMediaDocument,
}


def _is_url(media: str) -> bool:
    return media.startswith(("http://", "https://"))


def _check_remote(media: str, method: str) -> FileType | None:
    """The kind a file id denotes (``None`` for a URL); anything else is refused.

    pyrogram would *upload* a string naming a local file: a path must never
    reach it from a plugin's (or a user's) text.
    """
    if _is_url(media):
        return None
    try:
        return FileId.decode(media).file_type
    except Exception as exc:
        raise PermanentTelegramError("file_gone", ValueError(f"neither an http(s) URL nor a file id: {media!r}"),
                                     method=method) from exc


def _input_media(media: str, caption: str | None, html: bool, method: str) -> Any:
    """Pyrogram's InputMedia for a file id (its kind decides the class) or a photo URL."""
    file_type = _check_remote(media, method)
    cls = pt.InputMediaPhoto if file_type is None else _INPUT_MEDIA.get(file_type, pt.InputMediaDocument)
    return cls(media=media, caption=caption or "", parse_mode=_mode(html))


def _reply(message_id: int | None) -> pt.ReplyParameters | None:
    return pt.ReplyParameters(message_id=message_id) if message_id else None
