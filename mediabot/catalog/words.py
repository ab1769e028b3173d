"""Words of a text: the normalisation every side of a search shares.

Case is folded (``casefold``) and accents removed; anything that is not a
letter or a digit separates words; scripts written without spaces become
overlapping character pairs. :func:`scan` keeps, for each word, the
separator before it and whether it stands in brackets: the release parser
(:mod:`mediabot.catalog.releases`) reads ranges (``S01-S03``) and bracketed
tags (``[Hin-Eng]``) from them.
"""

from __future__ import annotations

import re
import unicodedata

import msgspec

__all__ = ["Word", "is_no_space_script", "joined_words", "normalize", "scan", "scan_normalized"]

# Letters that do not decompose under NFKD but have an obvious ASCII spelling.
_FOLD_EXTRA = str.maketrans({"ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ı": "i", "þ": "th", "æ": "ae",
                             "œ": "oe"})
# Scripts written without spaces: Han ideographs (with the iteration mark 々),
# hiragana and katakana (halfwidth katakana is folded to these by NFKD).
_NO_SPACE_RANGES = ((0x3005, 0x3007), (0x3040, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
                    (0xF900, 0xFAFF), (0x20000, 0x2FFFF))
# A dotted acronym: single letters joined by dots ("s.h.i.e.l.d"), or by
# underscores where a release name uses them for dots, not inside a longer word.
_DOTTED_ACRONYM = re.compile(r"(?<![^\W_])[^\W\d_](?:([._])[^\W\d_](?:\1[^\W\d_])*)(?![^\W_])")
# An apostrophe inside a word: "ocean's" is also indexed as "oceans".
_APOSTROPHE_WORD = re.compile(r"(?<![^\W_])[^\W_]+(?:['\u2019][^\W_]+)+")
_APOSTROPHE = re.compile("['\u2019]")
_ASCII_SPLIT = re.compile(r"([a-z0-9]+)")
_OPEN, _CLOSE = "[({", "])}"
_BRACKET = re.compile(r"[\[\](){}]")
# A separator is kept only this long: enough to see "-", "." or "+" before a word.
_SEP_CHARS = 8
class Word(msgspec.Struct, frozen=True):
    """One normalised word of a text.

    :param text: the word (``web``).
    :param sep: the separator just before it, at most a few characters (``-``, ``.``, ``] [``).
    :param bracketed: it stands inside ``()``, ``[]`` or ``{}``.
    """

    text: str
    sep: str = ""
    bracketed: bool = False


def normalize(text: str) -> str:
    """Case-folded text without accents (nonspacing marks removed after NFKD)."""
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in folded if unicodedata.category(ch) != "Mn")
    # Again: compatibility forms can decompose to capitals or to new accents.
    stripped = stripped.translate(_FOLD_EXTRA).casefold()
    if stripped.isascii():
        return stripped
    return "".join(ch for ch in unicodedata.normalize("NFKD", stripped) if unicodedata.category(ch) != "Mn")


def is_no_space_script(ch: str) -> bool:
    """A character of a script written without spaces between words."""
    code = ord(ch)
    return any(low <= code <= high for low, high in _NO_SPACE_RANGES)


def joined_words(normalized: str) -> list[str]:
    """Words also indexed joined: dotted acronyms (``s.h.i.e.l.d`` -> ``shield``) and words split by an
    apostrophe (``ocean's`` -> ``oceans``), as people type both."""
    out: list[str] = []
    if "." in normalized or "_" in normalized:
        joined = (m.group().replace(m.group(1), "") for m in _DOTTED_ACRONYM.finditer(normalized))
        out.extend(word for word in joined if not any(is_no_space_script(ch) for ch in word))
    if "'" in normalized or "\u2019" in normalized:
        out.extend(_APOSTROPHE.sub("", m.group()) for m in _APOSTROPHE_WORD.finditer(normalized))
    return out


def _depth(depth: int, sep: str) -> int:
    for ch in sep:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
    return depth


def scan(text: str | None) -> list[Word]:
    """The words of ``text``, normalised, each with the separator before it.

    Runs of letters, digits and (spacing) marks are words; everything else
    separates them. A run in a script without spaces is its own word
    (``abc千尋`` is ``abc`` and ``千尋``) and, longer than two characters, is
    split into overlapping character pairs.
    """
    return scan_normalized(normalize(text)) if text else []


def scan_normalized(normalized: str) -> list[Word]:
    """:func:`scan` of a text already normalised."""
    out: list[Word] = []
    depth = 0
    if normalized.isascii():
        # Split on words (one linear pass): separator, word, separator, word, ...
        # (a pattern matching "separator, then word" would retry every position
        # of a long run of separators with no word after it: quadratic).
        parts = _ASCII_SPLIT.split(normalized)
        if not _BRACKET.search(normalized):
            return [Word(parts[k + 1], parts[k][-_SEP_CHARS:]) for k in range(0, len(parts) - 1, 2)]
        for k in range(0, len(parts) - 1, 2):
            depth = _depth(depth, parts[k])
            out.append(Word(parts[k + 1], parts[k][-_SEP_CHARS:], depth > 0))
        return out
    current: list[str] = []
    sep: list[str] = []
    current_no_space = False

    def flush() -> None:
        nonlocal depth
        if not current:
            return
        separator = "".join(sep)
        depth = _depth(depth, separator)
        if current_no_space and len(current) > 2:
            pairs = [current[i] + current[i + 1] for i in range(len(current) - 1)]
            out.extend(Word(pair, separator[-_SEP_CHARS:] if not i else "", depth > 0)
                       for i, pair in enumerate(pairs))
        else:
            out.append(Word("".join(current), separator[-_SEP_CHARS:], depth > 0))
        current.clear()
        sep.clear()

    for ch in normalized:
        # Marks count as part of a word: Indic vowel signs, for instance, are marks.
        if ch.isalnum() or unicodedata.category(ch)[0] == "M":
            no_space = is_no_space_script(ch)
            if current and no_space != current_no_space:
                flush()
            current_no_space = no_space
            current.append(ch)
        else:
            flush()
            sep.append(ch)
            # Only the end of a separator is kept; a long one stays cheap.
            if len(sep) > 4 * _SEP_CHARS:
                depth = _depth(depth, "".join(sep[:-_SEP_CHARS]))
                del sep[:-_SEP_CHARS]
    flush()
    return out
