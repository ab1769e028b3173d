"""FakeTelegram: a stand-in for the ``pyrogram.Client`` the gateway drives.

The gateway (:class:`mediabot.core.telegram.gateway.Gateway`) wraps a client;
in production that is a Kurigram ``pyrogram.Client``, in tests this fake.
It has the same method names and parameter names as the real client (a
test checks them against ``inspect.signature``), answers with real
``pyrogram.types`` objects made by pyrogram's own parsers from raw TL
(:mod:`mediabot.testing.tl`), and raises the real ``pyrogram.errors``.

What it does like Telegram:

* keeps every chat's messages, so edits, deletes, copies and reads work;
* enforces the send limits (about 30 msg/s overall, 1 msg/s per private chat
  with a small burst, 20/min per group) by raising ``FloodWait``, and keeps
  raising it until the wait is over (:mod:`mediabot.testing.limits`);
* refuses what Telegram refuses: empty or too long texts, unknown chats,
  users who blocked the bot, editing a message to its current content...

What a test adds:

* ``fake.calls``: every call, failed ones included, with its (clock) time;
* ``fake.inject(method, error, times=1, after=0)``: scripted failures;
* ``fake.block(user_id)``, ``fake.deactivate(user_id)``, ``fake.forbid(chat_id)``;
* the other side of the chat: ``user_message``, ``user_press``,
  ``user_inline_query`` and ``channel_post`` push updates to the handlers
  the gateway registered, like pyrogram's dispatcher does.

The fake's time comes from a :class:`~mediabot.core.clock.Clock`:
pass the gateway's ``FakeClock`` to run rate-limit tests in virtual time.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from pyrogram import enums, raw, utils
from pyrogram import types as pt
from pyrogram.errors import (
    BotCommandDescriptionInvalid,
    BotCommandInvalid,
    FloodWait,
    LimitInvalid,
    MediaCaptionTooLong,
    MediaEmpty,
    MediaInvalid,
    MessageEmpty,
    MessageIdInvalid,
    MessageNotModified,
    MessageTooLong,
    MultiMediaTooLong,
    QueryIdInvalid,
    ResultIdDuplicate,
    ResultsTooMuch,
)
from pyrogram.file_id import FileId
from pyrogram.handlers import (
    CallbackQueryHandler,
    DeletedMessagesHandler,
    EditedMessageHandler,
    InlineQueryHandler,
    MessageHandler,
)
from pyrogram.parser import Parser

from mediabot.core.clock import Clock, MonotonicClock
from mediabot.core.telegram.convert import keyboard_from_pyrogram, message_from_pyrogram
from mediabot.core.telegram.text import utf16_len
from mediabot.core.types import Message
from mediabot.testing.chats import ChatStore, now_ts
from mediabot.testing.limits import Injection, Injections, TelegramLimits
from mediabot.testing.members import MembersSide
from mediabot.testing.payments import PaymentsSide
from mediabot.testing.records import (
    Call,
    CallbackAnswer,
    InlineAnswer,
    inline_result_from_pyrogram,
    scope_key,
)
from mediabot.testing.tl import FakeChatKind, FakeFile, TLWorld

__all__ = ["Call", "CallbackAnswer", "FakeTelegram", "InlineAnswer"]  # records re-exported for tests

# Methods that send a message: they share Telegram's send limits and waits.
SEND_METHODS = frozenset({"send_message", "send_cached_media", "send_document", "copy_message", "copy_media_group",
                          "pin_chat_message", "send_photo", "send_media_group", "send_invoice"})
MAX_ALBUM = 10
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_READ_IDS = 200
MAX_INLINE_RESULTS = 50
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


class FakeTelegram(MembersSide, PaymentsSide):
    """A fake ``pyrogram.Client`` with Telegram's behaviour and limits.

    Groups and channels (members, invite links, join requests) are
    :class:`~mediabot.testing.members.MembersSide`; Stars payments are
    :class:`~mediabot.testing.payments.PaymentsSide`.

    :param clock: time for rate windows and ``Call.at`` (default: real monotonic time).
    :param latency: seconds each call takes on ``clock`` (default 0: instant).
    :param limits: pass ``False`` to switch Telegram's send limits off.
    """

    #: The ``pyrogram.Client`` methods this fake implements (checked against the real signatures).
    CLIENT_METHODS = (
        "add_handler", "answer_callback_query", "answer_inline_query", "answer_pre_checkout_query",
        "approve_chat_join_request", "copy_media_group", "copy_message", "create_chat_invite_link",
        "decline_chat_join_request", "delete_messages", "download_media", "edit_message_caption", "edit_message_media",
        "edit_message_reply_markup", "edit_message_text", "get_chat", "get_chat_member", "get_chat_members_count",
        "get_me", "get_media_group", "get_messages", "leave_chat", "pin_chat_message", "refund_star_payment",
        "remove_handler", "revoke_chat_invite_link", "send_cached_media", "send_document", "send_invoice",
        "send_media_group", "send_message", "send_photo", "set_bot_commands", "start", "stop",
    )

    def __init__(self, clock: Clock | None = None, *, latency: float = 0.0, limits: bool = True,
                 bot_id: int = 7_000_000_001, bot_username: str = "mediabot_test_bot") -> None:
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.latency = latency
        self.world = TLWorld(bot_id=bot_id, bot_username=bot_username)
        self.limits: TelegramLimits | None = TelegramLimits(self.clock) if limits else None
        self.injections = Injections()
        self.calls: list[Call] = []
        self.is_started = False
        #: Telegram's side: chats, their messages, who blocked the bot.
        self.chats = ChatStore(self.world)
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.inline_answers: dict[str, InlineAnswer] = {}
        #: Command menus by scope: ``"default"``, ``"all_private_chats"`` or a chat id.
        self.commands: dict[str | int, list[tuple[str, str]]] = {}
        self._handlers: dict[int, list[Any]] = {}
        self._open_callbacks: set[str] = set()
        self._open_inline: set[str] = set()
        self._parser = Parser(self.world.client)
        self._observers: list[Callable[[Call], None]] = []
        #: file ids Telegram no longer has (:meth:`forget_file`)
        self.gone_files: set[str] = set()
        #: chat id -> ids of its members (:meth:`set_member`); the bot is in every chat it knows
        self.members: dict[int, set[int]] = {}
        #: chat id -> ids of its pinned messages, latest last
        self.pinned: dict[int, list[int]] = {}
        #: (chat id, message id) of messages sent with ``disable_notification``
        self.silent: set[tuple[int, int]] = set()
        #: (chat id, message id) -> (file name, bytes) of documents the bot uploaded (:meth:`uploaded`)
        self.uploads: dict[tuple[int, int], tuple[str, bytes]] = {}
        #: (chat id, message id) of messages sent with ``protect_content``
        self.protected: set[tuple[int, int]] = set()
        #: media id -> the bytes of the file (documents the bot uploaded, :meth:`set_file_content`)
        self.file_contents: dict[int, bytes] = {}
        self._next_group = 1
        self._init_members()
        self._init_payments()

    # == test controls ================================================================
    def inject(self, method: str | Iterable[str], error: BaseException | type[BaseException], *,
               times: int | None = 1, after: int = 0, chat_id: int | None = None) -> Injection:
        """Make calls fail: ``method`` (``"*"`` for any), ``after`` calls from now, ``times`` times.

        ``fake.inject("send_message", FloodWait(value=5))`` fails the next send
        with a 5-second FloodWait, and, like Telegram, every send in the next
        5 seconds fails too.
        """
        return self.injections.add(method, error, times=times, after=after, chat_id=chat_id)

    def block(self, user_id: int) -> None:
        """The user blocked the bot: sends to them raise ``UserIsBlocked``."""
        self.chats.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self.chats.blocked.discard(user_id)

    def deactivate(self, user_id: int) -> None:
        """The user deleted their account: sends raise ``InputUserDeactivated``."""
        self.chats.deactivated.add(user_id)

    def forget_file(self, file_id: str) -> None:
        """Telegram no longer has the file: sending ``file_id`` raises ``MediaEmpty``."""
        self.gone_files.add(file_id)

    def uploaded(self, chat_id: int, message_id: int) -> tuple[str, bytes]:
        """The file name and bytes of a document the bot uploaded as message ``message_id``."""
        return self.uploads[(chat_id, message_id)]

    def set_file_content(self, file: FakeFile, data: bytes) -> None:
        """What ``download_media`` gives for ``file`` (a document a user sends the bot)."""
        self.file_contents[file.resolved_media_id] = data

    def set_member(self, chat_id: int, user_id: int, member: bool = True) -> None:
        """Make ``user_id`` a member of ``chat_id`` (or not): ``get_chat_member`` answers accordingly."""
        if member:
            self.members.setdefault(chat_id, set()).add(user_id)
        else:
            self.members.get(chat_id, set()).discard(user_id)

    def forbid(self, chat_id: int) -> None:
        """The bot may no longer write in ``chat_id``: sends raise ``ChatWriteForbidden``."""
        self.chats.forbidden.add(chat_id)

    def add_chat(self, chat_id: int, kind: FakeChatKind, *, title: str | None = None,
                 username: str | None = None) -> None:
        """Make a group, supergroup or channel exist (the bot is a member/admin of it)."""
        self.chats.add_chat(chat_id, kind, title=title, username=username)

    def add_user(self, user_id: int, *, first_name: str | None = None, last_name: str | None = None,
                 username: str | None = None, language: str | None = None) -> None:
        """Make a user exist, with a name (users also appear on first use, named ``User<id>``)."""
        self.world.user(user_id, first_name=first_name, last_name=last_name, username=username,
                        language=language)
        self.chats.ensure(user_id)

    def observe(self, observer: Callable[[Call], None]) -> None:
        """Call ``observer(call)`` after every call, as it ends (e.g. to show replies live)."""
        self._observers.append(observer)

    # == what happened ================================================================
    def calls_of(self, *methods: str) -> list[Call]:
        """Calls of these methods (all calls when none given), in order."""
        return [c for c in self.calls if not methods or c.method in methods]

    def sent_to(self, chat_id: int) -> list[Message]:
        """Messages the bot sent to ``chat_id`` that still exist, as they are now (edits applied)."""
        return [m for s in self.chats.messages(chat_id) if s.out and (m := message_from_pyrogram(s.parsed))]

    def history(self, chat_id: int) -> list[Message]:
        """Every message of ``chat_id`` (the users' and the bot's), as it is now."""
        return [m for s in self.chats.messages(chat_id) if (m := message_from_pyrogram(s.parsed))]

    def message(self, chat_id: int, message_id: int) -> Message | None:
        """One message as it is now; ``None`` if deleted or never sent."""
        stored = self.chats.get(chat_id, message_id)
        return message_from_pyrogram(stored.parsed) if stored else None

    def commands_for(self, scope: str | int = "all_private_chats") -> list[tuple[str, str]]:
        """The command menu set for ``scope`` (``"default"``, ``"all_private_chats"`` or a chat id)."""
        return self.commands.get(scope, [])

    # == the other side of the chat ===================================================
    async def user_message(self, user_id: int, text: str | None = None, *, chat_id: int | None = None,
                           file: FakeFile | None = None, caption: str | None = None,
                           reply_to: int | None = None, grouped_id: int | None = None) -> pt.Message:
        """``user_id`` writes in a private chat (default) or the group ``chat_id``; handlers run.

        :param grouped_id: messages with the same value form one album (media group).
        """
        if text is None and file is None:
            raise ValueError("a message needs text or a file")
        self.world.user(user_id)
        target = user_id if chat_id is None else chat_id
        self.chats.ensure(target)
        stored = await self.chats.add(target, from_id=user_id, out=False, text=text if file is None else caption,
                                      media=self.world.media(file) if file else None, reply_to=reply_to,
                                      grouped_id=grouped_id)
        await self._dispatch(MessageHandler, stored.parsed)
        return stored.parsed

    async def anonymous_admin_message(self, chat_id: int, text: str, *, reply_to: int | None = None) -> pt.Message:
        """An anonymous admin of group ``chat_id`` writes ``text``: the message is from the group itself."""
        self.chats.ensure(chat_id)
        stored = await self.chats.add(chat_id, from_id=None, out=False, text=text, reply_to=reply_to)
        await self._dispatch(MessageHandler, stored.parsed)
        return stored.parsed

    async def channel_post(self, chat_id: int, text: str | None = None, *, file: FakeFile | None = None,
                           caption: str | None = None, grouped_id: int | None = None) -> pt.Message:
        """A post appears in channel ``chat_id`` (created on first use); handlers run."""
        if text is None and file is None:
            raise ValueError("a post needs text or a file")
        if chat_id not in self.world.chats:
            self.add_chat(chat_id, "channel")
        stored = await self.chats.add(chat_id, from_id=None, out=False, text=text if file is None else caption,
                                      media=self.world.media(file) if file else None, grouped_id=grouped_id)
        await self._dispatch(MessageHandler, stored.parsed)
        return stored.parsed

    async def channel_edit(self, chat_id: int, message_id: int, caption: str) -> pt.Message:
        """The channel's admin edits post ``message_id``'s text or caption; handlers run."""
        stored = self.chats.get(chat_id, message_id)
        if stored is None:
            raise ValueError(f"no post {message_id} in channel {chat_id}")
        stored.raw.message = caption
        stored.raw.edit_date = now_ts()
        parsed = await self.chats.reparse(stored)
        await self._dispatch(EditedMessageHandler, parsed)
        return parsed

    async def channel_delete(self, chat_id: int, message_ids: Iterable[int]) -> None:
        """The channel's admin deletes posts; handlers run (bots hear of deletions in channels)."""
        ids = list(message_ids)
        self.chats.delete(chat_id, ids)
        update = raw.types.UpdateDeleteChannelMessages(channel_id=utils.get_raw_peer_id(
            self.world.peer(chat_id)), messages=ids, pts=0, pts_count=0)
        messages = await utils.parse_deleted_messages(self.world.client, update, {}, {})
        await self._dispatch(DeletedMessagesHandler, messages)

    async def user_press(self, user_id: int, chat_id: int, message_id: int, data: str | bytes, *,
                         forge: bool = False) -> str:
        """``user_id`` presses the button with callback ``data``; returns the query id.

        :param forge: allow data that is on no button of the message (a
            modified client can send anything; the bot must cope).
        """
        stored = self.chats.get(chat_id, message_id)
        if stored is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        payload = data.encode() if isinstance(data, str) else data
        if not forge:
            offered = {(b.callback or "").encode() for row in keyboard_from_pyrogram(stored.parsed.reply_markup)
                       or [] for b in row if b.callback is not None}
            if payload not in offered:
                raise ValueError(f"message {message_id} has no button with data {data!r}; "
                                 "pass forge=True to send it anyway")
        self.world.user(user_id)
        query = await self.world.callback_query(user_id, chat_id, stored.parsed, payload)
        self._open_callbacks.add(str(query.id))
        await self._dispatch(CallbackQueryHandler, query)
        return str(query.id)

    async def user_inline_query(self, user_id: int, query: str, offset: str = "") -> str:
        """``user_id`` types ``@bot query``; returns the query id (answer in ``inline_answers``)."""
        self.world.user(user_id)
        parsed = await self.world.inline_query(user_id, query, offset)
        self._open_inline.add(str(parsed.id))
        await self._dispatch(InlineQueryHandler, parsed)
        return str(parsed.id)

    async def _dispatch(self, handler_type: type, update: Any) -> None:
        # Like pyrogram's Dispatcher: per group in order, the first matching handler runs.
        for group in sorted(self._handlers):
            for handler in list(self._handlers[group]):
                if isinstance(handler, handler_type) and await handler.check(self, update):
                    await handler.callback(self, update)
                    break

    # == pyrogram.Client: lifecycle and handlers ======================================
    async def start(self) -> FakeTelegram:
        self.is_started = True
        return self

    async def stop(self, block: bool = True) -> FakeTelegram:
        self.is_started = False
        return self

    def add_handler(self, handler: Any, group: int = 0) -> tuple[Any, int]:
        self._handlers.setdefault(group, []).append(handler)
        return handler, group

    def remove_handler(self, handler: Any, group: int = 0) -> None:
        handlers = self._handlers.get(group, [])
        if handler not in handlers:
            raise ValueError(f"Handler {handler} not found in group {group}")
        handlers.remove(handler)

    async def get_me(self) -> pt.User:
        async with self._call("get_me") as call:
            call.result = await self.world.parse_user(self.world.bot_id)
        return call.result

    # == pyrogram.Client: sending =====================================================
    async def send_message(self, chat_id: int | str, text: str, parse_mode: enums.ParseMode | None = None,
                           disable_notification: bool | None = None,
                           reply_parameters: pt.ReplyParameters | None = None, protect_content: bool | None = None,
                           reply_markup: Any = None) -> pt.Message:
        async with self._call("send_message", chat_id=chat_id, text=text, parse_mode=parse_mode,
                              reply_parameters=reply_parameters, reply_markup=reply_markup,
                              protect_content=protect_content, disable_notification=disable_notification) as call:
            target = self.chats.writable(chat_id)
            parsed_text = await self._parser.parse(text, parse_mode)
            body = parsed_text["message"]
            if not body:
                raise MessageEmpty()
            if utf16_len(body) > MAX_TEXT:  # Telegram counts UTF-16 code units
                raise MessageTooLong()
            self._take_send(target)
            stored = await self.chats.add(target, from_id=self.world.bot_id, out=True, text=body,
                                          entities=parsed_text["entities"], markup=await self._markup(reply_markup),
                                          reply_to=_reply_id(reply_parameters))
            self._note_silent(target, stored.parsed.id, disable_notification, protect_content)
            call.result = stored.parsed
        return call.result

    async def send_cached_media(self, chat_id: int | str, file_id: str, caption: str = "",
                                parse_mode: enums.ParseMode | None = None,
                                disable_notification: bool | None = None,
                                reply_parameters: pt.ReplyParameters | None = None,
                                protect_content: bool | None = None,
                                reply_markup: Any = None) -> pt.Message:
        async with self._call("send_cached_media", chat_id=chat_id, file_id=file_id, caption=caption,
                              parse_mode=parse_mode, reply_parameters=reply_parameters,
                              protect_content=protect_content, reply_markup=reply_markup,
                              disable_notification=disable_notification) as call:
            target = self.chats.writable(chat_id)
            if file_id in self.gone_files:
                raise MediaEmpty()
            media = self.world.media_for_file_id(file_id)
            parsed_caption = await self._parser.parse(caption or "", parse_mode)
            if utf16_len(parsed_caption["message"]) > MAX_CAPTION:
                raise MediaCaptionTooLong()
            self._take_send(target)
            stored = await self.chats.add(target, from_id=self.world.bot_id, out=True,
                                          text=parsed_caption["message"], entities=parsed_caption["entities"],
                                          media=media, markup=await self._markup(reply_markup),
                                          reply_to=_reply_id(reply_parameters))
            self._note_silent(target, stored.parsed.id, disable_notification, protect_content)
            call.result = stored.parsed
        return call.result

    async def send_document(self, chat_id: int | str, document: Any, thumb: Any = None, caption: str = "",
                            parse_mode: enums.ParseMode | None = None, file_name: str | None = None,
                            disable_notification: bool | None = None,
                            reply_parameters: pt.ReplyParameters | None = None, protect_content: bool | None = None,
                            reply_markup: Any = None) -> pt.Message:
        """An upload: ``document`` is a binary file object (a path is refused: tests never touch disk here)."""
        async with self._call("send_document", chat_id=chat_id, file_name=file_name, caption=caption,
                              parse_mode=parse_mode, reply_parameters=reply_parameters, protect_content=protect_content,
                              reply_markup=reply_markup, disable_notification=disable_notification) as call:
            target = self.chats.writable(chat_id)
            if not hasattr(document, "read"):
                raise TypeError("the fake takes uploads as binary file objects")
            data = document.read()
            name = file_name or getattr(document, "name", None) or "document"
            if not data:
                raise MessageEmpty()  # Telegram refuses an empty upload
            parsed_caption = await self._parser.parse(caption or "", parse_mode)
            if utf16_len(parsed_caption["message"]) > MAX_CAPTION:
                raise MediaCaptionTooLong()
            self._take_send(target)
            file = FakeFile(file_name=name, kind="document", size=len(data),
                            media_id=int.from_bytes(hashlib.blake2b(data + name.encode(), digest_size=7).digest(),
                                                    "big") or 1)
            stored = await self.chats.add(target, from_id=self.world.bot_id, out=True,
                                          text=parsed_caption["message"], entities=parsed_caption["entities"],
                                          media=self.world.media(file), markup=await self._markup(reply_markup),
                                          reply_to=_reply_id(reply_parameters))
            self._note_silent(target, stored.parsed.id, disable_notification, protect_content)
            self.uploads[(stored.parsed.chat.id, stored.parsed.id)] = (name, data)
            self.file_contents[file.resolved_media_id] = data
            call.result = stored.parsed
        return call.result

    async def send_photo(self, chat_id: int | str, photo: Any, caption: str = "",
                         parse_mode: enums.ParseMode | None = None, disable_notification: bool | None = None,
                         reply_parameters: pt.ReplyParameters | None = None, protect_content: bool | None = None,
                         reply_markup: Any = None) -> pt.Message | None:
        """``photo``: an http(s) URL (Telegram fetches it) or a photo's file id; the fake takes no uploads."""
        async with self._call("send_photo", chat_id=chat_id, photo=photo, caption=caption, parse_mode=parse_mode,
                              reply_parameters=reply_parameters, protect_content=protect_content,
                              reply_markup=reply_markup, disable_notification=disable_notification) as call:
            target = self.chats.writable(chat_id)
            media = self._resolve_media(photo, photo_only=True)
            parsed_caption = await self._caption(caption, parse_mode)
            self._take_send(target)
            stored = await self.chats.add(target, from_id=self.world.bot_id, out=True,
                                          text=parsed_caption["message"], entities=parsed_caption["entities"],
                                          media=media, markup=await self._markup(reply_markup),
                                          reply_to=_reply_id(reply_parameters))
            self._note_silent(target, stored.parsed.id, disable_notification, protect_content)
            call.result = stored.parsed
        return call.result

    async def send_media_group(self, chat_id: int | str, media: list[Any], disable_notification: bool | None = None,
                               reply_parameters: pt.ReplyParameters | None = None,
                               protect_content: bool | None = None) -> list[pt.Message]:
        """``media``: 2-10 ``InputMedia*`` whose ``media`` is a file id (or a photo's URL)."""
        async with self._call("send_media_group", chat_id=chat_id, media=media, protect_content=protect_content,
                              reply_parameters=reply_parameters, disable_notification=disable_notification) as call:
            target = self.chats.writable(chat_id)
            if len(media) > MAX_ALBUM:
                raise MultiMediaTooLong()
            if len(media) < 2:
                raise MediaInvalid()
            items = [(self._resolve_media(m.media, photo_only=isinstance(m, pt.InputMediaPhoto)),
                      await self._caption(m.caption, m.parse_mode)) for m in media]
            if self.limits is not None:
                self.limits.take_send(target, messages=len(items))
            group = self._next_group
            self._next_group += 1
            out = []
            for raw_media, parsed_caption in items:
                stored = await self.chats.add(target, from_id=self.world.bot_id, out=True,
                                              text=parsed_caption["message"], entities=parsed_caption["entities"],
                                              media=raw_media, grouped_id=group, reply_to=_reply_id(reply_parameters))
                self._note_silent(target, stored.parsed.id, disable_notification, protect_content)
                out.append(stored.parsed)
            call.result = out
        return call.result

    async def copy_message(self, chat_id: int | str, from_chat_id: int | str, message_id: int,
                           caption: str | None = None, parse_mode: enums.ParseMode | None = None,
                           disable_notification: bool | None = None,
                           reply_parameters: pt.ReplyParameters | None = None, protect_content: bool | None = None,
                           reply_markup: Any = object) -> pt.Message | None:
        async with self._call("copy_message", chat_id=chat_id, from_chat_id=from_chat_id,
                              message_id=message_id, caption=caption, reply_markup=reply_markup,
                              protect_content=protect_content, disable_notification=disable_notification) as call:
            source = self.chats.get(self.chats.known(from_chat_id), message_id)
            target = self.chats.writable(chat_id)
            if source is None:
                # pyrogram's copy fetches an empty message, logs a warning and returns None.
                call.result = None
                return None
            body, entities = source.raw.message, source.raw.entities
            media = source.raw.media
            if media is not None and caption is not None:
                parsed_caption = await self._parser.parse(caption, parse_mode)
                body, entities = parsed_caption["message"], parsed_caption["entities"]
                if utf16_len(body) > MAX_CAPTION:
                    raise MediaCaptionTooLong()
            markup = source.raw.reply_markup if reply_markup is object else await self._markup(reply_markup)
            self._take_send(target)
            stored = await self.chats.add(target, from_id=self.world.bot_id, out=True, text=body,
                                          entities=entities, media=media, markup=markup,
                                          reply_to=_reply_id(reply_parameters))
            self._note_silent(target, stored.parsed.id, disable_notification, protect_content)
            call.result = stored.parsed
        return call.result

    async def copy_media_group(self, chat_id: int | str, from_chat_id: int | str, message_id: int,
                               captions: list[str] | str | None = None,
                               disable_notification: bool | None = None, protect_content: bool | None = None,
                               reply_parameters: pt.ReplyParameters | None = None) -> list[pt.Message]:
        async with self._call("copy_media_group", chat_id=chat_id, from_chat_id=from_chat_id,
                              message_id=message_id, captions=captions, protect_content=protect_content,
                              disable_notification=disable_notification) as call:
            album = self._album(self.chats.known(from_chat_id), message_id)
            target = self.chats.writable(chat_id)
            # Telegram counts every message of the album against the global limit.
            if self.limits is not None:
                self.limits.take_send(target, messages=len(album))
            group = self._next_group
            self._next_group += 1
            out = []
            for i, source in enumerate(album):
                body, entities = source.raw.message, source.raw.entities
                caption = captions if isinstance(captions, str) and i == 0 else (
                    captions[i] if isinstance(captions, list) and i < len(captions) else None)
                if caption is not None:
                    body, entities = caption, None
                stored = await self.chats.add(target, from_id=self.world.bot_id, out=True, text=body,
                                              entities=entities, media=source.raw.media, grouped_id=group,
                                              reply_to=_reply_id(reply_parameters))
                self._note_silent(target, stored.parsed.id, disable_notification, protect_content)
                out.append(stored.parsed)
            call.result = out
        return call.result

    async def pin_chat_message(self, chat_id: int | str, message_id: int, disable_notification: bool = False,
                               both_sides: bool = False) -> pt.Message | None:
        async with self._call("pin_chat_message", chat_id=chat_id, message_id=message_id,
                              disable_notification=disable_notification, both_sides=both_sides) as call:
            target = self.chats.writable(chat_id)
            if self.chats.get(target, message_id) is None:
                raise MessageIdInvalid()
            self._take_send(target)  # pinning posts a service message in the chat
            pins = self.pinned.setdefault(target, [])
            if message_id in pins:
                pins.remove(message_id)
            pins.append(message_id)
            call.result = None
        return None

    # == pyrogram.Client: editing and deleting ========================================
    async def edit_message_text(self, chat_id: int | str, message_id: int, text: str | None = None,
                                parse_mode: enums.ParseMode | None = None,
                                reply_markup: pt.InlineKeyboardMarkup | None = None) -> pt.Message:
        async with self._call("edit_message_text", chat_id=chat_id, message_id=message_id, text=text,
                              parse_mode=parse_mode, reply_markup=reply_markup) as call:
            _, stored = self.chats.own_message(chat_id, message_id)
            if text is None:  # no new text: Telegram keeps the current one
                parsed_text = {"message": stored.raw.message, "entities": stored.raw.entities}
            else:
                parsed_text = await self._parser.parse(text, parse_mode)
            if not parsed_text["message"] and stored.raw.media is None:
                raise MessageEmpty()
            if utf16_len(parsed_text["message"]) > (MAX_CAPTION if stored.raw.media else MAX_TEXT):
                raise MediaCaptionTooLong() if stored.raw.media else MessageTooLong()
            markup = await self._markup(reply_markup)
            if (parsed_text["message"] == stored.raw.message and _same(markup, stored.raw.reply_markup)):
                raise MessageNotModified()
            stored.raw.message = parsed_text["message"]
            stored.raw.entities = parsed_text["entities"]
            # Telegram: an edit without reply_markup removes the inline keyboard.
            stored.raw.reply_markup = markup
            stored.raw.edit_date = now_ts()
            call.result = await self.chats.reparse(stored)
        return call.result

    async def edit_message_caption(self, chat_id: int | str, message_id: int, caption: str,
                                   parse_mode: enums.ParseMode | None = None,
                                   reply_markup: pt.InlineKeyboardMarkup | None = None) -> pt.Message:
        async with self._call("edit_message_caption", chat_id=chat_id, message_id=message_id, caption=caption,
                              parse_mode=parse_mode, reply_markup=reply_markup) as call:
            _, stored = self.chats.own_message(chat_id, message_id)
            if stored.raw.media is None:
                raise MessageIdInvalid()  # a text has no caption: Telegram refuses the edit
            parsed_caption = await self._caption(caption, parse_mode)
            markup = await self._markup(reply_markup)
            if parsed_caption["message"] == stored.raw.message and _same(markup, stored.raw.reply_markup):
                raise MessageNotModified()
            stored.raw.message = parsed_caption["message"]
            stored.raw.entities = parsed_caption["entities"]
            stored.raw.reply_markup = markup
            stored.raw.edit_date = now_ts()
            call.result = await self.chats.reparse(stored)
        return call.result

    async def edit_message_media(self, chat_id: int | str, message_id: int, media: Any,
                                 reply_markup: pt.InlineKeyboardMarkup | None = None) -> pt.Message:
        """``media``: an ``InputMedia*`` whose ``media`` is a file id (or a photo's URL)."""
        async with self._call("edit_message_media", chat_id=chat_id, message_id=message_id, media=media,
                              reply_markup=reply_markup) as call:
            _, stored = self.chats.own_message(chat_id, message_id)
            raw_media = self._resolve_media(media.media, photo_only=isinstance(media, pt.InputMediaPhoto))
            parsed_caption = await self._caption(media.caption, media.parse_mode)
            markup = await self._markup(reply_markup)
            if (_same(raw_media, stored.raw.media) and parsed_caption["message"] == stored.raw.message
                    and _same(markup, stored.raw.reply_markup)):
                raise MessageNotModified()
            stored.raw.media = raw_media
            stored.raw.message = parsed_caption["message"]
            stored.raw.entities = parsed_caption["entities"]
            stored.raw.reply_markup = markup
            stored.raw.edit_date = now_ts()
            call.result = await self.chats.reparse(stored)
        return call.result

    async def edit_message_reply_markup(self, chat_id: int | str, message_id: int,
                                        reply_markup: pt.InlineKeyboardMarkup | None = None) -> pt.Message:
        async with self._call("edit_message_reply_markup", chat_id=chat_id, message_id=message_id,
                              reply_markup=reply_markup) as call:
            _, stored = self.chats.own_message(chat_id, message_id)
            markup = await self._markup(reply_markup)
            if _same(markup, stored.raw.reply_markup):
                raise MessageNotModified()
            stored.raw.reply_markup = markup
            stored.raw.edit_date = now_ts()
            call.result = await self.chats.reparse(stored)
        return call.result

    async def delete_messages(self, chat_id: int | str, message_ids: int | Iterable[int],
                              revoke: bool = True) -> int:
        ids = [message_ids] if isinstance(message_ids, int) else list(message_ids)
        async with self._call("delete_messages", chat_id=chat_id, message_ids=ids, revoke=revoke) as call:
            call.result = self.chats.delete(self.chats.known(chat_id), ids)
        return call.result

    # == pyrogram.Client: answering ===================================================
    async def answer_callback_query(self, callback_query_id: str, text: str | None = None,
                                    show_alert: bool | None = None, url: str | None = None,
                                    cache_time: int = 0) -> bool:
        async with self._call("answer_callback_query", callback_query_id=callback_query_id, text=text,
                              show_alert=show_alert) as call:
            if callback_query_id not in self._open_callbacks:
                raise QueryIdInvalid()
            self._open_callbacks.discard(callback_query_id)
            self.callback_answers[callback_query_id] = CallbackAnswer(text, bool(show_alert))
            call.result = True
        return True

    async def answer_inline_query(self, inline_query_id: str, results: Iterable[Any], cache_time: int = 300,
                                  is_gallery: bool = False, is_personal: bool = False,
                                  next_offset: str = "") -> bool:
        results = list(results)
        async with self._call("answer_inline_query", inline_query_id=inline_query_id, results=results,
                              cache_time=cache_time, is_personal=is_personal, next_offset=next_offset) as call:
            if inline_query_id not in self._open_inline:
                raise QueryIdInvalid()
            if len(results) > MAX_INLINE_RESULTS:
                raise ResultsTooMuch()
            ids = [r.id for r in results]
            if len(set(ids)) != len(ids):
                raise ResultIdDuplicate()
            for r in results:
                await r.write(self.world.client)  # pyrogram's own validation of each result
            self._open_inline.discard(inline_query_id)
            self.inline_answers[inline_query_id] = InlineAnswer(
                [inline_result_from_pyrogram(r) for r in results], next_offset, cache_time, is_personal)
            call.result = True
        return True

    async def set_bot_commands(self, commands: list[pt.BotCommand], scope: pt.BotCommandScope | None = None,
                               language_code: str = "") -> bool:
        async with self._call("set_bot_commands", commands=commands, scope=scope) as call:
            for c in commands:
                c.write()  # pyrogram's own serialisation
                if not _COMMAND.match(c.command):
                    raise BotCommandInvalid()
                if not 1 <= len(c.description) <= 256:
                    raise BotCommandDescriptionInvalid()
            self.commands[scope_key(scope)] = [(c.command, c.description) for c in commands]
            call.result = True
        return True

    # == pyrogram.Client: reading =====================================================
    async def get_messages(self, chat_id: int | str | None = None,
                           message_ids: int | Iterable[int] | None = None) -> Any:
        single = isinstance(message_ids, int)
        ids = [message_ids] if single else list(message_ids or [])
        async with self._call("get_messages", chat_id=chat_id, message_ids=ids) as call:
            if len(ids) > MAX_READ_IDS:
                raise LimitInvalid()
            target = self.chats.known(chat_id)
            out = [stored.parsed if (stored := self.chats.get(target, i)) else self.world.empty_message(target, i)
                   for i in ids]
            call.result = out[0] if single else out
        return call.result

    async def download_media(self, message: Any, file_name: Any = "downloads/", in_memory: bool = False,
                             block: bool = True) -> Any:
        """In memory only (``in_memory=True``), by file id: the bytes the fake knows for the file."""
        async with self._call("download_media", message=message, in_memory=in_memory) as call:
            if not in_memory or not isinstance(message, str):
                raise TypeError("the fake downloads by file id, in memory only")
            if message in self.gone_files:
                raise MediaEmpty()
            media_id = FileId.decode(message).media_id  # ValueError for a malformed id, as pyrogram
            data = self.file_contents.get(media_id)
            if data is None:
                raise MediaEmpty()
            stream = io.BytesIO(data)
            stream.name = f"file{media_id}"
            call.result = stream
        return call.result

    async def get_media_group(self, chat_id: int | str, message_id: int) -> list[pt.Message]:
        async with self._call("get_media_group", chat_id=chat_id, message_id=message_id) as call:
            call.result = [m.parsed for m in self._album(self.chats.known(chat_id), message_id)]
        return call.result

    async def get_chat_member(self, chat_id: int | str, user_id: int | str) -> pt.ChatMember:
        async with self._call("get_chat_member", chat_id=chat_id, user_id=user_id) as call:
            call.result = await self._chat_member(self.chats.known(chat_id), int(user_id))
        return call.result

    async def get_chat(self, chat_id: int | str, force_full: bool = True) -> pt.Chat:
        async with self._call("get_chat", chat_id=chat_id) as call:
            call.result = await self.world.parse_chat(self.chats.known(chat_id))
        return call.result

    # == internals ====================================================================
    @asynccontextmanager
    async def _call(self, method: str, **params: Any) -> AsyncIterator[Call]:
        call = Call(method, params, self.clock.now())
        self.calls.append(call)
        try:
            if not self.is_started:
                raise ConnectionError("Client has not been started yet")
            if self.latency > 0:
                await self.clock.sleep(self.latency)
            chat = params.get("chat_id") if isinstance(params.get("chat_id"), int) else None
            family = "send" if method in SEND_METHODS else method
            if self.limits is not None:
                self.limits.check_running_wait(family, chat)
            injected = self.injections.take(method, chat)
            if injected is not None:
                seconds = getattr(injected, "value", None)
                if self.limits is not None and isinstance(injected, FloodWait) and isinstance(seconds, int):
                    self.limits.impose(family, seconds)
                raise injected
            yield call
        except BaseException as exc:
            call.error = exc
            raise
        finally:
            for observer in self._observers:
                observer(call)

    def _resolve_media(self, media: Any, *, photo_only: bool) -> Any:
        """The raw media Telegram sends for a file id or (photos) an http(s) URL; pyrogram's errors otherwise."""
        if not isinstance(media, str):
            raise TypeError("the fake takes files by file id or URL, not uploads")
        if media.startswith(("http://", "https://")):
            if not photo_only:
                raise TypeError("the fake fetches photos only from URLs")
            return self.world.photo_for_url(media)
        if media in self.gone_files:
            raise MediaEmpty()
        raw_media = self.world.media_for_file_id(media)  # ValueError for a malformed id, as pyrogram
        if photo_only and not hasattr(raw_media, "photo"):
            # pyrogram's check that the id denotes a photo
            raise ValueError(f"Expected PHOTO, got another file type in {media!r}")
        return raw_media

    async def _caption(self, caption: str | None, parse_mode: enums.ParseMode | None) -> dict[str, Any]:
        parsed: dict[str, Any] = await self._parser.parse(caption or "", parse_mode)
        if utf16_len(parsed["message"]) > MAX_CAPTION:
            raise MediaCaptionTooLong()
        return parsed

    def _album(self, chat_id: int, message_id: int) -> list[Any]:
        source = self.chats.get(chat_id, message_id)
        group = getattr(source.raw, "grouped_id", None) if source is not None else None
        if group is None:
            # pyrogram's own words when the message is in no media group (or gone).
            raise ValueError("The message doesn't belong to a media group")
        return [m for m in self.chats.messages(chat_id) if getattr(m.raw, "grouped_id", None) == group]

    def _note_silent(self, chat_id: int, message_id: int, disable_notification: bool | None,
                     protect_content: bool | None = None) -> None:
        if disable_notification:
            self.silent.add((chat_id, message_id))
        if protect_content:
            self.protected.add((chat_id, message_id))

    def _take_send(self, chat_id: int) -> None:
        if self.limits is not None:
            self.limits.take_send(chat_id)

    async def _markup(self, markup: Any) -> Any:
        return await markup.write(self.world.client) if markup is not None else None


def _reply_id(params: pt.ReplyParameters | None) -> int | None:
    return params.message_id if params is not None else None


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return bool(a.write() == b.write())
