"""No input breaks a search: 10,000 generated queries, of every shape people (or attackers) send.

User text never reaches a query parser, so query syntax, regex
metacharacters, unicode, control characters and very long input are just
text. Each query must return a well-formed page, whatever it contains.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mediabot_search.engine import SearchFilters, TantivyEngine
from release_catalogue import build_catalogue

# Tantivy query syntax, regex syntax, and words that mean something to a parser.
SYNTAX = [*':"()[]{}^~*?\\+-!&|/<>=.$#@%\'`,;',
    "AND", "OR", "NOT", "TO", "*:*", "name:", "words:dune", ".*", "(?i)", "\\d+", "[a-z]+", "a{1,1000}",
    "(a+)+$", "IN [", "~2", "^10", "\"unterminated", "s01e", "s99999e99999", "1080p", "2160p", "4k", "1x",
]
WORDS = ["the", "dark", "knight", "dune", "matrix", "breaking", "bad", "s02e05", "S2", "E5", "season", "episode",
         "2019", "amélie", "千と千尋", "shield", "s.h.i.e.l.d.", "ii", "3", "a", "of", "ёлка", "😀",
         "\u200b", "\u0301"]
SETTINGS = settings(max_examples=2500, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    files, _ = build_catalogue()
    with TantivyEngine(tmp_path_factory.mktemp("fuzz")) as engine:
        engine.index(files[::4])
        engine.commit("fuzz")
        yield engine


def well_formed(result, limit: int) -> None:
    assert all(isinstance(i, str) and i for i in result.ids)
    assert len(result.ids) <= max(1, min(limit, 100))
    assert 0 <= result.total <= 1000
    assert len(set(result.ids)) == len(result.ids)


@SETTINGS
@given(text=st.text(max_size=300))
def test_any_unicode_text_is_a_harmless_query(engine, text):
    well_formed(engine.search(text), 10)


@SETTINGS
@given(parts=st.lists(st.sampled_from(SYNTAX + WORDS), max_size=20),
       separators=st.lists(st.sampled_from(["", " ", "\t", "\n", "\x00", "\x1b", "\r\n"]), min_size=1, max_size=5))
def test_query_and_regex_syntax_is_just_text(engine, parts, separators):
    text = "".join(part + separators[i % len(separators)] for i, part in enumerate(parts))
    well_formed(engine.search(text), 10)


@SETTINGS
@given(unit=st.text(min_size=1, max_size=12), times=st.integers(1, 3000))
def test_very_long_input_is_cut_not_choked_on(engine, unit, times):
    result = engine.search(unit * times)
    well_formed(result, 10)
    assert len(result.query.words) <= 12


@SETTINGS
@given(text=st.one_of(st.text(max_size=40), st.sampled_from(WORDS)),
       limit=st.integers(-5, 10_000), offset=st.integers(-5, 10_000),
       filters=st.builds(SearchFilters, kind=st.none() | st.sampled_from(["video", "audio", "document", "*", ""]),
                         season=st.none() | st.integers(-(2**63), 2**63 - 1),
                         episode=st.none() | st.integers(0, 99999),
                         resolution=st.none() | st.sampled_from(["1080p", "720p", "(", ""]),
                         year=st.none() | st.integers(-(2**63), 2**63 - 1)))
def test_any_paging_and_filters_return_a_well_formed_page(engine, text, limit, offset, filters):
    well_formed(engine.search(text, limit=limit, offset=offset, filters=filters), limit)
