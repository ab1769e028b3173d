"""Release names: what a file name, a caption or a query says, read one way.

The catalogue reads a file name when it indexes the file and search reads
what a user typed with the same code (:func:`read_release`), so the two never
disagree about what ``1080i``, ``ep5`` or ``S01-S03`` is.

A text is cut into normalised words (:func:`mediabot.catalog.words.scan`:
case folded, accents removed, anything that is not a letter or digit
separates words, scripts written without spaces split into character
pairs). :func:`read_release` then groups the words into readings: a title
word, or a marker (season/episode, year, resolution) or a tag (source,
codec, audio, language, "Dual Audio", "Multi"). :func:`parse_release` sums
the readings up as a :class:`Release`.

Only fixed, precompiled patterns are used, each matched against one word,
and every word is looked at a bounded number of times: the work is linear in
the text, whatever it holds.

Short language tags are ambiguous (``Ben 10``, ``Tel Aviv``): ``Hin``,
``Tam``, ``Tel``, ``Mal``, ``Kan``, ``Ben``, ``Eng``, ``Kor``, ``Jap`` (and
``Dual``, ``Multi``, ``WEB``, ``TS``, ``CAM``...) count only after a year,
season or resolution marker, or inside brackets. Full language names count
anywhere.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from mediabot.catalog.words import Word, joined_words, normalize, scan, scan_normalized

__all__ = ["Reading", "Release", "parse_release", "read_release", "release_of"]

ReadingKind = Literal["word", "episode", "year", "resolution", "source", "codec", "audio", "language", "dual",
                      "multi"]


_SEASON_EPISODE = re.compile(r"^s(\d{1,3})e(\d{1,4})$")
_CROSS_EPISODE = re.compile(r"^(\d{1,2})x(\d{1,3})$")
_SEASON = re.compile(r"^s(\d{1,3})$")
_EPISODE = re.compile(r"^(?:e|ep)(\d{1,4})$")
_NUMBER = re.compile(r"^\d{1,4}$")
_RESOLUTION = re.compile(r"^(\d{3,4})[pi]$")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_AUDIO = re.compile(r"^(aac|ac3|eac3|ddp|dd|dts|truehd|opus|flac)(\d)?$")
_DIGIT = re.compile(r"^\d$")

# Heights people actually label releases with; "1080" alone is not a resolution.
_KNOWN_HEIGHTS = frozenset({"240", "360", "480", "540", "576", "720", "1080", "1440", "2160", "4320"})
_RESOLUTION_ALIASES = {"4k": "2160p", "uhd": "2160p", "8k": "4320p", "fhd": "1080p"}
# A range longer than this is read as its two ends only: the work stays bounded.
_MAX_SEASON_SPAN = 30
_MAX_EPISODE_SPAN = 100

# Language names and tags -> ISO 639-1 codes.
_LANGUAGE_NAMES = {
    "hindi": "hi", "tamil": "ta", "telugu": "te", "malayalam": "ml", "kannada": "kn", "bengali": "bn",
    "bangla": "bn", "english": "en", "korean": "ko", "japanese": "ja", "spanish": "es", "espanol": "es",
    "french": "fr", "francais": "fr", "marathi": "mr", "punjabi": "pa", "gujarati": "gu", "urdu": "ur",
    "chinese": "zh", "mandarin": "zh", "german": "de", "italian": "it", "russian": "ru", "portuguese": "pt",
    "arabic": "ar", "turkish": "tr", "thai": "th",
}
_LANGUAGE_TAGS = {"hin": "hi", "tam": "ta", "tel": "te", "mal": "ml", "kan": "kn", "ben": "bn", "eng": "en",
                  "kor": "ko", "jap": "ja", "jpn": "ja"}
_SOURCES = {
    "webdl": "WEB-DL", "webrip": "WEBRip", "bluray": "BluRay", "bdrip": "BDRip", "brrip": "BRRip",
    "bdremux": "REMUX", "remux": "REMUX", "hdrip": "HDRip", "dvdrip": "DVDRip", "hdtv": "HDTV",
    "hdtvrip": "HDTV", "camrip": "CAMRip", "hdcam": "HDCAM", "telesync": "TS", "hdts": "TS", "predvd": "PreDVD",
    "predvdrip": "PreDVD", "dvdscr": "DVDScr", "hdtc": "TC", "telecine": "TC",
}
# Sources that are also ordinary words or a file extension: tags only when marked.
_MARKED_SOURCES = {"web": "WEB", "cam": "CAMRip", "ts": "TS", "tc": "TC", "dvd": "DVD"}
# Two words that are one source: "WEB-DL", "Blu.Ray", "HD Rip".
_SOURCE_PAIRS = {
    ("web", "dl"): "WEB-DL", ("web", "rip"): "WEBRip", ("blu", "ray"): "BluRay", ("hd", "rip"): "HDRip",
    ("dvd", "rip"): "DVDRip", ("cam", "rip"): "CAMRip", ("hd", "cam"): "HDCAM", ("hd", "ts"): "TS",
    ("pre", "dvd"): "PreDVD", ("dvd", "scr"): "DVDScr", ("web", "dlrip"): "WEB-DL",
}
_CODECS = {"x264": "H.264", "h264": "H.264", "avc": "H.264", "x265": "H.265", "h265": "H.265", "hevc": "H.265",
           "av1": "AV1", "xvid": "XviD", "divx": "DivX", "vp9": "VP9"}
_CODEC_PAIRS = {("h", "264"): "H.264", ("h", "265"): "H.265"}
_AUDIO_NAMES = {"aac": "AAC", "ac3": "AC3", "eac3": "EAC3", "ddp": "DD+", "dd": "DD", "dts": "DTS",
                "truehd": "TrueHD", "opus": "Opus", "flac": "FLAC", "atmos": "Atmos", "mp3": "MP3"}
# Audio tags that are also words or extensions ("DD" initials, "song.flac").
_MARKED_AUDIO = frozenset({"dd", "ddp", "opus", "flac", "mp3"})
_EXTENSIONS = frozenset({"mkv", "mp4", "avi", "m4v", "mov", "wmv", "webm", "ts", "m2ts", "mp3", "flac", "m4a",
                         "ogg", "opus", "wav", "zip", "rar", "7z", "pdf", "epub", "srt"})
# Words after which a title has ended even without a marker ("Kgf Hindi Dubbed").
_TAG_WORDS = frozenset({"dubbed", "subbed", "esub", "esubs", "complete", "proper", "repack", "uncut", "extended"})


# Words without digits that can start a marker or a tag: any other such word is a title word.
_SPECIAL_WORDS = frozenset(
    {*_LANGUAGE_NAMES, *_LANGUAGE_TAGS, *_SOURCES, *_MARKED_SOURCES, *_CODECS, *_AUDIO_NAMES,
     *(first for first, _ in _SOURCE_PAIRS), *(first for first, _ in _CODEC_PAIRS), *_RESOLUTION_ALIASES,
     *_EXTENSIONS, "season", "episode", "ep", "dual", "multi", "dualaudio", "multiaudio"})


# One word that is a tag on its own, never the start of a longer one:
# word -> (kind, value, only after a marker or in brackets).
_SINGLE_TAGS: dict[str, tuple[ReadingKind, str, bool]] = {
    **{w: ("language", code, False) for w, code in _LANGUAGE_NAMES.items()},
    **{w: ("language", code, True) for w, code in _LANGUAGE_TAGS.items()},
    **{w: ("source", value, False) for w, value in _SOURCES.items() if w.isalpha()},
    **{w: ("source", value, True) for w, value in _MARKED_SOURCES.items()
       if not any(first == w for first, _ in _SOURCE_PAIRS)},
    **{w: ("codec", value, False) for w, value in _CODECS.items() if w.isalpha()},
    **{w: ("audio", _AUDIO_NAMES[w], w in _MARKED_AUDIO) for w in ("aac", "dts", "truehd", "atmos", "ddp", "opus",
                                                                      "flac", "mp3")},
}


class Reading(msgspec.Struct, frozen=True, kw_only=True):
    """Words of a text read as one thing.

    :param kind: ``word`` (a title or other word), ``episode`` (any season and/or
        episode marker), ``year``, ``resolution``, ``source``, ``codec``, ``audio``,
        ``language``, ``dual`` ("Dual Audio") or ``multi``.
    :param words: the words read.
    :param tokens: the search tokens they stand for: the words, except that
        markers are canonical (``1x02`` -> ``s01e02``, ``s01``; ``4K`` -> ``2160p``;
        ``Season 2`` adds ``s02``; ``S01-S03`` gives ``s01`` ``s02`` ``s03``).
    :param markers: the canonical episode tokens a query for this requires
        (``s01e02``; ``s02``; every season or episode of a range; none for ``ep5``).
    :param value: the canonical value: ``1080p``, ``WEB-DL``, ``H.264``, ``DD5.1``, a language code.
    """

    kind: ReadingKind = "word"
    words: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    value: str | None = None
    season: int | None = None
    season_last: int | None = None
    episode: int | None = None
    episode_last: int | None = None
    bracketed: bool = False


class Release(msgspec.Struct, frozen=True, kw_only=True):
    """What a release name says.

    :param title: the title's words (normalised), up to the first marker or tag.
    :param year: the release year (1900-2099), the last one named (``2001 A Space Odyssey 1968`` -> 1968).
    :param season: season number (``S02E05`` -> 2; the first of ``S01-S03``).
    :param season_last: the last season of a range (``S01-S03`` -> 3), else ``None``.
    :param episode: episode number (``S02E05``, ``1x05``, ``ep5``, ``Episode 5`` -> 5; the first of a range).
    :param episode_last: the last episode of a range (``E01-E10`` -> 10), else ``None``.
    :param resolution: canonical resolution: ``480p``, ``720p``, ``1080p`` (``1080i`` too), ``2160p`` (``4K``, ``UHD``).
    :param source: ``WEB-DL``, ``WEBRip``, ``WEB``, ``BluRay``, ``BDRip``, ``BRRip``, ``REMUX``, ``HDRip``,
        ``DVDRip``, ``DVD``, ``DVDScr``, ``HDTV``, ``CAMRip``, ``HDCAM``, ``TS``, ``TC`` or ``PreDVD``.
    :param codec: ``H.264`` (x264, AVC), ``H.265`` (x265, HEVC), ``AV1``, ``XviD``, ``DivX`` or ``VP9``.
    :param audio: audio tags in order, e.g. ``("DD5.1", "Atmos")``, ``("AAC2.0",)``.
    :param languages: ISO 639-1 codes in order, without repeats (``Hindi``/``Hin`` -> ``hi``).
    :param dual_audio: "Dual Audio" (or a bracketed/marked ``Dual``) is named.
    :param multi_audio: "Multi" (multi-language audio) is named.
    :param tokens: the search tokens of the text(s), as the catalogue stores them
        (``mediabot.search_tokens``): normalised words, markers canonical
        (``1x02`` -> ``s01e02``, ``s01``), dotted acronyms and words split by an apostrophe also joined.
    """

    title: tuple[str, ...] = ()
    year: int | None = None
    season: int | None = None
    season_last: int | None = None
    episode: int | None = None
    episode_last: int | None = None
    resolution: str | None = None
    source: str | None = None
    codec: str | None = None
    audio: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    dual_audio: bool = False
    multi_audio: bool = False
    tokens: tuple[str, ...] = ()


def _season_tokens(first: int, last: int | None) -> tuple[str, ...]:
    if last is None:
        return (f"s{first:02d}",)
    return tuple(f"s{n:02d}" for n in range(first, last + 1))


def _episode_tokens(season: int, first: int, last: int | None) -> tuple[str, ...]:
    if last is None:
        return (f"s{season:02d}e{first:02d}",)
    return tuple(f"s{season:02d}e{n:02d}" for n in range(first, last + 1))


def _texts(words: list[Word]) -> tuple[str, ...]:
    return tuple([w.text for w in words])


def _episode_at(words: list[Word], i: int) -> tuple[int, int] | None:
    """An episode at ``words[i]`` (``e05``, ``ep5``, ``episode 5``, ``ep 5``): (number, words it takes)."""
    if i >= len(words):
        return None
    if m := _EPISODE.match(words[i].text):
        return int(m.group(1)), 1
    if words[i].text in ("episode", "ep") and i + 1 < len(words) and _NUMBER.match(words[i + 1].text):
        return int(words[i + 1].text), 2
    return None


def _range_end(words: list[Word], i: int, first: int, span: int, *, season: int | None = None,
               seasons: bool = False) -> int | None:
    """The end of a range ``-X`` at ``words[i]``: ``S01-S03``, ``E01-E10``, ``E01-10``, ``S01E01-S01E10``.

    :param season: the range is of episodes of this season (``S01E01-E10``).
    :param seasons: the range is of seasons.
    """
    if i >= len(words) or "-" not in words[i].sep:
        return None
    text = words[i].text
    last: int | None = None
    if seasons:
        m = _SEASON.match(text) or _NUMBER.match(text)
        last = int(m.group(1) if m and m.lastindex else text) if m else None
    elif m := _EPISODE.match(text):
        last = int(m.group(1))
    elif _NUMBER.match(text):
        last = int(text)
    elif season is not None and (m := _SEASON_EPISODE.match(text)) and int(m.group(1)) == season:
        last = int(m.group(2))
    limit = _MAX_SEASON_SPAN if seasons else _MAX_EPISODE_SPAN
    # A range longer than the limit is not a range: the work stays bounded.
    return last if last is not None and 0 < last - first <= limit else None


def _read_episode(words: list[Word], i: int, season_before: int | None) -> tuple[Reading, int] | None:
    """A season and/or episode marker starting at ``words[i]``, and how many words it takes.

    :param season_before: the season of an episode marker just before (``S01E02 E03``: E03 is ``s01e03``).

    Token order is chosen so that tokenizing the tokens again gives them back.
    """
    text = words[i].text
    if text[0] not in "se0123456789":
        return None  # every marker starts with one of these: most words are done here
    if season_before is not None and (m := _EPISODE.match(text)):
        marker = f"s{season_before:02d}e{int(m.group(1)):02d}"
        return Reading(kind="episode", words=(text,), tokens=(marker, f"s{season_before:02d}"), markers=(marker,),
                       season=season_before, episode=int(m.group(1))), 1
    m = _SEASON_EPISODE.match(text) or _CROSS_EPISODE.match(text)
    if m:  # "S01E02", "1x02", "S01E01-E10"
        season, episode = int(m.group(1)), int(m.group(2))
        last = _range_end(words, i + 1, episode, _MAX_EPISODE_SPAN, season=season)
        used = 1 + (last is not None)
        markers = _episode_tokens(season, episode, last)
        return Reading(kind="episode", words=_texts(words[i:i + used]),
                       tokens=(*markers[:1], f"s{season:02d}", *markers[1:]), markers=markers, season=season,
                       episode=episode, episode_last=last), used
    raw: tuple[str, ...]
    if m := _SEASON.match(text):  # "S01"
        season, raw = int(m.group(1)), (text,)
    elif text == "season" and i + 1 < len(words) and _NUMBER.match(words[i + 1].text) and \
            len(words[i + 1].text) <= 3:  # "Season 2"
        season, raw = int(words[i + 1].text), ("season", words[i + 1].text)
    else:
        found = _episode_at(words, i)
        if found is None:
            return None
        # An episode without a season: "ep5", "Episode 5", "E01-E10".
        episode, used = found
        last = _range_end(words, i + used, episode, _MAX_EPISODE_SPAN)
        used += last is not None
        kept = _texts(words[i:i + used])
        return Reading(kind="episode", words=kept, tokens=kept, episode=episode, episode_last=last), used
    j = i + len(raw)
    season_token = f"s{season:02d}"
    found = _episode_at(words, j)
    if found is not None:  # "S01 E02", "Season 2 Episode 5"
        episode, used = found
        marker = f"s{season:02d}e{episode:02d}"
        spelled = _texts(words[j:j + used]) if used == 2 else ()
        tokens = tuple(dict.fromkeys((*raw, season_token, *spelled, marker)))
        return Reading(kind="episode", words=_texts(words[i:j + used]), tokens=tokens, markers=(marker,),
                       season=season, episode=episode), j + used - i
    last = _range_end(words, j, season, _MAX_SEASON_SPAN, seasons=True)  # "S01-S03", "Season 1-3"
    markers = _season_tokens(season, last)
    used = j - i + (last is not None)
    return Reading(kind="episode", words=_texts(words[i:i + used]), tokens=tuple(dict.fromkeys((*raw, *markers))),
                   markers=markers, season=season, season_last=last), used


def _tag(kind: ReadingKind, words: list[Word], value: str) -> tuple[Reading, int]:
    texts = _texts(words)
    return Reading(kind=kind, words=texts, tokens=texts, value=value, bracketed=words[0].bracketed), len(words)


def _read_audio(words: list[Word], i: int, tagged: bool) -> tuple[Reading, int] | None:
    """``AAC``, ``DD5.1``, ``DDP5.1``, ``DD+5.1``, ``AAC2.0``, ``Atmos``..."""
    text = words[i].text
    if text == "atmos":
        return _tag("audio", words[i:i + 1], "Atmos")
    m = _AUDIO.match(text)
    if not m and not (text == "mp3" and tagged):
        return None
    if not m:
        return _tag("audio", words[i:i + 1], "MP3")
    name, channels, used = _AUDIO_NAMES[m.group(1)], m.group(2), 1
    nxt = words[i + 1] if i + 1 < len(words) else None
    if channels is None and name == "DD" and nxt is not None and "+" in nxt.sep and _DIGIT.match(nxt.text):
        name, channels, used = "DD+", nxt.text, 2  # "DD+5.1"
    if channels is None and not tagged and m.group(1) in _MARKED_AUDIO:
        return None
    if channels is not None:
        after = words[i + used] if i + used < len(words) else None
        if after is not None and after.sep == "." and _DIGIT.match(after.text):
            channels, used = f"{channels}.{after.text}", used + 1
    return _tag("audio", words[i:i + used], name + (channels or ""))


def _read_number(words: list[Word], i: int, season_before: int | None) -> tuple[Reading, int]:
    """A word that starts with a digit: a year, a resolution, ``1x02``, or a plain word (``10``, ``10bit``)."""
    word = words[i]
    text = word.text
    if _YEAR.match(text):
        return Reading(kind="year", words=(text,), tokens=(text,), value=text, bracketed=word.bracketed), 1
    if (m := _RESOLUTION.match(text)) and str(int(m.group(1))) in _KNOWN_HEIGHTS:
        value = f"{int(m.group(1))}p"  # 1080i is in the 1080p class: one filter finds both
        return Reading(kind="resolution", words=(text,), tokens=(value,), value=value, bracketed=word.bracketed), 1
    if text in _RESOLUTION_ALIASES:  # 4k, 8k
        value = _RESOLUTION_ALIASES[text]
        return Reading(kind="resolution", words=(text,), tokens=(value,), value=value, bracketed=word.bracketed), 1
    if found := _read_episode(words, i, season_before):  # "1x02"
        return found
    return Reading(words=(text,), tokens=(text,), bracketed=word.bracketed), 1


def _read_at(words: list[Word], i: int, marked: bool, season_before: int | None) -> tuple[Reading, int]:
    """The reading that starts at ``words[i]`` and how many words it takes."""
    word = words[i]
    text = word.text
    nxt = words[i + 1].text if i + 1 < len(words) else ""
    # After a marker or inside brackets a short, ambiguous tag is a tag.
    tagged = marked or word.bracketed
    if i == len(words) - 1 and "." in word.sep and text in _EXTENSIONS:
        return Reading(words=(text,), tokens=(text,), bracketed=word.bracketed), 1  # "movie.ts": a file, not a telesync
    if text[0].isdigit():
        return _read_number(words, i, season_before)
    if found := _read_episode(words, i, season_before):
        return found
    if text in _RESOLUTION_ALIASES:
        value = _RESOLUTION_ALIASES[text]
        return Reading(kind="resolution", words=(text,), tokens=(value,), value=value), 1
    if (text, nxt) in _SOURCE_PAIRS:
        return _tag("source", words[i:i + 2], _SOURCE_PAIRS[text, nxt])
    if (text, nxt) in _CODEC_PAIRS:
        return _tag("codec", words[i:i + 2], _CODEC_PAIRS[text, nxt])
    if text in ("dual", "multi") and nxt == "audio":
        return _tag("dual" if text == "dual" else "multi", words[i:i + 2], text)
    if text in ("dualaudio", "multiaudio") or (tagged and text in ("dual", "multi")):
        kind: ReadingKind = "dual" if text.startswith("dual") else "multi"
        return _tag(kind, words[i:i + 1], kind)
    if text in _LANGUAGE_NAMES:
        return _tag("language", words[i:i + 1], _LANGUAGE_NAMES[text])
    if tagged and text in _LANGUAGE_TAGS:
        return _tag("language", words[i:i + 1], _LANGUAGE_TAGS[text])
    if text in _SOURCES:
        return _tag("source", words[i:i + 1], _SOURCES[text])
    if tagged and text in _MARKED_SOURCES:
        return _tag("source", words[i:i + 1], _MARKED_SOURCES[text])
    if text in _CODECS:
        return _tag("codec", words[i:i + 1], _CODECS[text])
    if found := _read_audio(words, i, tagged):
        return found
    return Reading(words=(text,), tokens=(text,), bracketed=word.bracketed), 1


def read_release(text: str | None) -> list[Reading]:
    """The readings of a text, in order: what each word (or group of words) is.

    >>> [(r.kind, r.value) for r in read_release("Dune.2021.1080p.Hindi.WEB-DL")]
    [('word', None), ('year', '2021'), ('resolution', '1080p'), ('language', 'hi'), ('source', 'WEB-DL')]
    """
    return _read_words(scan(text))


def _read_words(words: list[Word]) -> list[Reading]:
    out: list[Reading] = []
    marked = False
    i = 0
    season_before: int | None = None  # the season of an episode marker just read
    last = len(words) - 1
    while i < len(words):
        word = words[i]
        text = word.text
        # Fast paths, same readings as _read_at: most words are title words or one-word tags.
        if text.isalpha():
            tag = _SINGLE_TAGS.get(text) if text in _SPECIAL_WORDS else None
            if text not in _SPECIAL_WORDS or (tag is not None and not (tag[2] and not (marked or word.bracketed))
                                              and not (i == last and text in _EXTENSIONS and "." in word.sep)):
                plain = (text,)
                if tag is None:
                    out.append(Reading(words=plain, tokens=plain, bracketed=word.bracketed))
                else:
                    out.append(Reading(kind=tag[0], words=plain, tokens=plain, value=tag[1], bracketed=word.bracketed))
                season_before = None
                i += 1
                continue
        reading, used = _read_at(words, i, marked, season_before)
        season_before = reading.season if reading.episode is not None else None
        if words[i].bracketed and not reading.bracketed:
            reading = msgspec.structs.replace(reading, bracketed=True)
        out.append(reading)
        marked = marked or reading.kind in ("episode", "year", "resolution")
        i += used
    return out


def _title(readings: list[Reading]) -> tuple[str, ...]:
    """The title: leading words up to the first marker or tag, leading bracketed group tags left out."""
    start = 0
    while start < len(readings) and readings[start].bracketed and any(not r.bracketed for r in readings[start:]):
        start += 1
    title: list[str] = []
    rest = readings[start:]
    for n, reading in enumerate(rest):
        after = rest[n + 1] if n + 1 < len(rest) else None
        if reading.kind == "word":
            if title and reading.words[0] in _TAG_WORDS:
                break
            title.extend(reading.words)
            continue
        if reading.kind == "year" and (not title or (after is not None and after.kind == "year")):
            title.extend(reading.words)  # "1917", "2001 A Space Odyssey 1968", "Blade Runner 2049 2017"
            continue
        if reading.kind == "language" and not reading.bracketed and reading.words[0] in _LANGUAGE_NAMES and \
                after is not None and after.kind == "word" and after.words[0] not in _TAG_WORDS and \
                not (after is rest[-1] and after.words[0] in _EXTENSIONS):
            title.extend(reading.words)  # "The English Patient", "Hindi Medium"
            continue
        break
    else:
        if title and len(rest) and rest[-1].kind == "word" and rest[-1].words[-1] in _EXTENSIONS and len(title) > 1:
            title.pop()
    return tuple(title)


def release_of(readings: list[Reading], tokens: tuple[str, ...] | None = None) -> Release:
    """The :class:`Release` the readings of one text say (see :func:`parse_release`).

    :param tokens: the text's search tokens; by default the readings' tokens.
    """
    season = season_last = episode = episode_last = year = None
    resolution = source = codec = None
    audio: dict[str, None] = {}
    languages: dict[str, None] = {}
    dual = multi = False
    for r in readings:
        if r.kind == "episode":
            if r.season is not None and (season is None or (season == r.season and episode is None)):
                if season is None:
                    season, season_last = r.season, r.season_last
                if r.episode is not None:
                    episode, episode_last = r.episode, r.episode_last
            elif r.season is None and episode is None:
                episode, episode_last = r.episode, r.episode_last
        elif r.kind == "year":
            year = int(r.words[0])  # the last one: "2001.A.Space.Odyssey.1968" is from 1968
        elif r.kind == "resolution":
            resolution = resolution or r.value
        elif r.kind == "source":
            source = source or r.value
        elif r.kind == "codec":
            codec = codec or r.value
        elif r.kind == "audio" and r.value:
            audio.setdefault(r.value, None)
        elif r.kind == "language" and r.value:
            languages.setdefault(r.value, None)
        dual = dual or r.kind == "dual"
        multi = multi or r.kind == "multi"
    return Release(title=_title(readings), year=year, season=season, season_last=season_last, episode=episode,
                   episode_last=episode_last, resolution=resolution, source=source, codec=codec,
                   audio=tuple(audio), languages=tuple(languages), dual_audio=dual, multi_audio=multi,
                   tokens=tokens if tokens is not None else tuple(dict.fromkeys(
                       token for reading in readings for token in reading.tokens)))


def _text_release(text: str) -> Release:
    """One text's release, with its search tokens: the readings' and the joined words' (see :func:`~mediabot.catalog.words.joined_words`)."""
    normalized = normalize(text)
    readings = _read_words(scan_normalized(normalized))
    tokens = dict.fromkeys(token for reading in readings for token in reading.tokens)
    for word in joined_words(normalized):
        for reading in _read_words(scan_normalized(word)):
            tokens.update(dict.fromkeys(reading.tokens))
    return release_of(readings, tuple(tokens))


def parse_release(*texts: str | None) -> Release:
    """Read a release name: title words, year, season/episode, resolution, source, codec, audio, languages.

    The catalogue reads every file name (and caption) with it when indexing,
    and search reads every query with it, so both agree on what a name says.

    >>> r = parse_release("Money.Heist.S02E05.720p.NF.WEBRip.Dual.Audio.[Hin-Eng].mkv")
    >>> r.title, r.season, r.episode, r.resolution, r.source, r.languages, r.dual_audio
    (('money', 'heist'), 2, 5, '720p', 'WEBRip', ('hi', 'en'), True)

    :param texts: the file name first, then other texts about the same file
        (its caption): a later text fills in only what the earlier ones did not
        say; languages and audio tags are collected from all.

    Work is linear in the length of the texts; no pattern is built from them.
    """
    releases = [_text_release(text) for text in texts if text]
    if len(releases) <= 1:
        return releases[0] if releases else Release()
    first, *others = releases
    merged = msgspec.structs.asdict(first)
    for other in others:
        if merged["season"] is None and other.season is not None:
            merged.update(season=other.season, season_last=other.season_last)
            if merged["episode"] is None:
                merged.update(episode=other.episode, episode_last=other.episode_last)
        elif merged["episode"] is None and other.episode is not None and other.season in (None, merged["season"]):
            merged.update(episode=other.episode, episode_last=other.episode_last)
        for field in ("title", "year", "resolution", "source", "codec"):
            merged[field] = merged[field] or getattr(other, field)
        merged["audio"] = tuple(dict.fromkeys((*merged["audio"], *other.audio)))
        merged["languages"] = tuple(dict.fromkeys((*merged["languages"], *other.languages)))
        merged["tokens"] = tuple(dict.fromkeys((*merged["tokens"], *other.tokens)))
        merged["dual_audio"] = merged["dual_audio"] or other.dual_audio
        merged["multi_audio"] = merged["multi_audio"] or other.multi_audio
    return Release(**merged)
