"""What a filter is: a keyword, where it applies, and the reply it sends (msgspec: stored and exported as is)."""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["GLOBAL", "REPLY_KINDS", "ButtonSpec", "Filter", "Reply"]

#: The scope of global filters (a group's scope is its chat id, always negative).
GLOBAL = 0
#: Media a reply may carry (what ``/filter`` accepts in reply to a message).
REPLY_KINDS = ("photo", "video", "document", "sticker", "animation", "audio", "voice")
MediaKindName = Literal["photo", "video", "document", "sticker", "animation", "audio", "voice"]


class ButtonSpec(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One button of a reply: a link (``url``) or an alert shown to whoever presses it (``alert``)."""

    text: str
    url: str | None = None
    alert: str | None = None


class Reply(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What a filter sends: Telegram HTML text (a caption with a file), an optional file, buttons.

    :param html: the text as Telegram HTML, placeholders (``{first}``, ``{mention}``...) unfilled.
    :param kind: the file's kind when the reply is a file.
    :param file_id: the file, as this bot sends it again.
    :param buttons: rows of buttons.
    """

    html: str = ""
    kind: MediaKindName | None = None
    file_id: str | None = None
    buttons: list[list[ButtonSpec]] = []


class Filter(msgspec.Struct, frozen=True, kw_only=True):
    """A keyword and its reply in one scope.

    :param scope: the group's chat id, or :data:`GLOBAL`.
    :param key: the keyword's words, folded (see :func:`mediabot_filters.words.words`), space separated:
        the identity of the filter in its scope.
    :param keyword: the keyword as the admin typed it (for lists).
    :param id: a short random id (buttons carry it).
    """

    scope: int
    key: str
    keyword: str
    reply: Reply
    id: str
    by: int = 0
