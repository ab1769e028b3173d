"""Words as filters compare them: search's tokens, in order, with repeats (so a phrase is a run of words).

A message and a keyword are cut the same way: runs of letters and digits
(anything else separates words), each folded by :func:`mediabot.tokenize`
(case, accents, ``S01E02``/``4K`` spellings), so ``Amélie`` matches
``amelie``. Nothing typed by a user ever becomes a pattern.
"""

from __future__ import annotations

import re

from mediabot import tokenize

__all__ = ["key_of", "words"]

# A fixed pattern (never built from user text): letters and digits, underscores excluded.
_WORD = re.compile(r"[^\W_]+")


def words(text: str | None) -> list[str]:
    """The folded words of ``text``, in order; a word search spells several ways counts as each of them."""
    if not text:
        return []
    out: list[str] = []
    for raw in _WORD.findall(text):
        out.extend(tokenize(raw))
    return out


def key_of(keyword: str) -> str:
    """The identity of a keyword: its words joined by spaces (``""`` when it has none)."""
    return " ".join(words(keyword))
