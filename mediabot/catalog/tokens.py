"""Search tokens and release information from file names and captions.

One normalisation for both sides of a search: the catalogue stores the
tokens of every file, a query is tokenized the same way, and a match is an
index lookup on exact tokens (never a regular expression built from user
text). So this module decides what "the same word" means:

* case is folded (``casefold``, so ``Straße`` and ``STRASSE`` agree) and
  accents are removed (``Amélie`` == ``amelie``);
* anything that is not a letter or a digit separates words: ``.``, ``_``,
  ``-``, brackets, spaces, punctuation;
* markers are read by the release parser (:mod:`mediabot.catalog.releases`),
  the one search also reads queries with, and are canonical: ``S01E02``,
  ``s1e2``, ``1x02``, ``S01 E02`` and ``Season 1 Episode 2`` all give
  ``s01e02`` (plus ``s01`` for "the whole season"; ``Season 1`` gives ``s01``);
  a range gives every season or episode in it (``S01-S03``: ``s01`` ``s02``
  ``s03``); resolutions too: ``4K``/``UHD`` give ``2160p``, ``1080P`` and
  ``1080i`` give ``1080p``;
* a dotted acronym is also indexed as one word: :func:`search_tokens` of
  ``S.H.I.E.L.D.`` gives ``s`` ... ``d`` and ``shield``, so a query typed
  either way meets the name (:func:`tokenize` keeps only the letters: a
  query's dots are separators like any other); so is a word split by an
  apostrophe (``Ocean's`` also gives ``oceans``);
* scripts written without spaces (Chinese, Japanese kana) have no words to
  split on, so a run of them becomes its overlapping character pairs
  (``千と千尋`` -> ``千と``, ``と千``, ``千尋``): a query typed as any part of a
  title then shares all of its pairs with the name.

:func:`parse_release` gives the season, episode, resolution and year of a
file name and caption, which the catalogue keeps as fields for filtering
and display.
"""

from __future__ import annotations

import msgspec

from mediabot.catalog.releases import parse_release as read_texts
from mediabot.catalog.releases import read_release
from mediabot.catalog.words import normalize

__all__ = ["ReleaseInfo", "normalize", "parse_release", "search_tokens", "tokenize"]

class ReleaseInfo(msgspec.Struct, frozen=True, kw_only=True):
    """The release details the catalogue keeps as fields of a file (for filtering and display).

    :param season: season number (``S02E05`` -> 2).
    :param episode: episode number (``S02E05`` -> 5).
    :param resolution: canonical resolution token, e.g. ``1080p``, ``2160p``.
    :param year: a plausible release year (1900-2099), the last one named.
    """

    season: int | None = None
    episode: int | None = None
    resolution: str | None = None
    year: int | None = None


def tokenize(text: str | None) -> list[str]:
    """Words of ``text``, normalised and canonical, in order, without repeats.

    The tokens of :func:`mediabot.catalog.releases.read_release`'s readings: the same
    reading a query gets, so a query's markers are tokens of the file.

    >>> tokenize("The.Office.S01E02.720P.WEB-DL [Amélie]")
    ['the', 'office', 's01e02', 's01', '720p', 'web', 'dl', 'amelie']
    """
    return list(dict.fromkeys(token for reading in read_release(text) for token in reading.tokens))


def search_tokens(*texts: str | None) -> list[str]:
    """Tokens of several texts (file name, caption, title...) merged, in order, without repeats.

    This is the index side: each text's dotted acronyms, and words split by
    an apostrophe, are also added joined (``ocean's`` gives ``ocean``, ``s``
    and ``oceans``). The same as ``parse_release(*texts).tokens``.

    >>> search_tokens("Agents.of.S.H.I.E.L.D.S01")
    ['agents', 'of', 's', 'h', 'i', 'e', 'l', 'd', 's01', 'shield']
    """
    return list(read_texts(*texts).tokens)


def parse_release(*texts: str | None) -> ReleaseInfo:
    """Season, episode, resolution and year named in the texts (file name, caption: the first text wins a tie).

    What :func:`mediabot.catalog.releases.parse_release` reads, as the catalogue keeps it.
    """
    release = read_texts(*texts)
    return ReleaseInfo(season=release.season, episode=release.episode, resolution=release.resolution,
                       year=release.year)
