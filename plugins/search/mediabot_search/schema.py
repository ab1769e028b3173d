"""The index layout: which fields a catalogue file becomes, and why.

The index is derived from the catalogue and rebuilt whenever this layout or
the tokenizer changes meaning: bump :data:`INDEX_VERSION` then, and every
process finds its checkpoint stale on the next start and rebuilds.

Text fields hold catalogue tokens (``mediabot.search_tokens``, ``parse_release(...).tokens``) joined by
spaces and split again on whitespace only, so tantivy's own analysis never
changes a word: a term in a query is exactly a token of the catalogue's
tokenizer, on both sides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import tantivy

from mediabot import MediaFile, parse_release, tokenize

__all__ = ["INDEX_VERSION", "STOP_WORDS", "aliases", "build_schema", "document_for", "title_tokens", "title_words"]

# Bump when a field, the tokenizer or what a document holds changes meaning.
# 2: the title field keeps word positions (the phrase boost: words in the order typed).
# 3: one release parser for index and query ("Season 2" gives s02, ranges give
# every season or episode in them, "ep5" is episode 5).
INDEX_VERSION = 3

ID = "id"
# Tokens of the title part of the file name, stop words left out (see
# title_tokens, title_words): BM25 on this
# field ranks a title made mostly of the query above one where the query is
# a small part. Release tags (resolution, codec, group, extension) and
# captions (often long, full of channel promotion) would blur that signal.
NAME = "name"
# Tokens of the name and the caption: what every query word must match.
WORDS = "words"
KIND = "kind"
RESOLUTION = "resolution"
SEASON = "season"
EPISODE = "episode"
YEAR = "year"
# How many words the title has: among equally scored files (a word matched
# only with a typo or as a prefix scores a constant, whatever the title) the
# one whose title is mostly the query comes first.
TITLE_WORDS = "title_words"
DELIVERIES = "deliveries"
INDEXED_AT = "indexed_at"


# Words that end the title of a release name when they follow it.
_RELEASE_TAGS = frozenset({
    "bluray", "bdrip", "brrip", "bdremux", "remux", "web", "webdl", "webrip", "hdtv", "hdrip", "dvdrip", "dvd",
    "dvdscr", "hdcam", "cam", "ts", "x264", "x265", "h264", "h265", "hevc", "avc", "xvid", "divx", "10bit",
    "8bit", "hdr", "hdr10", "dv", "sdr", "aac", "ac3", "eac3", "dts", "ddp5", "dd5", "atmos", "truehd", "flac",
    "mp3", "proper", "repack", "extended", "unrated", "remastered", "internal", "limited", "complete",
    "multi", "dubbed", "subbed", "nf", "amzn", "dsnp", "hmax", "atvp", "hulu",
})
_EXTENSIONS = frozenset({"mkv", "mp4", "avi", "m4v", "mov", "wmv", "webm", "ts", "m2ts", "mp3", "flac", "m4a",
                         "ogg", "opus", "wav", "zip", "rar", "7z", "pdf", "epub", "srt"})
# Articles and the like: optional in a query ("the matrix" finds "Matrix"),
# counted when present. Small on purpose: a title word must not vanish.
STOP_WORDS = frozenset({
    "a", "an", "the", "of", "and", "in", "on", "at", "to", "for", "with", "by", "from",
    "la", "le", "les", "l", "el", "los", "las", "lo", "il", "de", "del", "della", "des", "du", "d",
    "der", "die", "das", "den", "dem", "und", "et", "y", "e",
})
_ROMAN = {"ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}
_ROMAN_OF = {digit: roman for roman, digit in _ROMAN.items()}
_YEAR = re.compile(r"^(?:19|20)\d\d$")
# "@Channel ", "[Group] ", "(Tag) " before the title, however many.
_LEADING_TAGS = re.compile(r"^(?:\s*(?:@\w+|\[[^\]]*\]|\([^)]*\))[\s._-]*)+")
_INNER_APOSTROPHE = re.compile(r"(?<=\w)['\u2019](?=\w)")
_MARKER = re.compile(r"^(?:s\d{2,3}(?:e\d{2,4})?|\d{3,4}p|(?:19|20)\d\d)$")


def title_tokens(name: str | None) -> list[str]:
    """The title part of a release name: its tokens up to the first year, episode, resolution or tag.

    ``[GRP] The.Dark.Knight.2008.1080p.BluRay`` -> ``the dark knight``. Leading
    channel and group tags (``@Channel``, ``[GRP]``) are not title. A marker
    as the first word is the title itself (``1917``, ``2001 A Space
    Odyssey``), and so is a year followed by another year (``Blade Runner
    2049 2017``).
    """
    if not name:
        return []
    # "Ocean's" is "oceans" in the title: people type it without the apostrophe.
    name = _INNER_APOSTROPHE.sub("", name)
    tokens = tokenize(_LEADING_TAGS.sub("", name)) or tokenize(name)
    if tokens and tokens[-1] in _EXTENSIONS:
        tokens = tokens[:-1]
    for i, token in enumerate(tokens):
        if not i:
            continue
        if _YEAR.match(token) and i + 1 < len(tokens) and _YEAR.match(tokens[i + 1]):
            continue
        if _MARKER.match(token) or token in _RELEASE_TAGS:
            return tokens[:i]
    return tokens


def title_words(title: list[str]) -> list[str]:
    """The title without its stop words: what BM25 measures a title's length by.

    "The Matrix" and "Matrix" are then equally long; a query's "the" breaks
    the tie (it is an optional clause), instead of the article costing the
    title it belongs to.
    """
    return [t for t in title if t not in STOP_WORDS] or title


def aliases(title: list[str]) -> list[str]:
    """Other spellings of title words people type: ``II`` for ``2`` and back (``Frozen 2``)."""
    out = []
    for token in title:
        if token in _ROMAN:
            out.append(_ROMAN[token])
        elif token in _ROMAN_OF:
            out.append(_ROMAN_OF[token])
    return out


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(ID, stored=True, tokenizer_name="raw", index_option="basic")
    # Positions: a title with the query's words in the order typed ranks first (a phrase query).
    builder.add_text_field(NAME, tokenizer_name="whitespace", index_option="position")
    # Stored: the best hit's words tell what a misspelled query word was corrected to.
    builder.add_text_field(WORDS, stored=True, tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field(KIND, tokenizer_name="raw", index_option="basic")
    builder.add_text_field(RESOLUTION, tokenizer_name="raw", index_option="basic")
    for field in (SEASON, EPISODE, YEAR):
        builder.add_integer_field(field, indexed=True, fast=True)
    builder.add_integer_field(TITLE_WORDS, fast=True)
    builder.add_integer_field(DELIVERIES, fast=True)
    builder.add_integer_field(INDEXED_AT, fast=True)
    return builder.build()


def document_for(file: MediaFile, popularity: Mapping[str, int] | None = None) -> tantivy.Document:
    """The index document of one catalogue file.

    Tokens are computed again from the name and caption with the current
    tokenizer (the catalogue's stored ``tokens`` may predate a tokenizer
    improvement) and merged with the stored ones, so nothing findable before
    stops being findable. Season, episode, resolution and year likewise: the
    current parser's reading of the name (then the caption), else the stored field.
    """
    title = title_tokens(file.file_name)
    read = parse_release(file.file_name, file.caption)
    words = dict.fromkeys(read.tokens)
    words.update(dict.fromkeys(file.tokens))
    words.update(dict.fromkeys(aliases(title)))
    if popularity is not None:
        deliveries = popularity.get(file.id, 0)
    else:
        deliveries = getattr(file, "deliveries", 0) or 0
    doc = tantivy.Document()
    doc.add_text(ID, file.id)
    doc.add_text(NAME, " ".join(title_words(title)))
    doc.add_text(WORDS, " ".join(words))
    doc.add_text(KIND, file.kind)
    if read.resolution or file.resolution:
        doc.add_text(RESOLUTION, read.resolution or file.resolution or "")
    # add_integer, never Document(**kwargs): a field's column type is fixed and
    # a wrong one panics inside tantivy's indexing thread.
    for field, value in ((SEASON, read.season if read.season is not None else file.season),
                         (EPISODE, read.episode if read.episode is not None else file.episode),
                         (YEAR, read.year if read.year is not None else file.year)):
        if value is not None:
            doc.add_integer(field, int(value))
    doc.add_integer(TITLE_WORDS, len(title_words(title)))
    doc.add_integer(DELIVERIES, max(0, int(deliveries)))
    doc.add_integer(INDEXED_AT, int(file.indexed_at.timestamp() * 1000))
    return doc
