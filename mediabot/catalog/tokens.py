"""Search tokens and release information from file names and captions.

One normalisation for both sides of a search: the catalogue stores the
tokens of every file, a query is tokenized the same way, and a match is an
index lookup on exact tokens (never a regular expression built from user
text). So this module decides what "the same word" means:

* case is folded (``casefold``, so ``Straße`` and ``STRASSE`` agree) and
  accents are removed (``Amélie`` == ``amelie``);
* anything that is not a letter or a digit separates words: ``.``, ``_``,
  ``-``, brackets, spaces, punctuation;
* episode markers are canonical: ``S01E02``, ``s1e2``, ``1x02`` and
  ``S01 E02`` all give ``s01e02`` (plus ``s01`` for "the whole season"); resolutions too:
  ``4K``/``UHD`` give ``2160p``, ``1080P`` gives ``1080p``;
* a dotted acronym is also indexed as one word: :func:`search_tokens` of
  ``S.H.I.E.L.D.`` gives ``s`` ... ``d`` and ``shield``, so a query typed
  either way meets the name (:func:`tokenize` keeps only the letters: a
  query's dots are separators like any other); so is a word split by an
  apostrophe (``Ocean's`` also gives ``oceans``);
* scripts written without spaces (Chinese, Japanese kana) have no words to
  split on, so a run of them becomes its overlapping character pairs
  (``千と千尋`` -> ``千と``, ``と千``, ``千尋``): a query typed as any part of a
  title then shares all of its pairs with the name.

:func:`parse_release` reads season, episode, resolution and year, which the
catalogue keeps as fields for filtering and display.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import msgspec

__all__ = ["ReleaseInfo", "normalize", "parse_release", "search_tokens", "tokenize"]

_ASCII_WORD = re.compile(r"[a-z0-9]+")
_SEASON_EPISODE = re.compile(r"^s(\d{1,3})e(\d{1,4})$")
_CROSS_EPISODE = re.compile(r"^(\d{1,2})x(\d{1,3})$")
_SEASON_ONLY = re.compile(r"^s(\d{1,3})$")
_EPISODE_ONLY = re.compile(r"^e(\d{1,4})$")
_RESOLUTION = re.compile(r"^(\d{3,4})[pi]$")
_RESOLUTION_ALIASES = {"4k": "2160p", "uhd": "2160p", "8k": "4320p", "fhd": "1080p"}
_YEAR = re.compile(r"^(19|20)\d\d$")
# Heights people actually label releases with; "1080" alone is not a resolution.
_KNOWN_HEIGHTS = {"240", "360", "480", "540", "576", "720", "1080", "1440", "2160", "4320"}
# Scripts written without spaces: Han ideographs (with the iteration mark 々),
# hiragana and katakana (halfwidth katakana is folded to these by NFKD).
_NO_SPACE_RANGES = ((0x3005, 0x3007), (0x3040, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
                    (0xF900, 0xFAFF), (0x20000, 0x2FFFF))
# A dotted acronym: single letters joined by dots ("s.h.i.e.l.d"), or by
# underscores where a release name uses them for dots, not inside a longer word.
_DOTTED_ACRONYM = re.compile(r"(?<![^\W_])[^\W\d_](?:([._])[^\W\d_](?:\1[^\W\d_])*)(?![^\W_])")
# An apostrophe inside a word: "ocean's" is also indexed as "oceans".
_APOSTROPHE_WORD = re.compile(r"(?<![^\W_])[^\W_]+(?:['\u2019][^\W_]+)+")
# Letters that do not decompose under NFKD but have an obvious ASCII spelling.
_FOLD_EXTRA = str.maketrans({"ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ı": "i", "þ": "th", "æ": "ae",
                             "œ": "oe"})


class ReleaseInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What a release name says besides its title.

    :param season: season number (``S02E05`` -> 2).
    :param episode: episode number (``S02E05`` -> 5).
    :param resolution: canonical resolution token, e.g. ``1080p``, ``2160p``.
    :param year: a plausible release year (1900-2099), the last one named.
    """

    season: int | None = None
    episode: int | None = None
    resolution: str | None = None
    year: int | None = None


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


def _is_no_space_script(ch: str) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in _NO_SPACE_RANGES)


def _words(normalized: str) -> list[str]:
    """Runs of letters, digits and (spacing) marks; everything else separates words.

    A run in a script without spaces is its own word (``abc千尋`` is ``abc`` and
    ``千尋``) and is split into overlapping character pairs.
    """
    if normalized.isascii():
        return _ASCII_WORD.findall(normalized)
    words: list[str] = []
    current: list[str] = []
    current_no_space = False

    def flush() -> None:
        if not current:
            return
        if current_no_space and len(current) > 2:
            words.extend(current[i] + current[i + 1] for i in range(len(current) - 1))
        else:
            words.append("".join(current))
        current.clear()

    for ch in normalized:
        # Marks count as part of a word: Indic vowel signs, for instance, are marks.
        if ch.isalnum() or unicodedata.category(ch)[0] == "M":
            no_space = _is_no_space_script(ch)
            if current and no_space != current_no_space:
                flush()
            current_no_space = no_space
            current.append(ch)
        else:
            flush()
    flush()
    return words


def _dotted_acronyms(normalized: str) -> list[str]:
    """``s.h.i.e.l.d`` -> ``shield``: the letters of each dotted acronym, joined."""
    if "." not in normalized and "_" not in normalized:
        return []
    joined = (m.group().replace(m.group(1), "") for m in _DOTTED_ACRONYM.finditer(normalized))
    return [word for word in joined if not any(_is_no_space_script(ch) for ch in word)]


def _apostrophe_words(normalized: str) -> list[str]:
    """``ocean's`` -> ``oceans``: words split by an apostrophe, joined (people type both)."""
    if "'" not in normalized and "\u2019" not in normalized:
        return []
    return [re.sub("['\u2019]", "", m.group()) for m in _APOSTROPHE_WORD.finditer(normalized)]


def _canonical(word: str) -> tuple[str, ...]:
    """The token(s) one raw word stands for."""
    m = _SEASON_EPISODE.match(word) or _CROSS_EPISODE.match(word)
    if m:
        season, episode = int(m.group(1)), int(m.group(2))
        return f"s{season:02d}e{episode:02d}", f"s{season:02d}"
    m = _SEASON_ONLY.match(word)
    if m:
        return (f"s{int(m.group(1)):02d}",)
    if word in _RESOLUTION_ALIASES:
        return (_RESOLUTION_ALIASES[word],)
    m = _RESOLUTION.match(word)
    if m and str(int(m.group(1))) in _KNOWN_HEIGHTS:
        return (f"{int(m.group(1))}p",)
    return (word,)


def tokenize(text: str | None) -> list[str]:
    """Words of ``text``, normalised and canonical, in order, without repeats.

    >>> tokenize("The.Office.S01E02.720P.WEB-DL [Amélie]")
    ['the', 'office', 's01e02', 's01', '720p', 'web', 'dl', 'amelie']
    """
    if not text:
        return []
    out: dict[str, None] = {}
    season: str | None = None  # "01" right after a season marker: "S01 E03" is s01e03
    for word in _words(normalize(text)):
        if season is not None and (m := _EPISODE_ONLY.match(word)):
            word = f"s{season}e{m.group(1)}"
        tokens = _canonical(word)
        m = _SEASON_EPISODE.match(tokens[0]) or _SEASON_ONLY.match(tokens[0])
        season = m.group(1) if m else None
        for token in tokens:
            out.setdefault(token, None)
    return list(out)


def search_tokens(*texts: str | None) -> list[str]:
    """Tokens of several texts (file name, caption, title...) merged, in order, without repeats.

    This is the index side: each text's dotted acronyms, and words split by
    an apostrophe, are also added joined (``ocean's`` gives ``ocean``, ``s``
    and ``oceans``).

    >>> search_tokens("Agents.of.S.H.I.E.L.D.S01")
    ['agents', 'of', 's', 'h', 'i', 'e', 'l', 'd', 's01', 'shield']
    """
    out: dict[str, None] = {}
    for text in texts:
        for token in tokenize(text):
            out.setdefault(token, None)
        if text:
            normalized = normalize(text)
            for word in _dotted_acronyms(normalized) + _apostrophe_words(normalized):
                for token in _canonical(word):
                    out.setdefault(token, None)
    return list(out)


def parse_release(*texts: str | None) -> ReleaseInfo:
    """Season, episode, resolution and year named in the texts (the first text wins a tie)."""
    season = episode = year = None
    resolution = None
    for text in texts:
        tokens = tokenize(text)
        for token in tokens:
            m = _SEASON_EPISODE.match(token)
            if m and (season is None or (season == int(m.group(1)) and episode is None)):
                season, episode = int(m.group(1)), int(m.group(2))
            elif (m := _SEASON_ONLY.match(token)) and season is None:
                season = int(m.group(1))
            elif resolution is None and _RESOLUTION.match(token):
                resolution = token
        if year is None:
            year = _last_year(tokens)
    return ReleaseInfo(season=season, episode=episode, resolution=resolution, year=year)


def _last_year(tokens: Iterable[str]) -> int | None:
    # "2001.A.Space.Odyssey.1968": the last year-like word is the release year;
    # a title that is only a year ("1917") is still its own year.
    years = [int(t) for t in tokens if _YEAR.match(t)]
    return years[-1] if years else None
