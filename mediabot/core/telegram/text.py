"""Cutting a long text into messages Telegram accepts.

Telegram refuses a message longer than 4,096 characters — counted in UTF-16
code units, so an emoji outside the Basic Multilingual Plane counts twice —
with a permanent ``MESSAGE_TOO_LONG``. :func:`split_text` cuts at the best
boundary below the limit: a blank line, else a line break, else a space,
else anywhere (between two characters, never inside a surrogate pair). The
line break, blank line or space a cut is made at is dropped (it would end
or start a part, where Telegram trims it anyway); nothing else is lost.

For Telegram HTML the limit applies to the visible text, as Telegram counts
it after parsing: tags count nothing, and only ``&lt; &gt; &amp; &quot;`` and
numeric references (``&#NN;``, ``&#xNN;``, of a valid code point) are
entities, one character each; anything else (``&nbsp;``, ``&copy`` without
``;``) is literal text, every character counted. Cuts prefer a blank line
or line break with no element open; when there is none below the limit (a
long line, a long ``<pre>`` block) the cut is made inside the elements, which
are closed at the end of the part and opened again, with their attributes,
at the start of the next. No part is blank, and none is over the limit.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

__all__ = ["MAX_CAPTION", "MAX_MESSAGE", "cut_text", "split_text", "utf16_len"]

MAX_MESSAGE = 4096
#: Telegram refuses a media caption longer than this (UTF-16 units) with ``MEDIA_CAPTION_TOO_LONG``.
MAX_CAPTION = 1024

# A tag (attribute values may hold ">" inside quotes), or an entity Telegram decodes.
_MARKUP = re.compile(
    r"""<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>"""
    r"|&(lt|gt|amp|quot);|&#([0-9]{1,8}|[xX][0-9a-fA-F]{1,7});")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_TEXT, _OPEN, _CLOSE, _EMPTY = 0, 1, 2, 3  # _EMPTY: a tag that opens nothing (``<x/>``)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (a lone surrogate counts one, as it would once encoded)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def split_text(text: str, *, limit: int = MAX_MESSAGE, html: bool = False) -> list[str]:
    """``text`` as parts of at most ``limit`` UTF-16 units each (one part, unchanged, when it fits).

    :raises ValueError: ``limit`` is below 2, or a text over the limit holds
        nothing but whitespace (Telegram refuses a blank message).
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    parts = _split_html(text, limit) if html else _split_plain(text, limit)
    if not parts:
        raise ValueError("the text is blank: Telegram refuses a message with nothing to show")
    return parts


def _split_plain(text: str, limit: int) -> list[str]:
    if utf16_len(text) <= limit:
        return [text]
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
    return [p for p in parts if p.strip()]


def cut_text(text: str, limit: int, *, ellipsis: str = "…") -> str:
    """``text`` unchanged when it fits in ``limit`` UTF-16 units, else cut to fit with ``ellipsis`` at the end.

    The cut is made after the last whole word that fits (a line break or a
    space), unless that would drop more than a third of what fits: then
    between two characters, never inside a surrogate pair. For one message
    part (a caption) where :func:`split_text` would make several.
    """
    if utf16_len(text) <= limit:
        return text
    room = limit - utf16_len(ellipsis)
    if room < 1:
        raise ValueError("limit must leave room for the ellipsis")
    cut = _fit(text, room)
    window = text[:cut]
    at = max(window.rfind(" "), window.rfind("\n"))
    if at >= cut * 2 // 3 and window[:at].strip():
        window = window[:at]
    return window.rstrip() + ellipsis


def _fit(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 units (never splitting a surrogate pair)."""
    units, i = 0, 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            if i > 1 and _is_pair(text[i - 1], ch):
                return i - 1
            return i
    return len(text)


def _is_pair(high: str, low: str) -> bool:
    return "\ud800" <= high <= "\udbff" and "\udc00" <= low <= "\udfff"


# -- HTML ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Tokens:
    """The text as a sequence: tags, and visible characters with the source that shows them.

    ``stacks[i]`` are the elements open before token ``i`` (name, opening tag);
    ``cum[i]`` the UTF-16 units of the visible text before token ``i``.
    """

    kind: list[int]
    src: list[str]
    visible: list[str]
    stacks: list[tuple[tuple[str, str], ...]]
    cum: list[int]


def _tokenize(text: str) -> _Tokens:
    kind: list[int] = []
    src: list[str] = []
    visible: list[str] = []

    def chars(chunk: str) -> None:
        for ch in chunk:
            kind.append(_TEXT)
            src.append(ch)
            visible.append(ch)

    pos = 0
    for m in _MARKUP.finditer(text):
        chars(text[pos:m.start()])
        pos = m.end()
        if m.group(2) is not None:
            closing = bool(m.group(1))
            self_closing = not closing and m.group(3).rstrip().endswith("/")
            kind.append(_CLOSE if closing else (_EMPTY if self_closing else _OPEN))
            src.append(m.group(0))
            visible.append("")
        elif m.group(4) is not None:
            kind.append(_TEXT)
            src.append(m.group(0))
            visible.append(_NAMED[m.group(4)])
        else:
            ref = m.group(5)
            code = int(ref[1:], 16) if ref[0] in "xX" else int(ref)
            if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                kind.append(_TEXT)
                src.append(m.group(0))
                visible.append(chr(code))
            else:  # not a character: Telegram shows the reference as written
                chars(m.group(0))
    chars(text[pos:])

    stacks: list[tuple[tuple[str, str], ...]] = []
    cum = [0]
    stack: tuple[tuple[str, str], ...] = ()
    units = 0
    for k, s, v in zip(kind, src, visible, strict=True):
        stacks.append(stack)
        if k == _OPEN:
            stack = (*stack, (_tag_name(s), s))
        elif k == _CLOSE:
            name = _tag_name(s)
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == name:
                    stack = stack[:i] + stack[i + 1:]
                    break
        elif v:
            units += 2 if ord(v) > 0xFFFF else 1
        cum.append(units)
    stacks.append(stack)
    return _Tokens(kind, src, visible, stacks, cum)


def _tag_name(tag: str) -> str:
    m = _MARKUP.match(tag)
    assert m is not None and m.group(2) is not None
    return m.group(2).lower()


def _split_html(text: str, limit: int) -> list[str]:
    t = _tokenize(text)
    n = len(t.kind)
    if t.cum[n] <= limit:
        return [text]
    parts: list[str] = []
    start = 0
    while start < n:
        # The longest run from ``start`` that fits: tags after its last character included.
        end = bisect_right(t.cum, t.cum[start] + limit) - 1
        if end >= n:
            cut, resume = n, n
        else:
            cut, resume = _best_cut(t, start, end)
        # An opening tag just before the cut would open nothing here; the next part reopens it.
        while cut > start + 1 and t.kind[cut - 1] == _OPEN:
            cut -= 1
        # Closing tags right after a cut close what this part closes anyway.
        while resume < n and t.kind[resume] == _CLOSE:
            resume += 1
        _emit(t, start, cut, parts)
        start = resume
    return parts


def _best_cut(t: _Tokens, start: int, end: int) -> tuple[int, int]:
    """``(cut, resume)``: this part ends before token ``cut``, the next starts at ``resume``.

    ``end`` is the first visible character that does not fit. Preference: a
    blank line with no element open, a line break with none open, a line
    break inside elements, a space, else before ``end`` itself.
    """
    kind, visible, stacks = t.kind, t.visible, t.stacks
    n = len(kind)

    def is_char(i: int, ch: str) -> bool:
        return 0 <= i < n and kind[i] == _TEXT and visible[i] == ch

    best: dict[int, tuple[int, int]] = {}
    for at in range(end, start, -1):
        if is_char(at, "\n"):
            if not stacks[at]:
                if is_char(at + 1, "\n"):
                    return at, at + 2
                best.setdefault(1, (at, at + 1))
            else:
                best.setdefault(2, (at, at + 1))
        elif is_char(at, " "):
            best.setdefault(3, (at, at + 1))
    for rank in (1, 2, 3):
        if rank in best:
            return best[rank]
    cut = end
    if cut - 1 > start and _is_pair(visible[cut - 1] or "x", visible[cut] or "x"):
        cut -= 1
    return cut, cut


def _emit(t: _Tokens, start: int, cut: int, parts: list[str]) -> None:
    """Add tokens ``start:cut`` as a part, its open elements reopened before and closed after; blank ones are dropped."""
    shown = "".join(t.visible[start:cut])
    if not shown.strip():
        return
    reopen = "".join(tag for _, tag in t.stacks[start])
    close = "".join(f"</{name}>" for name, _ in reversed(t.stacks[cut]))
    parts.append(reopen + "".join(t.src[start:cut]) + close)
