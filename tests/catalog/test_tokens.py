"""Tokenizer and release parsing: what makes a query find a file."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from mediabot.catalog.tokens import parse_release, search_tokens, tokenize

SEPARATORS = "._-[]() "
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=8)


def test_a_release_name_splits_on_its_separators():
    assert tokenize("The.Office_[US]-(2005) S01E02 720P.WEB-DL.mkv") == [
        "the", "office", "us", "2005", "s01e02", "s01", "720p", "web", "dl", "mkv"]


def test_episode_markers_are_canonical_whatever_their_spelling():
    assert "s01e02" in tokenize("Show.S01E02") == tokenize("show s1e2") == tokenize("Show 1x02")


def test_resolution_aliases_meet():
    assert tokenize("4K") == tokenize("UHD") == tokenize("2160P") == ["2160p"]
    assert tokenize("1080") == ["1080"]  # a bare number is not a resolution


def test_accents_and_case_are_folded():
    assert tokenize("Amélie ÉTÉ Straße Øresund") == ["amelie", "ete", "strasse", "oresund"]


def test_release_info_is_parsed():
    info = parse_release("Dark.S03E08.Deja-vu.2160p.NF.WEB-DL.2020.mkv")
    assert (info.season, info.episode, info.resolution, info.year) == (3, 8, "2160p", 2020)
    assert parse_release("2001.A.Space.Odyssey.1968.1080p").year == 1968
    assert parse_release("1917").year == 1917
    assert parse_release("holiday photos") == parse_release()


def test_search_tokens_merge_name_and_caption_without_repeats():
    assert search_tokens("Dark.S01E01.mkv", "Dark season 1 #dark") == [
        "dark", "s01e01", "s01", "mkv", "season", "1"]


@given(st.text(max_size=60))
def test_tokens_are_normalised_words(text):
    for token in tokenize(text):
        assert token
        assert token == token.casefold()
        assert not any(ch in SEPARATORS for ch in token)
        assert not any(unicodedata.category(ch) == "Mn" for ch in token)


@given(st.text(max_size=60))
def test_tokenizing_tokens_again_changes_nothing(text):
    tokens = tokenize(text)
    assert tokenize(" ".join(tokens)) == tokens


@given(st.lists(words, min_size=1, max_size=6), st.lists(st.sampled_from(SEPARATORS), min_size=1, max_size=6))
def test_any_separator_splits_and_case_does_not_matter(parts, seps):
    joined = "".join(p + seps[i % len(seps)] for i, p in enumerate(parts))
    assert tokenize(joined) == tokenize(" ".join(parts)) == tokenize(joined.swapcase())


@given(st.text(alphabet="aeiouncAEIOUNC ", max_size=30))
def test_accented_and_plain_spellings_tokenize_alike(plain):
    accented = plain.translate(str.maketrans("aeiounAEIOUN", "áéíóúñÁÉÍÓÚÑ")).replace("c", "ç")
    assert tokenize(accented) == tokenize(plain)


@given(st.integers(1, 99), st.integers(1, 999), st.sampled_from(["{t}.S{s:02d}E{e:02d}.x264", "{t} s{s}e{e}",
                                                                 "[{t}] S{s:02d}E{e:03d} 1080p"]))
def test_season_and_episode_round_trip(season, episode, pattern):
    info = parse_release(pattern.format(t="Some Show", s=season, e=episode))
    assert (info.season, info.episode) == (season, episode)
    assert f"s{season:02d}e{episode:02d}" in tokenize(pattern.format(t="x", s=season, e=episode))


@given(st.integers(1900, 2099))
def test_a_year_among_words_is_the_release_year(year):
    assert parse_release(f"Title.{year}.1080p.mkv").year == year
