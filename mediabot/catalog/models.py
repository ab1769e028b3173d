"""Catalogue documents: media files and bot users.

They are msgspec structs; :func:`to_document` / :func:`from_document` are
the only place that knows how they look in MongoDB (``_id`` types, dates),
so every repository stores and reads them the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import msgspec

from mediabot.catalog.tokens import parse_release, search_tokens
from mediabot.core.types import MediaKind, Message

__all__ = ["BotUser", "MediaFile", "UserStatus", "from_document", "new_file_id", "to_document", "utcnow"]

UserStatus = Literal["active", "blocked", "deactivated", "banned"]
T = TypeVar("T", bound=msgspec.Struct)


def new_file_id() -> str:
    """A new catalogue id: an ObjectId as 24 hex digits (time-ordered, unique across processes)."""
    from bson import ObjectId  # here, not at the top: `import mediabot` stays free of the driver

    return str(ObjectId())


def utcnow() -> datetime:
    """The current UTC time, to the millisecond (as MongoDB stores it).

    Use it for every time a plugin stores: a document written and read back compares equal.
    """
    # MongoDB keeps milliseconds: truncating here makes a stored and re-read
    # document compare equal to the one that was written.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class MediaFile(msgspec.Struct, kw_only=True):
    """A file in the catalogue, unique by ``file_unique_id``.

    :param id: catalogue id (ObjectId hex, stored as ``_id``). It is assigned
        when the struct is built, so a batch retried on another database
        keeps its ids and cross-database reads order files the same way.
    :param file_unique_id: Telegram's stable id of the file (the same file
        posted twice, or seen by two bots, has one): the dedup key.
    :param file_id: what this bot sends the file back with.
    :param kind: ``document``, ``video``, ``audio``...
    :param file_name: the original file name, when Telegram has one.
    :param caption: the caption of the message the file came from.
    :param size: bytes.
    :param mime_type: e.g. ``video/x-matroska``.
    :param chat_id: the chat (channel) the file was indexed from.
    :param message_id: the message in that chat.
    :param duration: seconds, for audio and video.
    :param resolution: ``1080p``, ``2160p``... parsed from the name or caption.
    :param season: parsed season number.
    :param episode: parsed episode number.
    :param year: parsed release year.
    :param tokens: normalised search tokens of the name and caption
        (see :mod:`mediabot.catalog.tokens`).
    :param indexed_at: when it entered the catalogue (UTC).
    :param deliveries: how many times the bot delivered it (a popularity signal for search).
    :param dead: Telegram refused it as gone when it was delivered; it left
        every search index and is kept only so it is not indexed again.
    """

    id: str = msgspec.field(default_factory=new_file_id, name="_id")
    file_unique_id: str
    file_id: str
    kind: MediaKind = "document"
    file_name: str | None = None
    caption: str | None = None
    size: int | None = None
    mime_type: str | None = None
    chat_id: int | None = None
    message_id: int | None = None
    duration: int | None = None
    resolution: str | None = None
    season: int | None = None
    episode: int | None = None
    year: int | None = None
    tokens: list[str] = []
    indexed_at: datetime = msgspec.field(default_factory=utcnow)
    deliveries: int = 0
    dead: bool = False

    @classmethod
    def from_message(cls, message: Message) -> MediaFile:
        """The catalogue entry for a message carrying a file (a channel post, usually)."""
        media = message.media
        if media is None:
            raise ValueError(f"message {message.id} in chat {message.chat.id} carries no file")
        name = media.file_name or " ".join(p for p in (media.performer, media.title) if p) or None
        info = parse_release(name, message.caption)
        return cls(
            file_unique_id=media.file_unique_id, file_id=media.file_id, kind=media.kind,
            file_name=name, caption=message.caption, size=media.file_size, mime_type=media.mime_type,
            chat_id=message.chat.id, message_id=message.id, duration=media.duration,
            resolution=info.resolution, season=info.season, episode=info.episode, year=info.year,
            tokens=search_tokens(name, message.caption),
        )


class BotUser(msgspec.Struct, kw_only=True):
    """Someone who talked to the bot in a private chat.

    :param id: Telegram user id (stored as ``_id``).
    :param first_seen: first private message (UTC).
    :param last_seen: last recorded private message (UTC; recorded at most
        once per user every few minutes).
    :param language: the client's language code, when Telegram tells.
    :param status: ``active``; ``blocked`` (they blocked the bot) or
        ``deactivated`` (account deleted), both found out when a send fails;
        ``banned`` by an admin (their updates are ignored).
    :param ban_reason: what the admin gave as the reason.
    :param banned_by: the admin's user id.
    :param banned_at: when (UTC).
    :param role: ``user``, ``admin`` or ``owner`` when last seen.
    """

    id: int = msgspec.field(name="_id")
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    language: str | None = None
    status: UserStatus = "active"
    ban_reason: str | None = None
    banned_by: int | None = None
    banned_at: datetime | None = None
    role: Literal["user", "admin", "owner"] = "user"


def to_document(item: msgspec.Struct) -> dict[str, Any]:
    """The MongoDB document for a catalogue struct (``None`` fields left out)."""
    doc = msgspec.to_builtins(item, builtin_types=(datetime,))
    doc = {k: v for k, v in doc.items() if v is not None}
    if isinstance(item, MediaFile):
        from bson import ObjectId

        doc["_id"] = ObjectId(item.id)
    return doc


def from_document(doc: dict[str, Any], type_: type[T]) -> T:
    """Decode a document read from MongoDB; fields this version does not know are ignored."""
    from bson import ObjectId

    if isinstance(doc.get("_id"), ObjectId):
        doc = {**doc, "_id": str(doc["_id"])}
    return msgspec.convert(doc, type_, builtin_types=(datetime,))
