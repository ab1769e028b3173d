"""A channel post on its way to the catalogue: what the live queue stores per entry.

A :class:`Post` keeps exactly what :meth:`mediabot.MediaFile.from_message`
reads from a message (the file, the caption, where it came from), so the
metadata extraction stays in one place -- the catalogue -- and runs in the
consumer, off the update loop. It is encoded as a msgpack *array* (field
names are not repeated in every stream entry): new fields may only be
appended, with a default, so entries written by an older version still decode.
"""

from __future__ import annotations

import msgspec

from mediabot import Chat, Media, MediaFile, Message

__all__ = ["Post", "decode_post", "encode_post"]


class Post(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """One media post of a source channel.

    :param channel: the channel's chat id.
    :param message_id: the post's id in that channel.
    :param date: Unix time of the post.
    :param kind: ``document``, ``video``, ``audio``...
    :param file_unique_id: Telegram's stable id of the file: the dedup key.
    :param file_id: what the bot sends the file back with.
    """

    channel: int
    message_id: int
    date: int
    kind: str
    file_unique_id: str
    file_id: str
    caption: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    duration: int | None = None
    width: int | None = None
    height: int | None = None
    title: str | None = None
    performer: str | None = None

    @classmethod
    def from_message(cls, message: Message) -> Post | None:
        """The post for ``message``, or ``None`` when it carries no file."""
        media = message.media
        if media is None:
            return None
        return cls(
            channel=message.chat.id, message_id=message.id, date=message.date, kind=media.kind,
            file_unique_id=media.file_unique_id, file_id=media.file_id, caption=message.caption,
            file_name=media.file_name, mime_type=media.mime_type, file_size=media.file_size,
            duration=media.duration, width=media.width, height=media.height, title=media.title,
            performer=media.performer,
        )

    def to_message(self) -> Message:
        """The channel post again, as far as the catalogue cares."""
        media = Media(
            kind=self.kind,  # type: ignore[arg-type]  # came from a Media, so a MediaKind
            file_id=self.file_id, file_unique_id=self.file_unique_id, file_name=self.file_name,
            mime_type=self.mime_type, file_size=self.file_size, duration=self.duration,
            width=self.width, height=self.height, title=self.title, performer=self.performer,
        )
        return Message(id=self.message_id, chat=Chat(id=self.channel, type="channel"), date=self.date,
                       caption=self.caption, media=media)

    def to_media_file(self) -> MediaFile:
        """The catalogue entry (its catalogue id is assigned now: build it once per batch)."""
        return MediaFile.from_message(self.to_message())


# Encoder and decoder hold no state between calls; building them once saves
# the per-call setup on a path that runs for every post.
_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(Post)


def encode_post(post: Post) -> bytes:
    """The stream entry payload of ``post``."""
    return _ENCODER.encode(post)


def decode_post(payload: bytes) -> Post:
    """A post from a stream entry payload.

    :raises msgspec.DecodeError: the payload is not a post (corrupt or foreign entry).
    """
    return _DECODER.decode(payload)
