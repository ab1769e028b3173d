"""Telegram objects for the fake, built the way Telegram and pyrogram build them.

The fake does not hand-craft ``pyrogram.types`` objects. It writes the raw
TL objects Telegram would send (``pyrogram.raw.types.Message``, ``User``,
``Channel``, ``Document``...), serialises them to bytes and reads them back
(so optional vectors and flags look exactly as on the wire), then runs
pyrogram's own parsers (``pyrogram.types.Message._parse`` and friends). What
the gateway receives from the fake is therefore what it receives in
production, down to file ids, naive local dates and stripped texts.

Parsing needs a ``pyrogram.Client`` for its caches; :class:`TLWorld` owns one
that is never started and never touches the network (``fetch_*`` off).

Chat ids are the Bot API's: users ``> 0``, basic groups ``-1 .. -999999999999``,
channels and supergroups ``-100xxxxxxxxxx`` (e.g. ``-1001234567890``).
"""

from __future__ import annotations

import hashlib
import itertools
import mimetypes
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import PurePath
from typing import Any, Literal

import pyrogram
from pyrogram import raw, utils
from pyrogram import types as pt
from pyrogram.file_id import FileId, FileType, FileUniqueId, FileUniqueType
from pyrogram.raw.core import TLObject

from mediabot.core.types import MediaKind

__all__ = ["FakeChatKind", "FakeFile", "TLWorld", "fake_file_id", "roundtrip"]

FakeChatKind = Literal["private", "group", "supergroup", "channel"]

_EXTENSION_KINDS: dict[str, MediaKind] = {
    **dict.fromkeys((".mkv", ".mp4", ".avi", ".mov", ".webm", ".m4v", ".ts"), "video"),
    **dict.fromkeys((".mp3", ".flac", ".m4a", ".ogg", ".opus", ".wav", ".aac"), "audio"),
    **dict.fromkeys((".jpg", ".jpeg", ".png", ".webp"), "photo"),
}

_FILE_TYPES: dict[MediaKind, FileType] = {
    "document": FileType.DOCUMENT, "video": FileType.VIDEO, "audio": FileType.AUDIO,
    "photo": FileType.PHOTO, "animation": FileType.ANIMATION, "voice": FileType.VOICE,
    "video_note": FileType.VIDEO_NOTE, "sticker": FileType.STICKER,
}
_KINDS_BY_TYPE: dict[FileType, MediaKind] = {v: k for k, v in _FILE_TYPES.items()}

# The fake's files live on this data centre; any value Telegram uses would do.
_DC = 4
_EPOCH = 1_700_000_000


def roundtrip(obj: TLObject) -> Any:
    """Serialise a raw TL object and read it back, as if it came off the wire."""
    return TLObject.read(BytesIO(obj.write()))


@dataclass(frozen=True, kw_only=True)
class FakeFile:
    """A file as an uploader would post it: what a channel post or user message carries.

    :param file_name: e.g. ``"Dune.Part.Two.2024.2160p.x265.mkv"``; the kind is
        guessed from its extension when ``kind`` is not given.
    :param kind: document, video, audio, photo, animation, voice or video_note.
    :param media_id: Telegram's id of the file; fixes ``file_unique_id``. Default:
        derived from the other fields, so the same description is the same file.
    """

    file_name: str | None = None
    kind: MediaKind | None = None
    mime_type: str | None = None
    size: int = 1_048_576
    duration: int | None = None
    width: int | None = None
    height: int | None = None
    title: str | None = None
    performer: str | None = None
    media_id: int | None = None
    #: a sticker's emoji
    emoji: str | None = None

    @property
    def resolved_kind(self) -> MediaKind:
        if self.kind is not None:
            return self.kind
        suffix = PurePath(self.file_name or "").suffix.lower()
        return _EXTENSION_KINDS.get(suffix, "document")

    @property
    def resolved_media_id(self) -> int:
        if self.media_id is not None:
            return self.media_id
        digest = hashlib.blake2b(repr(self).encode(), digest_size=7).digest()
        return int.from_bytes(digest, "big") or 1

    @property
    def file_id(self) -> str:
        """The ``file_id`` pyrogram computes for this file (what the bot sends it back with)."""
        return fake_file_id(self.resolved_kind, self.resolved_media_id)

    @property
    def file_unique_id(self) -> str:
        return FileUniqueId(file_unique_type=FileUniqueType.DOCUMENT,
                            media_id=self.resolved_media_id).encode()


def fake_file_id(kind: MediaKind, media_id: int) -> str:
    """A well-formed ``file_id`` for a file the fake can send (e.g. to seed a demo catalogue)."""
    file_type = _FILE_TYPES[kind]
    if file_type == FileType.PHOTO:
        from pyrogram.file_id import ThumbnailSource

        return FileId(file_type=file_type, dc_id=_DC, media_id=media_id, access_hash=_access_hash(media_id),
                      file_reference=b"", thumbnail_source=ThumbnailSource.THUMBNAIL,
                      thumbnail_file_type=FileType.PHOTO, thumbnail_size="y", volume_id=0,
                      local_id=0).encode()
    return FileId(file_type=file_type, dc_id=_DC, media_id=media_id, access_hash=_access_hash(media_id),
                  file_reference=b"").encode()


async def _unresolvable(peer_id: Any) -> Any:
    from pyrogram.errors import PeerIdInvalid

    raise PeerIdInvalid()


def _access_hash(media_id: int) -> int:
    return (media_id * 2654435761) % (1 << 62)


@dataclass
class _ChatEntry:
    chat_id: int
    kind: FakeChatKind
    raw: Any  # raw.types.User / Chat / Channel
    username: str | None = None


@dataclass
class TLWorld:
    """Users, chats and files the fake knows, as raw TL objects, plus the parsers.

    :param bot_id: the bot's own user id.
    :param bot_username: the bot's username (without ``@``).
    """

    bot_id: int = 7_000_000_001
    bot_username: str = "mediabot_test_bot"
    users: dict[int, Any] = field(default_factory=dict)
    chats: dict[int, _ChatEntry] = field(default_factory=dict)
    files: dict[int, FakeFile] = field(default_factory=dict)
    # Groups and channels by raw id, as pyrogram's parsers want them.
    raw_chats: dict[int, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Never started: only its caches and parsers are used.
        self.client = pyrogram.Client(
            name="mediabot-fake", api_id=1, api_hash="0" * 32, in_memory=True, no_updates=True,
            fetch_replies=False, fetch_topics=False, fetch_stories=False, fetch_stickers=False,
        )
        # Its parser resolves the user of a ``tg://user?id=`` link through the (never started) client:
        # the fake answers as for a user it cannot resolve, and pyrogram sends the text without the link.
        self.client.resolve_peer = _unresolvable  # type: ignore[method-assign]
        self._query_ids = itertools.count(5_000_000_000_001)
        self.users[self.bot_id] = roundtrip(raw.types.User(
            id=self.bot_id, bot=True, is_self=True, first_name="Mediabot", username=self.bot_username,
            access_hash=_access_hash(self.bot_id), bot_info_version=1))

    # -- users and chats ---------------------------------------------------------------
    def user(self, user_id: int, *, first_name: str | None = None, last_name: str | None = None,
             username: str | None = None, language: str | None = None) -> Any:
        """The raw user ``user_id``, created on first use (``first_name`` defaults to ``User<id>``)."""
        if user_id <= 0:
            raise ValueError(f"user ids are positive, got {user_id}")
        existing = self.users.get(user_id)
        if existing is not None and first_name is None and username is None and last_name is None:
            return existing
        user = roundtrip(raw.types.User(
            id=user_id, access_hash=_access_hash(user_id),
            first_name=first_name or (existing.first_name if existing else f"User{user_id}"),
            last_name=last_name or (existing.last_name if existing else None),
            username=username or (existing.username if existing else None),
            lang_code=language or (existing.lang_code if existing else None)))
        self.users[user_id] = user
        entry = self.chats.get(user_id)
        if entry is not None:
            entry.raw = user
        return user

    def add_chat(self, chat_id: int, kind: FakeChatKind, *, title: str | None = None,
                 username: str | None = None) -> _ChatEntry:
        """Register a group, supergroup or channel (private chats appear with their user)."""
        if kind == "private":
            self.user(chat_id, username=username)
            return self.private_chat(chat_id)
        peer_type = utils.get_peer_type(chat_id)
        raw_id = utils.get_raw_peer_id(chat_id)
        title = title or f"{kind.title()} {raw_id}"
        if kind == "group":
            if peer_type != "chat":
                raise ValueError(f"{chat_id} is not a basic group id (use -1 .. -999999999999)")
            obj = raw.types.Chat(id=raw_id, title=title, photo=raw.types.ChatPhotoEmpty(),
                                 participants_count=2, date=_EPOCH, version=1)
        else:
            if peer_type != "channel":
                raise ValueError(f"{chat_id} is not a channel/supergroup id (use -100xxxxxxxxxx)")
            obj = raw.types.Channel(id=raw_id, title=title, photo=raw.types.ChatPhotoEmpty(), date=_EPOCH,
                                    broadcast=kind == "channel", megagroup=kind == "supergroup",
                                    access_hash=_access_hash(raw_id), username=username)
        entry = _ChatEntry(chat_id, kind, roundtrip(obj), username)
        self.chats[chat_id] = entry
        self.raw_chats[raw_id] = entry.raw
        return entry

    def private_chat(self, user_id: int) -> _ChatEntry:
        entry = self.chats.get(user_id)
        if entry is None:
            entry = _ChatEntry(user_id, "private", self.user(user_id))
            self.chats[user_id] = entry
        return entry

    def find_username(self, username: str) -> _ChatEntry | None:
        name = username.lstrip("@").lower()
        for entry in self.chats.values():
            uname = entry.username or getattr(entry.raw, "username", None)
            if uname and uname.lower() == name:
                return entry
        return None

    def peer(self, chat_id: int) -> Any:
        kind = utils.get_peer_type(chat_id)
        raw_id = utils.get_raw_peer_id(chat_id)
        if kind == "user":
            return raw.types.PeerUser(user_id=raw_id)
        if kind == "chat":
            return raw.types.PeerChat(chat_id=raw_id)
        return raw.types.PeerChannel(channel_id=raw_id)

    # -- files -----------------------------------------------------------------------
    def register(self, file: FakeFile) -> FakeFile:
        self.files[file.resolved_media_id] = file
        return file

    def media(self, file: FakeFile) -> Any:
        """The raw ``MessageMedia`` of a message carrying ``file``."""
        self.register(file)
        kind = file.resolved_kind
        media_id = file.resolved_media_id
        common = dict(id=media_id, access_hash=_access_hash(media_id), file_reference=b"", date=_EPOCH,
                      dc_id=_DC)
        if kind == "photo":
            w, h = file.width or 1280, file.height or 720
            sizes = [raw.types.PhotoSize(type="m", w=w // 4, h=h // 4, size=max(1, file.size // 16)),
                     raw.types.PhotoSize(type="y", w=w, h=h, size=file.size)]
            return raw.types.MessageMediaPhoto(photo=raw.types.Photo(sizes=sizes, **common))
        attributes: list[Any] = []
        if kind == "sticker":
            attributes += [raw.types.DocumentAttributeSticker(alt=file.emoji or "", stickerset=
                                                              raw.types.InputStickerSetEmpty()),
                           raw.types.DocumentAttributeImageSize(w=file.width or 512, h=file.height or 512)]
        if file.file_name:
            attributes.append(raw.types.DocumentAttributeFilename(file_name=file.file_name))
        if kind in ("video", "animation", "video_note"):
            side = file.width or (480 if kind == "video_note" else 1920)
            attributes.append(raw.types.DocumentAttributeVideo(
                duration=float(file.duration or 60), w=side, h=file.height or (side if kind == "video_note"
                                                                              else 1080),
                round_message=kind == "video_note", supports_streaming=True))
            if kind == "animation":
                attributes.append(raw.types.DocumentAttributeAnimated())
        elif kind in ("audio", "voice"):
            attributes.append(raw.types.DocumentAttributeAudio(
                duration=file.duration or 180, voice=kind == "voice", title=file.title,
                performer=file.performer))
        mime = file.mime_type or _guess_mime(file.file_name, kind)
        document = raw.types.Document(mime_type=mime, size=file.size, attributes=attributes, **common)
        return raw.types.MessageMediaDocument(document=document, video=kind == "video" or None,
                                              voice=kind == "voice" or None,
                                              round=kind == "video_note" or None)

    def media_for_file_id(self, file_id: str) -> Any:
        """The media a ``send_cached_media`` of ``file_id`` delivers.

        :raises ValueError: ``file_id`` is not a file id (pyrogram's own check).
        """
        try:
            decoded = FileId.decode(file_id)
        except Exception as exc:
            raise ValueError(f'Failed to decode "{file_id}". The value does not represent an existing '
                             "local file, HTTP URL, or valid file id.") from exc
        known = self.files.get(decoded.media_id)
        if known is None:
            # A file this bot saw before the fake existed: Telegram knows it, so do we.
            kind = _KINDS_BY_TYPE.get(decoded.file_type, "document")
            known = FakeFile(kind=kind, media_id=decoded.media_id,
                             file_name=None if kind == "photo" else f"file{decoded.media_id}")
        return self.media(known)

    # -- messages --------------------------------------------------------------------
    def message(self, chat_id: int, message_id: int, *, from_id: int | None, text: str = "",
                entities: list[Any] | None = None, media: Any = None, reply_markup: Any = None,
                reply_to: int | None = None, date: int, out: bool = False, edit_date: int | None = None,
                grouped_id: int | None = None) -> Any:
        """A raw ``Message`` in ``chat_id``, read back from its bytes."""
        entry = self.chats[chat_id]
        msg = raw.types.Message(
            id=message_id, peer_id=self.peer(chat_id), date=date, message=text, entities=entities or None,
            from_id=raw.types.PeerUser(user_id=from_id) if from_id is not None else None,
            out=out or None, post=entry.kind == "channel" or None, media=media, reply_markup=reply_markup,
            reply_to=raw.types.MessageReplyHeader(reply_to_msg_id=reply_to) if reply_to else None,
            edit_date=edit_date, grouped_id=grouped_id)
        return roundtrip(msg)

    async def parse_message(self, message: Any) -> pt.Message:
        """Pyrogram's own parse of a raw message (and into its message cache, as a live client would)."""
        parsed = await pt.Message._parse(self.client, message, self.users, self.raw_chats,
                                         replies=0)
        return parsed

    def empty_message(self, chat_id: int, message_id: int) -> pt.Message:
        """What ``get_messages`` returns for a deleted or never-existing id."""
        return pt.Message(id=message_id, empty=True, client=self.client)

    async def parse_chat(self, chat_id: int) -> pt.Chat:
        return await pt.Chat._parse_chat(self.client, self.chats[chat_id].raw)

    async def parse_user(self, user_id: int) -> pt.User:
        return await pt.User._parse(self.client, self.users[user_id])

    async def callback_query(self, user_id: int, chat_id: int, message: pt.Message,
                             data: bytes) -> pt.CallbackQuery:
        update = roundtrip(raw.types.UpdateBotCallbackQuery(
            query_id=next(self._query_ids), user_id=user_id, peer=self.peer(chat_id), msg_id=message.id,
            chat_instance=abs(hash((chat_id, self.bot_id))) % (1 << 62), data=data))
        # The parser looks the message up in the cache and would otherwise fetch it.
        await self.client.message_cache.set((chat_id, message.id), message)
        return await pt.CallbackQuery._parse(self.client, update, self.users, self.raw_chats)

    async def inline_query(self, user_id: int, query: str, offset: str) -> pt.InlineQuery:
        update = roundtrip(raw.types.UpdateBotInlineQuery(
            query_id=next(self._query_ids), user_id=user_id, query=query, offset=offset,
            peer_type=raw.types.InlineQueryPeerTypePM()))
        return await pt.InlineQuery._parse(self.client, update, self.users)

    # -- memberships, invite links, join requests, payments --------------------------------
    def participant(self, chat_id: int, user_id: int, status: str, *, by: int, date: int) -> Any:
        """The raw participant Telegram describes ``user_id`` with in ``chat_id`` (``None``: not in a basic group)."""
        group = self.chats[chat_id].kind == "group"
        if status == "administrator":
            if group:
                return raw.types.ChatParticipantAdmin(user_id=user_id, inviter_id=by, date=date)
            return raw.types.ChannelParticipantAdmin(
                user_id=user_id, promoted_by=by, date=date, can_edit=True,
                admin_rights=raw.types.ChatAdminRights(post_messages=True, edit_messages=True,
                                                      delete_messages=True, ban_users=True, invite_users=True))
        if status == "member":
            if group:
                return raw.types.ChatParticipant(user_id=user_id, inviter_id=by, date=date)
            return raw.types.ChannelParticipant(user_id=user_id, date=date)
        if group:
            return None  # a basic group names no one who left or was removed
        if status == "banned":
            return raw.types.ChannelParticipantBanned(peer=raw.types.PeerUser(user_id=user_id), kicked_by=by,
                                                      date=date, banned_rights=raw.types.ChatBannedRights(
                                                          until_date=0, view_messages=True))
        return raw.types.ChannelParticipantLeft(peer=raw.types.PeerUser(user_id=user_id))

    async def member_updated(self, chat_id: int, user_id: int, *, actor_id: int, old: str, new: str, date: int,
                             invite: Any = None) -> pt.ChatMemberUpdated:
        """Pyrogram's parse of the update Telegram sends when ``user_id``'s membership changes."""
        raw_id = utils.get_raw_peer_id(chat_id)
        sides = dict(prev_participant=self.participant(chat_id, user_id, old, by=actor_id, date=date),
                     new_participant=self.participant(chat_id, user_id, new, by=actor_id, date=date))
        if self.chats[chat_id].kind == "group":
            update = raw.types.UpdateChatParticipant(chat_id=raw_id, date=date, actor_id=actor_id, user_id=user_id,
                                                     qts=0, invite=invite, **sides)
        else:
            update = raw.types.UpdateChannelParticipant(channel_id=raw_id, date=date, actor_id=actor_id,
                                                        user_id=user_id, qts=0, invite=invite, **sides)
        return await pt.ChatMemberUpdated._parse(self.client, roundtrip(update), self.users, self.raw_chats)

    def invite(self, link: str, *, date: int, revoked: bool = False, request_needed: bool = False,
               expire_date: int | None = None, usage_limit: int | None = None, usage: int = 0,
               title: str | None = None) -> Any:
        """A raw exported invite link created by the bot."""
        return roundtrip(raw.types.ChatInviteExported(
            link=link, admin_id=self.bot_id, date=date, revoked=revoked or None, request_needed=request_needed or None,
            expire_date=expire_date, usage_limit=usage_limit, usage=usage or None, title=title))

    async def parse_invite(self, invite: Any) -> pt.ChatInviteLink:
        parsed = await pt.ChatInviteLink._parse(self.client, invite, self.users)
        assert parsed is not None  # a ChatInviteExported always parses
        return parsed

    async def join_request(self, chat_id: int, user_id: int, *, invite: Any, bio: str, date: int) -> pt.ChatJoinRequest:
        update = roundtrip(raw.types.UpdateBotChatInviteRequester(
            peer=self.peer(chat_id), date=date, user_id=user_id, about=bio, invite=invite, qts=0))
        return await pt.ChatJoinRequest._parse(self.client, update, self.users, self.raw_chats)

    async def pre_checkout(self, user_id: int, *, payload: bytes, currency: str,
                           total_amount: int) -> pt.PreCheckoutQuery:
        update = roundtrip(raw.types.UpdateBotPrecheckoutQuery(
            query_id=next(self._query_ids), user_id=user_id, payload=payload, currency=currency,
            total_amount=total_amount))
        return await pt.PreCheckoutQuery._parse(self.client, update, self.users)

    def payment_message(self, chat_id: int, message_id: int, *, from_id: int, currency: str, total_amount: int,
                        payload: bytes, charge_id: str, date: int) -> Any:
        """The raw service message a successful payment to the bot arrives as."""
        action = raw.types.MessageActionPaymentSentMe(
            currency=currency, total_amount=total_amount, payload=payload,
            charge=raw.types.PaymentCharge(id=charge_id, provider_charge_id=""))
        return roundtrip(raw.types.MessageService(id=message_id, peer_id=self.peer(chat_id), date=date,
                                                  action=action, from_id=raw.types.PeerUser(user_id=from_id)))

    @staticmethod
    def invoice_media(*, title: str, description: str, currency: str, total_amount: int) -> Any:
        return raw.types.MessageMediaInvoice(title=title, description=description, currency=currency,
                                             total_amount=total_amount, start_param="")

    def photo_for_url(self, url: str) -> Any:
        """The photo Telegram makes of an image it fetched from ``url`` (the same URL, the same photo)."""
        media_id = int.from_bytes(hashlib.blake2b(url.encode(), digest_size=7).digest(), "big") or 1
        return self.media(FakeFile(kind="photo", media_id=media_id))


def _guess_mime(file_name: str | None, kind: MediaKind) -> str:
    guessed = mimetypes.guess_type(file_name or "")[0]
    if guessed:
        return guessed
    return {"video": "video/mp4", "audio": "audio/mpeg", "voice": "audio/ogg", "animation": "video/mp4",
            "video_note": "video/mp4", "sticker": "image/webp"}.get(kind, "application/octet-stream")
