"""What a result list looks like: the text above it and the labels on its buttons."""

from __future__ import annotations

from mediabot import MediaFile, human_size
from mediabot_search.service import SearchPage

__all__ = ["file_label", "hint_text", "nothing_text", "shown_query", "summary_text"]

LABEL_NAME_CHARS = 48
SHOWN_QUERY_CHARS = 60


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def file_label(file: MediaFile) -> str:
    """``Dune.2021.1080p.WEB-DL.mkv · 2.1 GB`` (long names cut)."""
    name = _cut(file.file_name or file.caption or "file", LABEL_NAME_CHARS)
    size = human_size(file.size)
    return f"{name} · {size}" if size else name


def shown_query(text: str) -> str:
    """The user's text as we quote it back: one line, cut, control characters dropped."""
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    return _cut(" ".join(clean.split()), SHOWN_QUERY_CHARS)


def summary_text(text: str, page: SearchPage) -> str:
    first = page.offset + 1
    last = page.offset + len(page.files)
    lines = [f"Results for “{shown_query(text)}”: {first}–{last} of {page.total_text}"]
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
