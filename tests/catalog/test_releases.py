"""The release-name parser: what a file name says, read the same way for the index and for a query."""

from __future__ import annotations

import re
import time

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediabot import Chat, Media, MediaFile, Message, Release, parse_release, search_tokens, tokenize
from mediabot.catalog import tokens as catalogue

# name -> the fields it must give (fields not named keep their defaults: nothing read).
REAL_NAMES: list[tuple[str, dict[str, object]]] = [
    ("Kgf.Chapter.2.2022.Hindi.1080p.WEB-DL.x264.mkv",
     dict(title=("kgf", "chapter", "2"), year=2022, languages=("hi",), resolution="1080p", source="WEB-DL",
          codec="H.264")),
    ("Money.Heist.S02E05.720p.NF.WEBRip.Dual.Audio.[Hin-Eng].mkv",
     dict(title=("money", "heist"), season=2, episode=5, resolution="720p", source="WEBRip",
          languages=("hi", "en"), dual_audio=True)),
    ("The.Office.US.S01-S03.Complete.1080p.BluRay",
     dict(title=("the", "office", "us"), season=1, season_last=3, resolution="1080p", source="BluRay")),
    ("Vikram (2022) [Tamil + Telugu] HDRip 400MB",
     dict(title=("vikram",), year=2022, languages=("ta", "te"), source="HDRip")),
    ("Ben.10.S01E01.480p.mkv", dict(title=("ben", "10"), season=1, episode=1, resolution="480p")),
    ("Tel.Aviv.on.Fire.2018.1080p.mkv", dict(title=("tel", "aviv", "on", "fire"), year=2018, resolution="1080p")),
    ("Breaking.Bad.S05E01-E08.1080p.BluRay.x265.HEVC.10bit.DD5.1-GRP",
     dict(title=("breaking", "bad"), season=5, episode=1, episode_last=8, resolution="1080p", source="BluRay",
          codec="H.265", audio=("DD5.1",))),
    ("Dune Part Two 2024 2160p WEB-DL DDP5.1 Atmos H.265-FLUX",
     dict(title=("dune", "part", "two"), year=2024, resolution="2160p", source="WEB-DL", audio=("DD+5.1", "Atmos"),
          codec="H.265")),
    ("Jawan (2023) Hindi 1080i HQ PreDVDRip x264 AAC 2.5GB",
     dict(title=("jawan",), year=2023, languages=("hi",), resolution="1080p", source="PreDVD", codec="H.264",
          audio=("AAC",))),
    ("[Erai-raws] Spy x Family - 1x05 [1080p][Multi]",
     dict(title=("spy", "x", "family"), season=1, episode=5, resolution="1080p", multi_audio=True)),
    ("Squid Game Season 2 Episode 3 Korean 720p WEBRip",
     dict(title=("squid", "game"), season=2, episode=3, languages=("ko",), resolution="720p", source="WEBRip")),
    ("Naruto.Shippuden.ep5.Jap.Eng.Sub.480p.mkv",
     dict(title=("naruto", "shippuden"), episode=5, languages=("ja", "en"), resolution="480p")),
    ("Leo.2023.Tam.Tel.Mal.Kan.Hin.4K.CAMRip.AV1",
     dict(title=("leo",), year=2023, languages=("ta", "te", "ml", "kn", "hi"), resolution="2160p",
          source="CAMRip", codec="AV1")),
    ("Pathaan.2023.HDCAM.Bengali.mp4", dict(title=("pathaan",), year=2023, source="HDCAM", languages=("bn",))),
    ("Avatar The Way of Water 2022 HDTS 720p Spanish French AC3",
     dict(title=("avatar", "the", "way", "of", "water"), year=2022, source="TS", resolution="720p",
          languages=("es", "fr"), audio=("AC3",))),
    ("Dark.S01E01.E02.2160p.NF.WEB-DL", dict(title=("dark",), season=1, episode=1, resolution="2160p",
                                             source="WEB-DL")),
    ("2001.A.Space.Odyssey.1968.1080p.BluRay",
     dict(title=("2001", "a", "space", "odyssey"), year=1968, resolution="1080p", source="BluRay")),
    ("The.English.Patient.1996.720p.BRRip",
     dict(title=("the", "english", "patient"), year=1996, resolution="720p", source="BRRip", languages=("en",))),
]


@pytest.mark.parametrize(("name", "fields"), REAL_NAMES, ids=[n for n, _ in REAL_NAMES])
def test_real_release_names_are_read(name, fields):
    release = parse_release(name)
    assert msgspec.structs.replace(release, tokens=()) == Release(**fields)
    assert list(release.tokens) == search_tokens(name)


# Titles made of short language tags: the tags are title words until a marker or a bracket.
TAG_TITLES = [
    ("Ben 10", ()),
    ("Ben.10.Alien.Force.S01E01.mkv", ()),
    ("Tel Aviv on Fire", ()),
    ("Mal.Pelo.2019.1080p", ()),
    ("Kan.Eng.Hin", ()),
    ("Tam Lin 1970 720p", ()),
    ("Kor Jap Ben", ()),
    # ...and once a year, season or resolution marker came, or inside brackets, they are languages.
    ("Ben.10.2005.Hin.mkv", ("hi",)),
    ("Tel.Aviv.on.Fire.2018.1080p.Tel.Eng.mkv", ("te", "en")),
    ("Ben 10 S01E01 Ben", ("bn",)),
    ("Some Film (Tam)", ("ta",)),
    ("Some Film 720p Kan", ("kn",)),
    # Full names count anywhere.
    ("Hindi Medium", ("hi",)),
    ("Tamil Telugu", ("ta", "te")),
]


@pytest.mark.parametrize(("name", "languages"), TAG_TITLES, ids=[n for n, _ in TAG_TITLES])
def test_short_language_tags_count_only_after_a_marker_or_in_brackets(name, languages):
    release = parse_release(name)
    assert release.languages == languages
    if not languages:
        assert release.title[0] == tokenize(name)[0]  # the tag is the title's first word


def test_season_and_episode_spellings_agree():
    for name in ("Show.S01E02", "show s1e2", "Show 1x02", "Show S01 E02", "Show S01 EP02", "Show Season 1 Episode 2",
                 "Show season 1 ep 2"):
        assert (parse_release(name).season, parse_release(name).episode) == (1, 2), name
        assert "s01e02" in tokenize(name), name
    assert parse_release("Show.ep5").episode == parse_release("Show Episode 5").episode == 5
    assert parse_release("Show.ep5").season is None


def test_ranges_are_read_and_every_season_or_episode_in_them_is_a_token():
    assert tokenize("The.Office.S01-S03.1080p") == ["the", "office", "s01", "s02", "s03", "1080p"]
    assert tokenize("Show Season 1-3") == ["show", "season", "1", "s01", "s02", "s03"]
    assert [t for t in tokenize("Show.S01E01-E04") if t.startswith("s")] == [
        "show", "s01e01", "s01", "s01e02", "s01e03", "s01e04"]
    assert parse_release("Show.E01-E10").episode_last == 10
    # Without a hyphen two markers are two markers, not a range.
    assert parse_release("Show S01 S03").season_last is None
    # A range too long to be one is read as its ends only: the work stays bounded.
    assert parse_release("Show E01-E999").episode_last is None
    assert len(tokenize("Show S01-S99")) == 3


def test_season_words_give_the_season_token_so_a_query_for_the_season_meets_the_file():
    assert tokenize("Dark Season 2") == ["dark", "season", "2", "s02"]
    assert tokenize("Dark season 2 episode 5") == ["dark", "season", "2", "s02", "episode", "5", "s02e05"]


def test_resolution_spellings_meet():
    for spelling, height in (("480p", "480p"), ("720P", "720p"), ("1080p", "1080p"), ("1080i", "1080p"),
                             ("2160p", "2160p"), ("4K", "2160p"), ("UHD", "2160p")):
        assert parse_release(f"Film.2020.{spelling}").resolution == height
        assert height in tokenize(f"Film {spelling}")
    assert parse_release("Film 1080").resolution is None  # a bare number is not a resolution
    assert parse_release("Film 1234p").resolution is None  # nor an unknown height


def test_an_extension_is_not_a_tag():
    assert parse_release("Clip.2020.ts").source is None
    assert parse_release("Clip.2020.TS.x264.mkv").source == "TS"
    assert parse_release("Song (2020).mp3").audio == ()


def test_the_catalogue_keeps_what_the_parser_reads_for_a_file():
    chat = Chat(id=-100, type="channel", title="c")
    message = Message(id=1, chat=chat, date=0, caption="Season 2 Episode 5",
                      media=Media(kind="video", file_id="f", file_unique_id="u", file_name="Show.Hindi.720p.mkv"))
    file = MediaFile.from_message(message)
    assert (file.season, file.episode, file.resolution) == (2, 5, "720p")
    assert {"s02", "s02e05", "hindi", "720p"} <= set(file.tokens)
    assert catalogue.parse_release("Show.ep5.mkv").episode == 5


PIECES = ["S01", "E05", "-", "-S03", "-E99", "[", "(", "]", "Hin", "Tel", ".", "+", "5.1", "ep", "season", " ", "1x0",
          "é", "千と", "'", "s.h.", "(.*)+", "\\", "1080i", "2022"]
ADVERSARIAL = (st.text(alphabet="sSeE0123456789xXpP-.[]() (+*?\\{}^$|", max_size=400) | st.text(max_size=400)
               | st.lists(st.sampled_from(PIECES), max_size=3000).map("".join))


@settings(max_examples=200, deadline=None)
@given(ADVERSARIAL)
def test_any_text_is_read_without_error_and_tokens_stay_bounded(text):
    started = time.perf_counter()
    release = parse_release(text)
    tokens = search_tokens(text)
    assert time.perf_counter() - started < 5  # linear: milliseconds for these lengths
    words = len(re.findall(r"\w+", text)) + 1
    assert len(tokens) <= 101 * words
    assert all(isinstance(code, str) and len(code) == 2 for code in release.languages)


def test_long_adversarial_names_take_linear_time():
    pieces = ["S01-", "E01-E99-", "[" * 50, "(" * 50 + "Hin", "1x01-", ".-.-" * 40, "ep ", "season 1-", "DD+5.1.",
              "é[(", "千と", "a'b'", "s.h.i.", "Amélie S01-"]
    for piece in pieces:
        text = piece * (50_000 // len(piece))
        started = time.perf_counter()
        parse_release(text)
        tokenize(text)
        # Linear work is about a second for 50 kB here; quadratic work would be minutes.
        assert time.perf_counter() - started < 10, piece


def test_no_pattern_is_built_from_the_text(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a pattern was compiled while reading text: {args[:1]}")

    monkeypatch.setattr(re, "compile", refuse)
    monkeypatch.setattr(re, "_compile", refuse)
    for text in ("(a+)+$ [Hin-Eng] S01-S03", "Ocean's.Eleven.S.H.I.E.L.D.2001", "*?{1,9}\\", "千と千尋 ep5 1080i"):
        parse_release(text)
        search_tokens(text, text)
