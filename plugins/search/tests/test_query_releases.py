"""A query is read by the same release parser as a file name: index and query agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mediabot_search.engine import TantivyEngine
from mediabot_search.query import parse_query

from mediabot import MediaFile, parse_release, search_tokens
from mediabot.catalog.tokens import parse_release as catalogue_fields

# Words that are also short language tags or tag-like are in the titles on purpose.
TITLE_WORDS = ["ben", "tel", "aviv", "mal", "kan", "dark", "office", "the", "heist", "money", "web", "cam",
               "dual", "season", "chapter", "2", "10", "x", "vikram", "hindi"]
EPISODES = ["S{s:02d}E{e:02d}", "s{s}e{e}", "{s}x{e:02d}", "S{s:02d} E{e:02d}", "S{s:02d}", "Season {s}",
            "Season {s} Episode {e}", "ep{e}", "E{e:02d}", "S{s:02d}-S{t:02d}", "E{e:02d}-E{f:02d}",
            "S{s:02d}E{e:02d}-E{f:02d}"]
RESOLUTIONS = ["480p", "720p", "1080p", "1080i", "2160p", "4K", "UHD"]
LANGUAGES = ["Hindi", "[Hin-Eng]", "Tamil + Telugu", "Dual Audio", "Multi", "Tam", "Kor", "(Mal)", "Japanese",
             "Spanish", "French", "Eng"]
TAGS = ["WEB-DL", "WEBRip", "BluRay", "HDRip", "CAMRip", "x264", "x265", "HEVC", "DD5.1", "AAC", "NF", "ESub"]


@st.composite
def release_names(draw: st.DrawFn) -> str:
    season = draw(st.integers(1, 20))
    episode = draw(st.integers(1, 30))
    parts = draw(st.lists(st.sampled_from(TITLE_WORDS), min_size=1, max_size=3))
    if draw(st.booleans()):
        parts.append(str(draw(st.integers(1950, 2026))))
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(EPISODES)).format(s=season, e=episode, t=season + 2, f=episode + 5))
    parts += draw(st.lists(st.sampled_from(RESOLUTIONS), max_size=1))
    parts += draw(st.lists(st.sampled_from(LANGUAGES), max_size=2))
    parts += draw(st.lists(st.sampled_from(TAGS), max_size=2))
    separator = draw(st.sampled_from([".", " ", "_"]))
    return separator.join(parts) + draw(st.sampled_from(["", ".mkv", ".mp4"]))


@settings(max_examples=300, deadline=None)
@given(release_names())
def test_index_and_query_read_the_same_facets_from_a_name(name):
    indexed = catalogue_fields(name)
    query = parse_query(name)
    assert (query.filters.season, query.filters.episode, query.filters.resolution, query.filters.year) == (
        indexed.season, indexed.episode, indexed.resolution, indexed.year)
    assert query.languages == list(parse_release(name).languages)


@settings(max_examples=300, deadline=None)
@given(release_names())
def test_every_marker_a_query_requires_is_a_token_of_the_same_name(name):
    query = parse_query(name)
    tokens = set(search_tokens(name))
    assert set(query.episode_tokens + query.resolution_words + query.year_words + query.words) <= tokens


def test_a_query_names_languages_as_a_file_name_does():
    assert parse_query("kgf hindi 1080p").languages == ["hi"]
    assert parse_query("money heist 720p [hin-eng]").languages == ["hi", "en"]
    # A short tag without a marker before it is a title word, in a query as in a name.
    ben = parse_query("ben 10")
    assert ben.languages == [] and ben.words == ["ben", "10"]
    # Language words are still words a file must have: results do not change.
    assert parse_query("kgf hindi").words == ["kgf", "hindi"]


def file(name: str, n: int, caption: str | None = None) -> MediaFile:
    info = catalogue_fields(name, caption)
    return MediaFile(file_unique_id=f"u{n}", file_id=f"f{n}", kind="video", file_name=name, caption=caption,
                     resolution=info.resolution, season=info.season, episode=info.episode, year=info.year,
                     tokens=search_tokens(name, caption))


@pytest.fixture
def engine(tmp_path: Path):
    files = [file("Naruto.ep5.720p.mkv", 1), file("Naruto.ep6.720p.mkv", 2),
             file("The.Office.US.S01-S03.Complete.1080p.BluRay.mkv", 3), file("The.Office.US.S04E01.720p.mkv", 4),
             file("Dark.Complete.mkv", 5, caption="Dark Season 1"), file("Dune.2021.1080i.HDTV.mkv", 6)]
    with TantivyEngine(tmp_path / "search") as engine:
        engine.index(files)
        engine.commit()
        yield engine, {f.id: f.file_name for f in files}


def found(engine, text: str) -> list[str]:
    engine, names = engine
    return [names[i] for i in engine.search(text).ids]


def test_an_episode_written_ep5_is_found_by_ep5_and_episode_5(engine):
    assert found(engine, "naruto ep5") == ["Naruto.ep5.720p.mkv"]
    assert found(engine, "naruto episode 5") == ["Naruto.ep5.720p.mkv"]


def test_a_season_pack_is_found_by_any_season_in_it(engine):
    assert found(engine, "office s02") == ["The.Office.US.S01-S03.Complete.1080p.BluRay.mkv"]
    assert found(engine, "office season 4") == ["The.Office.US.S04E01.720p.mkv"]


def test_a_season_named_in_words_in_a_caption_is_found_by_the_season(engine):
    assert found(engine, "dark season 1") == ["Dark.Complete.mkv"]
    assert found(engine, "dark s01") == ["Dark.Complete.mkv"]


def test_an_interlaced_resolution_is_found_by_its_height(engine):
    assert found(engine, "dune 1080i") == found(engine, "dune 1080p") == ["Dune.2021.1080i.HDTV.mkv"]


def test_a_file_stored_before_the_parser_read_ep5_is_found_once_reindexed(tmp_path: Path):
    # What the catalogue stored for it before: tokens of the old tokenizer, no episode.
    stored = MediaFile(file_unique_id="u", file_id="f", kind="video", file_name="Naruto.ep5.720p.mkv",
                       caption="Season 1", resolution="720p", tokens=["naruto", "ep5", "720p", "mkv", "season", "1"])
    with TantivyEngine(tmp_path / "search") as engine:
        engine.index([stored])
        engine.commit()
        assert engine.search("naruto ep5").ids == engine.search("naruto season 1").ids == [stored.id]


def test_a_query_of_long_ranges_requires_a_bounded_number_of_markers():
    parsed = parse_query(" ".join(f"s{n:02d}e01-e99" for n in range(1, 13)))
    assert len(parsed.episode_tokens) <= 30 and parsed.truncated
    assert parse_query("show s01e01-e10").episode_tokens == [f"s01e{n:02d}" for n in range(1, 11)]
