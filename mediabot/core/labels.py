"""Text built from a file name or caption, made safe to show: :func:`safe_text`.

A file name is chosen by whoever uploaded the file. Invisible characters in
it can make a label lie about the file: U+202E (right-to-left override)
turns ``film\\u202Evkm.exe`` into what reads as ``filmexe.mkv``; a newline
or a NUL breaks a button or a caption into lines the bot did not write.
Every label and caption the bot builds from a catalogue file goes through
:func:`safe_text` first.

What goes: Unicode control characters (category ``Cc``: NUL, ESC, DEL...),
format characters (``Cf``: the bidi embeddings, overrides and isolates
U+202A–U+202E and U+2066–U+2069, the marks U+200E/U+200F, zero-width
characters, soft hyphens), surrogates left over from bad decoding (``Cs``)
and line/paragraph separators (``Zl``, ``Zp``). Telegram lays out
right-to-left text by itself; no label needs these to read correctly.
Emoji sequences joined by U+200D are shown as their parts.
"""

from __future__ import annotations

import unicodedata

__all__ = ["safe_text"]

_DROPPED = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Characters of the dropped categories that separate words: a space (or, with lines, a line break).
_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
_SPACES = frozenset("\t")


def safe_text(text: str | None, *, lines: bool = False) -> str:
    """``text`` without control, format (bidi) and separator characters, whitespace collapsed.

    :param lines: keep line breaks (a post's caption): each line is cleaned
        and trimmed, runs of blank lines become one. Without it (a button, a
        file name) every line break becomes a space: the result is one line.
    :return: the cleaned text (``""`` for ``None``).
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n")
    out: list[str] = []
    for ch in text:
        if ch in _BREAKS:
            out.append("\n" if lines else " ")
        elif ch in _SPACES:
            out.append(" ")
        elif unicodedata.category(ch) not in _DROPPED:
            out.append(ch)
    cleaned = "".join(out)
    if not lines:
        return " ".join(cleaned.split())
    kept: list[str] = []
    for line in cleaned.split("\n"):
        line = " ".join(line.split())
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip("\n")
