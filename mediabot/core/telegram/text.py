"""Cutting a long text into messages Telegram accepts.

Telegram refuses a message longer than 4,096 characters — counted in UTF-16
code units, so an emoji outside the Basic Multilingual Plane counts twice —
with a permanent ``MESSAGE_TOO_LONG``. :func:`split_text` cuts at the best
boundary below the limit: a blank line, else a line break, else a space,
else anywhere (between two characters, never inside a surrogate pair). For
Telegram HTML it cuts only at a line break with no tag open, so every part
parses on its own; the limit then applies to the visible text, as Telegram
counts it after parsing.
"""

from __future__ import annotations

import html as htmllib
import re

__all__ = ["MAX_MESSAGE", "split_text", "utf16_len"]

MAX_MESSAGE = 4096
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, *, limit: int = MAX_MESSAGE, html: bool = False) -> list[str]:
    """``text`` as parts of at most ``limit`` UTF-16 units each (one part when it fits).

    :raises ValueError: HTML with a single element longer than ``limit`` (no safe place to cut).
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    return _split_html(text, limit) if html else _split_plain(text, limit)


def _split_plain(text: str, limit: int) -> list[str]:
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        cut = _fit(rest, limit)
        window = rest[:cut]
        for sep in ("\n\n", "\n", " "):
            at = window.rfind(sep)
            if at > 0:
                cut = at + len(sep)
                break
        parts.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:]
    parts.append(rest)
    # Telegram refuses an empty message: a run of blank lines at a cut is dropped.
    return [p for p in parts if p.strip()] or [text]


def _fit(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 units."""
    units, i = 0, 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)


def _visible_len(fragment: str) -> int:
    return utf16_len(htmllib.unescape(_TAG.sub("", fragment)))


def _split_html(text: str, limit: int) -> list[str]:
    if _visible_len(text) <= limit:
        return [text]
    # Safe cut points: after a line break with no element open.
    lines = text.split("\n")
    parts: list[str] = []
    current: list[str] = []
    open_tags: list[str] = []
    block: list[str] = []  # lines since the last safe point
    for line in lines:
        block.append(line)
        for closing, name in ((m.group(1), m.group(2).lower()) for m in _TAG.finditer(line)):
            if not closing:
                open_tags.append(name)
            elif name in open_tags:
                del open_tags[len(open_tags) - 1 - open_tags[::-1].index(name)]
        if open_tags:
            continue
        candidate = "\n".join([*current, *block])
        if current and _visible_len(candidate) > limit:
            parts.append("\n".join(current))
            current = list(block)
        else:
            current = [*current, *block]
        if _visible_len("\n".join(current)) > limit:
            raise ValueError(f"an HTML element or line of {_visible_len(chr(10).join(current))} characters "
                             f"has no safe place to cut below {limit}; send it as plain text or shorten it")
        block = []
    if block:  # an element left open at the end: Telegram would refuse it anyway; keep it whole
        current = [*current, *block]
    if current:
        parts.append("\n".join(current))
    return parts
