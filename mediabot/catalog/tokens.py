"""Search tokens and release information from file names and captions.

One normalisation for both sides of a search: the catalogue stores the
tokens of every file, a query is tokenized the same way, and a match is an
index lookup on exact tokens (never a regular expression built from user
text). So this module decides what "the same word" means:

* case is folded (``casefold``, so ``Straße`` and ``STRASSE`` agree) and
  accents are removed (``Amélie`` == ``amelie``);
* anything that is not a letter or a digit separates words: ``.``, ``_``,
  ``-``, brackets, spaces, punctuation;
* episode markers are canonical: ``S01E02``, ``s1e2`` and ``1x02`` all give
  ``s01e02`` (plus ``s01`` for "the whole season"); resolutions too:
  ``4K``/``UHD`` give ``2160p``, ``1080P`` gives ``1080p``.

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
_RESOLUTION = re.compile(r"^(\d{3,4})[pi]$")
_RESOLUTION_ALIASES = {"4k": "2160p", "uhd": "2160p", "8k": "4320p", "fhd": "1080p"}
_YEAR = re.compile(r"^(19|20)\d\d$")
# Heights people actually label releases with; "1080" alone is not a resolution.
_KNOWN_HEIGHTS = {"240", "360", "480", "540", "576", "720", "1080", "1440", "2160", "4320"}
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


def _words(normalized: str) -> list[str]:
    """Runs of letters, digits and (spacing) marks; everything else separates words."""
    if normalized.isascii():
        return _ASCII_WORD.findall(normalized)
    words: list[str] = []
    current: list[str] = []
    for ch in normalized:
        # Marks count as part of a word: Indic vowel signs, for instance, are marks.
        if ch.isalnum() or unicodedata.category(ch)[0] == "M":
            current.append(ch)
        elif current:
            words.append("".join(current))
            current.clear()
    if current:
        words.append("".join(current))
    return words


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
    for word in _words(normalize(text)):
        for token in _canonical(word):
            out.setdefault(token, None)
    return list(out)


def search_tokens(*texts: str | None) -> list[str]:
    """Tokens of several texts (file name, caption, title...) merged, in order, without repeats."""
    out: dict[str, None] = {}
    for text in texts:
        for token in tokenize(text):
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
            if m and season is None:
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
