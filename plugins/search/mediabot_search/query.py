"""From what a user typed to a tantivy query, through tokens only.

User text never reaches a query parser: it is cut to a bounded length,
read by the catalogue's release parser (``mediabot.read_release``, the one
that reads file names when they are indexed), sorted into kinds of words,
and every query is built from their tokens with term, fuzzy and prefix
queries. Quotes, colons, brackets, ``*`` or ``~`` are separators
like any other, never syntax.

Per word (:func:`word_query`): an exact match in the title scores BM25; an
exact match anywhere, a fuzzy match within the typo budget and a prefix
match (the last word, still being typed) score constants, in that order. A
file that matches a word exactly also matches it fuzzily and as a prefix, so
it always scores above one that only matches approximately.
"""

from __future__ import annotations

import re

import msgspec
import tantivy

from mediabot import Reading, parse_release, read_release
from mediabot_search import schema as f
from mediabot_search.schema import STOP_WORDS

__all__ = ["MAX_QUERY_CHARS", "MAX_QUERY_TOKENS", "ParsedQuery", "SearchFilters", "build_query", "parse_query",
           "typo_budget"]

MAX_QUERY_CHARS = 256
MAX_QUERY_TOKENS = 12
# A range names every season or episode in it ("s01e01-e99"); a query requires
# at most this many of them (each is one term clause).
MAX_EPISODE_TOKENS = 30
# Longer tokens are cut: a Levenshtein automaton grows with the word, and no
# title word is this long.
MAX_TOKEN_CHARS = 40

# Weights. A word found exactly in the title scores BM25 (a few points for a
# rare word, more in a short title); found exactly anywhere, with a typo, or
# as a prefix it scores a constant, exact > fuzzy > prefix. A file that has
# the word exactly also matches it fuzzily and as a prefix, so it always
# collects more than one that only has it approximately. Constants do not
# depend on the name's length: copies of one title (same title, other tags)
# score alike, and popularity then orders them.
TITLE_BOOST = 1.0
EXACT_SCORE = 1.5
FUZZY_SCORE = 1.0
PREFIX_SCORE = 0.6
FUZZY_PREFIX_SCORE = 0.3
STOP_WORD_SCORE = 0.3
MARKER_SCORE = 0.5


# "s03e1" at the end of what is being typed: on its way to s03e10...s03e19 (or s03e1 itself).
_TYPED_EPISODE = re.compile(r"s(\d{1,3})e(\d)$")


class SearchFilters(msgspec.Struct, frozen=True, kw_only=True):
    """Restrictions on the files a search returns (all optional, all must hold).

    :param kind: media kind (``video``, ``document``, ``audio``...).
    :param season: season number.
    :param episode: episode number.
    :param resolution: canonical resolution token (``1080p``).
    :param year: release year.
    """

    kind: str | None = None
    season: int | None = None
    episode: int | None = None
    resolution: str | None = None
    year: int | None = None


class ParsedQuery(msgspec.Struct, frozen=True, kw_only=True):
    """What a query text was read as.

    :param words: title words: each must match (exactly, with a typo, or as a prefix).
    :param optional: stop words: counted when present, never required.
    :param prefix: the word matched as a prefix too (the last one typed), if any.
    :param episode_tokens: ``s02e05`` / ``s02`` tokens from the text: required, never relaxed.
    :param episode_prefix: an episode marker still being typed (``s03e1`` -> ``s03e1``: ``s03e01``
        or ``s03e1x``), matched as a prefix as well as exactly.
    :param resolution_words: resolution tokens from the text (``1080p``): dropped first when nothing matches.
    :param year_words: year tokens from the text (``2019``): dropped next.
    :param filters: the filters given plus those read from the text.
    :param languages: language codes named in the text (``hindi`` -> ``hi``), read as in a file name;
        the words themselves are still matched as title words.
    :param truncated: the text or its words were cut to the query limits.
    """

    words: list[str] = []
    optional: list[str] = []
    prefix: str | None = None
    episode_tokens: list[str] = []
    episode_prefix: str | None = None
    resolution_words: list[str] = []
    year_words: list[str] = []
    filters: SearchFilters = SearchFilters()
    languages: list[str] = []
    truncated: bool = False

    @property
    def empty(self) -> bool:
        return not (self.words or self.optional or self.episode_tokens or self.resolution_words
                    or self.year_words)


def typo_budget(word: str) -> int:
    """Edits a word may have: none up to 3 letters, 1 for 4-7, 2 from 8; none in numbers and codes."""
    if not word.isalpha():
        return 0
    if len(word) >= 8:
        return 2
    return 1 if len(word) >= 4 else 0


def _cut(reading: Reading) -> Reading:
    return msgspec.structs.replace(reading, words=tuple(w[:MAX_TOKEN_CHARS] for w in reading.words),
                                   tokens=tuple(t[:MAX_TOKEN_CHARS] for t in reading.tokens))


def parse_query(text: str, filters: SearchFilters | None = None) -> ParsedQuery:
    """Read a query text: title words, stop words, and the filters written in it.

    Markers are read exactly as in a file name (``mediabot.read_release``):
    ``s02e05``, ``2x05``, ``S2 E5``, ``season 2 episode 5``; ``season 2``;
    ``ep5``/``episode 5``; ``1080p``/``1080i``/``4k``; a year.
    """
    filters = filters or SearchFilters()
    truncated = len(text) > MAX_QUERY_CHARS
    text = text[:MAX_QUERY_CHARS]
    readings = read_release(text)
    if len(readings) > MAX_QUERY_TOKENS:
        readings, truncated = readings[:MAX_QUERY_TOKENS], True
    readings = [_cut(r) for r in readings]
    # Facets as the catalogue reads them from a file name: the same text gives the same facets.
    release = parse_release(text)
    # A word still being typed ends the text; a trailing space or dot means it is finished.
    typing = bool(text) and text[-1].isalnum()

    season = release.season if release.season is not None else filters.season
    episode = release.episode if release.episode is not None else filters.episode
    words: list[str] = []
    optional: list[str] = []
    episode_tokens: list[str] = []
    resolutions: list[str] = []
    years: list[str] = []
    seen: set[str] = set()
    last_kind = last = ""
    for reading in readings:
        kind = reading.kind
        tokens = [t for t in (reading.markers if kind == "episode" else reading.tokens) if t not in seen]
        seen.update(tokens)
        if kind == "episode":
            room = MAX_EPISODE_TOKENS - len(episode_tokens)
            truncated = truncated or len(tokens) > room
            episode_tokens.extend(tokens[:max(0, room)])
        elif kind == "resolution":
            resolutions.extend(tokens)
        elif kind == "year":
            years.extend(tokens)
        elif tokens:
            # Tags (source, codec, language...) are words a file must have, like a title word.
            for token in tokens:
                (optional if token in STOP_WORDS else words).append(token)
            kind = "stop" if tokens[-1] in STOP_WORDS else "word"
        else:
            continue  # a repeated word: already counted
        last_kind, last = kind, (tokens[-1] if tokens else last)

    episode_prefix = None
    if typing and last_kind == "episode" and (m := _TYPED_EPISODE.search(text.lower())):
        # "s03e0" is on its way to "s03e01": match the episodes it can still become.
        episode_prefix = f"s{int(m.group(1)):02d}e{m.group(2)}"
        if episode_tokens and episode_tokens[-1].startswith(episode_prefix[:4]) and "e" in episode_tokens[-1][1:]:
            episode = None if m.group(2) == "0" else episode
    if not words and optional and not (episode_tokens or resolutions or years):
        # A query of stop words only ("The Who" without "who" is not a thing, but
        # "it", "up", "a" ... as a whole title are): they are the title.
        words, optional = optional, []
        last_kind = "word"
    # A lone digit is a finished number ("toy story 3"), not the start of "2160p".
    prefix = last if typing and last_kind == "word" and words and words[-1] == last and (
        last[0].isalpha() or len(last) >= 3) else None
    return ParsedQuery(
        words=words, optional=optional, prefix=prefix, episode_tokens=episode_tokens, episode_prefix=episode_prefix,
        resolution_words=resolutions, year_words=years, truncated=truncated, languages=list(release.languages),
        filters=SearchFilters(kind=filters.kind, season=season, episode=episode,
                              resolution=filters.resolution or release.resolution,
                              year=filters.year or release.year),
    )


def word_query(schema: tantivy.Schema, word: str, *, prefix: bool) -> tantivy.Query:
    """One title word, matched exactly, with a typo, or (``prefix``) as the start of a word."""
    q = tantivy.Query
    clauses = [
        (tantivy.Occur.Should, q.boost_query(q.term_query(schema, f.NAME, word), TITLE_BOOST)),
        (tantivy.Occur.Should, q.const_score_query(q.term_query(schema, f.WORDS, word), EXACT_SCORE)),
    ]
    budget = typo_budget(word)
    # Approximate hits count once anywhere and once more in the title: a
    # prefix of the title ranks above a prefix of a group tag ("gal": Galaxy, not GalaxyRG).
    for field in (f.WORDS, f.NAME):
        if budget:
            fuzzy = q.fuzzy_term_query(schema, field, word, distance=budget, transposition_cost_one=True)
            clauses.append((tantivy.Occur.Should, q.const_score_query(fuzzy, FUZZY_SCORE)))
        if prefix:
            started = q.fuzzy_term_query(schema, field, word, distance=0, prefix=True)
            clauses.append((tantivy.Occur.Should, q.const_score_query(started, PREFIX_SCORE)))
    if prefix and budget:
        # Half a word with a typo in it: "interstl".
        sloppy = q.fuzzy_term_query(schema, f.WORDS, word, distance=1, transposition_cost_one=True, prefix=True)
        clauses.append((tantivy.Occur.Should, q.const_score_query(sloppy, FUZZY_PREFIX_SCORE)))
    return q.boolean_query(clauses)


def _filter_clauses(schema: tantivy.Schema, filters: SearchFilters) -> list[tuple[tantivy.Occur, tantivy.Query]]:
    """Fast-field filters, scored zero: they select, they do not rank."""
    q = tantivy.Query
    terms: list[tuple[str, object]] = []
    if filters.kind:
        terms.append((f.KIND, filters.kind))
    if filters.resolution:
        terms.append((f.RESOLUTION, filters.resolution))
    for field, value in ((f.SEASON, filters.season), (f.EPISODE, filters.episode), (f.YEAR, filters.year)):
        if value is not None:
            terms.append((field, int(value)))
    return [(tantivy.Occur.Must, q.const_score_query(q.term_query(schema, field, value), 0.0))
            for field, value in terms]


def build_query(schema: tantivy.Schema, parsed: ParsedQuery, explicit: SearchFilters, *,
                optional_tokens: frozenset[str] = frozenset(), all_but_one: bool = False) -> tantivy.Query:
    """The tantivy query for ``parsed``, relaxed as asked.

    :param explicit: filters chosen outside the text (buttons, inline options): always required.
    :param optional_tokens: resolution / year words made optional (they still rank).
    :param all_but_one: every title word but one must match.
    """
    q = tantivy.Query
    clauses: list[tuple[tantivy.Occur, tantivy.Query]] = _filter_clauses(schema, explicit)
    for token in parsed.episode_tokens:
        marker = q.term_query(schema, f.WORDS, token)
        if parsed.episode_prefix and token == parsed.episode_tokens[-1]:
            started = q.fuzzy_term_query(schema, f.WORDS, parsed.episode_prefix, distance=0, prefix=True)
            marker = q.boolean_query([(tantivy.Occur.Should, marker), (tantivy.Occur.Should, started)])
        clauses.append((tantivy.Occur.Must, q.const_score_query(marker, MARKER_SCORE)))
    if parsed.filters.episode is not None and explicit.episode is None and not any(
            "e" in t[1:] for t in parsed.episode_tokens):
        # "episode 5" without a season: the episode number is all there is to match.
        clauses.append((tantivy.Occur.Must, q.const_score_query(
            q.term_query(schema, f.EPISODE, parsed.filters.episode), 0.0)))
    for token in parsed.resolution_words + parsed.year_words:
        occur = tantivy.Occur.Should if token in optional_tokens else tantivy.Occur.Must
        clauses.append((occur, q.const_score_query(q.term_query(schema, f.WORDS, token), MARKER_SCORE)))
    for token in parsed.optional:
        stop_word = q.const_score_query(q.term_query(schema, f.WORDS, token), STOP_WORD_SCORE)
        clauses.append((tantivy.Occur.Should, stop_word))
    word_queries = [word_query(schema, w, prefix=w == parsed.prefix) for w in parsed.words]
    if all_but_one and len(word_queries) >= 2:
        clauses.append((tantivy.Occur.Must, q.boolean_query(
            [(tantivy.Occur.Should, wq) for wq in word_queries],
            minimum_number_should_match=len(word_queries) - 1)))
    else:
        clauses.extend((tantivy.Occur.Must, wq) for wq in word_queries)
    if not any(occur == tantivy.Occur.Must for occur, _ in clauses):
        # Only optional clauses left (all words relaxed away): match nothing
        # rather than everything that shares a stop word.
        return q.empty_query()
    return q.boolean_query(clauses)
