"""What a result list looks like: the text above it and the labels on its buttons.

A label is made for reading, not for copying: a release name's ``.`` and
``_`` separators become spaces (a dot between digits, as in ``5.1``, and
the extension's dot stay), and a name too long for a button loses words
from the middle of its title, never its end: the year, resolution,
episode and extension are what tell copies apart, and the size follows.
Labels are built from :func:`mediabot.safe_text` of the name, so a bidi
override or a line break in a file name never reaches a button.
"""

from __future__ import annotations

import math
import re

from mediabot import MediaFile, human_size, safe_text
from mediabot_search.service import SearchPage

__all__ = ["display_name", "file_label", "hint_text", "nothing_text", "page_text", "readable_name", "shown_query",
           "summary_text"]

LABEL_NAME_CHARS = 48
SHOWN_QUERY_CHARS = 60
# Title characters a cut keeps at least, before the ellipsis.
_MIN_HEAD = 20
_ELLIPSIS = "…"
# A separator: an underscore, or a dot, except one between two single digits (DDP5.1, 7.1, 2.0 stay).
_SEPARATOR = re.compile(r"_|\.")
_DECIMAL = re.compile(r"(?<!\d)\d\.\d(?!\d)")
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,5})$")
# Where the meaningful end of a release name starts: a year, a resolution, a season or episode.
_MARKER = re.compile(r"^(?:(?:19|20)\d\d|\d{3,4}[pP]|[sS]\d{1,3}(?:[eE]\d{1,4})?|[eE]\d{1,4})$")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + _ELLIPSIS


def readable_name(name: str | None) -> str:
    """``Dune.Part_Two.2024.DDP5.1.mkv`` -> ``Dune Part Two 2024 DDP5.1.mkv`` (cleaned by ``safe_text``)."""
    name = safe_text(name)
    ext = _EXTENSION.search(name)
    stem, suffix = (name[:ext.start()], ext.group(0)) if ext and ext.start() > 0 else (name, "")
    decimals = {m.start() + 1 for m in _DECIMAL.finditer(stem)}
    words = _SEPARATOR.sub(lambda m: "." if m.start() in decimals else " ", stem).split()
    return (" ".join(words) + suffix) if words else name


def display_name(file: MediaFile) -> str:
    """A file's name as shown in lists: readable, one line; the caption or ``file`` when it has no name."""
    return readable_name(file.file_name) or safe_text(file.caption) or "file"


def _fit_words(words: list[str], room: int) -> list[str]:
    """The longest run of ``words`` from the start that fits in ``room`` characters (spaces between)."""
    kept: list[str] = []
    for word in words:
        if len(" ".join([*kept, word])) > room:
            break
        kept.append(word)
    return kept


def _is_marker(word: str) -> bool:
    return bool(_MARKER.match(word.split(".")[0]))


def _shorten(text: str, limit: int) -> str:
    """``text`` in ``limit`` characters, cut in the middle of the title: its end (year, resolution...) stays."""
    if len(text) <= limit:
        return text
    words = text.split(" ")
    anchor = next((i for i, w in enumerate(words) if i and _is_marker(w)), len(words) - 1)
    if anchor == 0:  # one long word: keep its start and its end (the extension)
        end = min(12, limit // 3)
        return text[: limit - end - 1] + _ELLIPSIS + text[-end:]
    head, tail = words[:anchor], words[anchor:]
    tail_room = limit - min(len(" ".join(head)), _MIN_HEAD) - 2  # "… " between the head and the tail
    # A long end (many release tags) loses its tags first, from the right, then its markers; never its last word.
    for keep in (_is_marker, lambda _w: False):
        i = len(tail) - 2
        while len(" ".join(tail)) > tail_room and i >= 0:
            if not keep(tail[i]):
                del tail[i]
            i -= 1
    if len(" ".join(tail)) > tail_room:
        tail = [_cut(tail[-1], tail_room)]
    tail_text = " ".join(tail)
    room = limit - len(tail_text) - 1
    if len(" ".join(head)) <= room:
        return f"{' '.join(head)} {tail_text}"
    kept = _fit_words(head, room - 1)
    head_text = " ".join(kept) if kept else head[0][: room - 1]
    return f"{head_text}{_ELLIPSIS} {tail_text}"


def file_label(file: MediaFile) -> str:
    """``Dune 2021 1080p WEB-DL.mkv · 2.1 GB`` (a long name loses words from the middle of its title)."""
    name = _shorten(display_name(file), LABEL_NAME_CHARS)
    size = human_size(file.size)
    return f"{name} · {size}" if size else name


def shown_query(text: str) -> str:
    """The user's text as we quote it back: one line, cut, control characters dropped."""
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    return _cut(" ".join(clean.split()), SHOWN_QUERY_CHARS)


def page_text(page: SearchPage) -> str | None:
    """``page 2/24`` (``page 2/100+`` past the result cap); ``None`` when everything fits on one page."""
    pages = max(1, math.ceil(page.total / page.limit)) if page.limit else 1
    if pages <= 1 and page.next is None:
        return None
    return f"page {page.offset // page.limit + 1}/{pages:,}{'+' if page.capped else ''}"


def summary_text(text: str, page: SearchPage) -> str:
    first = page.offset + 1
    last = page.offset + len(page.files)
    head = f"Results for “{shown_query(text)}”: {first}–{last} of {page.total_text}"
    if (where := page_text(page)) is not None:
        head += f" · {where}"
    lines = [head]
    if page.notice:
        lines.append(page.notice)
    if page.incomplete:
        lines.append(page.incomplete)
    return "\n".join(lines)


def nothing_text(text: str, page: SearchPage) -> str:
    if page.total and not page.files:
        return f"No more results for “{shown_query(text)}”."
    if page.incomplete:
        return f"Nothing found for “{shown_query(text)}” yet. {page.incomplete}"
    return f"Nothing found for “{shown_query(text)}”. Check the spelling, or try fewer words."


def hint_text(min_length: int) -> str:
    return (f"Type at least {min_length} letters of a film or series title to search, "
            "e.g. “dune 2021” or “the office s02e05”.")
