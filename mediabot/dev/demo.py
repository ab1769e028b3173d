"""A realistic demo catalogue: films, series episodes, music and documents.

Deterministic (seeded) so transcripts in the docs stay stable. Names look like
what channels really post: dots or spaces as separators, years, resolutions,
sources, codecs, release groups, ``S01E02`` episode tags. After the generated
names come a few well-known titles, the ones the bot's hints and the docs
suggest typing ("dune 2021", "the office s02e05", "interstellar"...), so every
example a newcomer is given finds something.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from mediabot.core.types import Media
from mediabot.testing.tl import fake_file_id

if TYPE_CHECKING:
    from mediabot.core.app import App

DEMO_CHANNEL = -1001000000001  # a well-formed channel id (-100 + 10 digits)

FILM_WORDS = [
    "Silent", "Harbor", "Winter", "Echoes", "Crimson", "Tide", "Last", "Orbit", "Northern", "Lights",
    "Glass", "Garden", "Iron", "Valley", "Midnight", "Express", "Paper", "Moon", "Broken", "Arrow",
    "Golden", "Hour", "Desert", "Rose", "Hidden", "Figures", "Red", "Planet", "Velvet", "Storm",
    "Lost", "City", "Blue", "Horizon", "Dark", "Water", "First", "Light", "Wild", "Heart",
]
SERIES = ["The Long Road", "Station Eleven", "Night Shift", "Cold Case Files", "Blue Harbor",
          "Kings of Nowhere", "The Archive", "Small Town Secrets", "Deep Space Nine Lives", "Office Hours"]
ARTISTS = ["Aurora Lane", "The Midnight Owls", "Kavi Rao", "Lumen", "Sara Okafor", "Northbound"]
RESOLUTIONS = [("480p", 854, 480), ("720p", 1280, 720), ("1080p", 1920, 1080), ("2160p", 3840, 2160)]
SOURCES = ["WEB-DL", "BluRay", "WEBRip", "HDTV", "BRRip"]
CODECS = ["x264", "x265", "HEVC", "AV1", "H.264"]
AUDIO = ["AAC", "DDP5.1", "AC3", "Atmos", "FLAC"]
GROUPS = ["NTb", "FLUX", "RARBG", "YTS", "GalaxyRG", "PSA"]
LANGS = ["", "", "", "Hindi", "Tamil", "Dual Audio", "Multi"]
GENERATED = 2400
SEED_BATCH = 300  # files per write: each stays well inside a database's operation time limit
# (file name, caption, minutes): what the hints and docs/search.md name, so their examples find results.
WELL_KNOWN = [
    ("Dune.2021.1080p.WEB-DL.DDP5.1.Atmos.x264-NTb.mkv", "Dune (2021) 1080p", 155),
    ("Dune.2021.2160p.BluRay.x265.HDR.Atmos-FLUX.mkv", "Dune (2021) 2160p", 155),
    ("Dune 1984 720p BluRay x264-YTS.mkv", "Dune (1984) 720p", 137),
    ("Dune.Part.Two.2024.1080p.WEB-DL.DDP5.1.x265-GalaxyRG.mkv", "Dune: Part Two (2024) 1080p", 166),
    ("The.Office.US.S02E04.The.Fire.720p.WEB-DL.x264-NTb.mkv", "The Office S02E04", 22),
    ("The.Office.US.S02E05.Halloween.720p.WEB-DL.x264-NTb.mkv", "The Office S02E05", 22),
    ("The.Office.US.S02E05.Halloween.1080p.BluRay.x265-PSA.mkv", "The Office S02E05", 22),
    ("The.Office.US.S02E06.The.Fight.720p.WEB-DL.x264-NTb.mkv", "The Office S02E06", 22),
    ("Interstellar.2014.1080p.BluRay.DDP5.1.x264-YTS.mkv", "Interstellar (2014) 1080p", 169),
    ("Interstellar 2014 2160p UHD BluRay x265-PSA.mkv", "Interstellar (2014) 2160p", 169),
    ("The.Matrix.1999.1080p.BluRay.x264-RARBG.mkv", "The Matrix (1999) 1080p", 136),
    ("The.Matrix.Reloaded.2003.720p.BluRay.x264-YTS.mkv", "The Matrix Reloaded (2003) 720p", 138),
]


def _uid(seed: str) -> str:
    return "AgAD" + hashlib.blake2b(seed.encode(), digest_size=9).hexdigest()


def _sep(rng: random.Random) -> str:
    return rng.choice([".", ".", " ", "_"])


def _film(rng: random.Random) -> tuple[str, str, int, int, int]:
    title = " ".join(rng.sample(FILM_WORDS, rng.choice([1, 2, 2, 3])))
    year = rng.randint(1972, 2026)
    res, w, h = rng.choice(RESOLUTIONS)
    parts = [*title.split(), str(year), *([rng.choice(LANGS)] if rng.random() < 0.3 else []),
             res, rng.choice(SOURCES), rng.choice(AUDIO), rng.choice(CODECS)]
    sep = _sep(rng)
    name = sep.join(p for p in parts if p) + f"-{rng.choice(GROUPS)}.mkv"
    caption = f"{title} ({year}) {res}"
    return name, caption, w, h, rng.randint(80, 180) * 60


def _episode(rng: random.Random) -> tuple[str, str, int, int, int]:
    show = rng.choice(SERIES)
    season, episode = rng.randint(1, 6), rng.randint(1, 12)
    res, w, h = rng.choice(RESOLUTIONS[1:])
    tag = rng.choice([f"S{season:02d}E{episode:02d}", f"S{season:02d}E{episode:02d}",
                      f"{season}x{episode:02d}"])
    sep = _sep(rng)
    name = sep.join([*show.split(), tag, res, rng.choice(SOURCES), rng.choice(CODECS)]) + \
        f"-{rng.choice(GROUPS)}.mkv"
    return name, f"{show} {tag}", w, h, rng.randint(22, 60) * 60


def demo_catalogue(n: int = GENERATED, seed: int = 7) -> Iterator[tuple[Media, str]]:
    """Yield ``n`` distinct generated ``(media, caption)`` pairs, then the :data:`WELL_KNOWN` titles."""
    yield from _generated(n, seed)
    rng = random.Random(seed)
    for name, caption, minutes in WELL_KNOWN:
        res = next((r for r in RESOLUTIONS if r[0] in name), RESOLUTIONS[2])
        yield _media(name, "video", "video/x-matroska", minutes * 60 * rng.randint(120_000, 900_000),
                     minutes * 60, res[1], res[2]), caption


def _media(name: str, kind: str, mime: str, size: int, dur: int, w: int, h: int) -> Media:
    # A well-formed file id the console's fake Telegram can send back: a
    # pressed search result arrives in the console instead of failing as gone.
    media_id = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=7).digest(), "big") or 1
    return Media(kind=kind, file_id=fake_file_id(kind, media_id), file_unique_id=_uid(name),
                 file_name=name, mime_type=mime, file_size=size, duration=dur or None,
                 width=w or None, height=h or None)


def _generated(n: int, seed: int) -> Iterator[tuple[Media, str]]:
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < n:
        roll = rng.random()
        if roll < 0.45:
            name, caption, w, h, dur = _film(rng)
            kind, mime = ("video", "video/x-matroska")
        elif roll < 0.85:
            name, caption, w, h, dur = _episode(rng)
            kind, mime = ("video", "video/x-matroska")
        elif roll < 0.95:
            artist = rng.choice(ARTISTS)
            track = " ".join(rng.sample(FILM_WORDS, 2))
            name = f"{artist} - {track} ({rng.randint(1990, 2026)}).{rng.choice(['mp3', 'flac'])}"
            caption, w, h, dur = f"{artist} — {track}", 0, 0, rng.randint(150, 400)
            kind, mime = ("audio", "audio/mpeg" if name.endswith("mp3") else "audio/flac")
        else:
            title = " ".join(rng.sample(FILM_WORDS, 3))
            name = f"{title.replace(' ', '_')}_{rng.choice(['Guide', 'Notes', 'Subtitles'])}.{rng.choice(['pdf', 'zip', 'srt'])}"
            caption, w, h, dur = title, 0, 0, 0
            kind, mime = ("document", {"pdf": "application/pdf", "zip": "application/zip",
                                       "srt": "application/x-subrip"}[name.rsplit(".", 1)[1]])
        if name in seen:
            continue
        seen.add(name)
        size = (dur * rng.randint(120_000, 900_000)) if kind == "video" else rng.randint(200_000, 40_000_000)
        yield _media(name, kind, mime, size, dur, w, h), caption


async def seed_demo(app: App, out: TextIO) -> None:
    """Put the demo catalogue in the database (idempotent: duplicates are counted, not added).

    A catalogue seeded by an older console, without the newer titles, gets them added.
    """
    from mediabot.catalog.models import MediaFile
    from mediabot.core.types import Chat, Message

    files = app.files
    if files is None:
        out.write("console › --demo needs MongoDB; the catalogue was not seeded\n")
        return
    items = list(demo_catalogue())
    already = await files.count({"chat_id": DEMO_CHANNEL})
    if already >= len(items):
        out.write(f"console › demo catalogue: {await files.count()} files in the catalogue\n")
        return
    channel = Chat(id=DEMO_CHANNEL, type="channel", title="Demo Library")
    batch = [MediaFile.from_message(Message(id=i, chat=channel, date=1_700_000_000 + i, media=media,
                                            caption=caption))
             for i, (media, caption) in enumerate(items, 1)]
    inserted = duplicates = 0
    for start in range(0, len(batch), SEED_BATCH):
        report = await files.insert_batch(batch[start:start + SEED_BATCH])
        inserted, duplicates = inserted + report.inserted, duplicates + report.duplicates
    total = await files.count()
    # The first search must find the demo: let this process's index take it in first (a slow
    # machine needs longer than the index's usual lag for 2,412 files at once).
    search = app.instances.get("search")
    if inserted and search is not None and hasattr(search, "sync"):
        try:
            await search.sync(timeout=60.0)
        except Exception as exc:  # noqa: BLE001 - the console still starts; searches catch up
            out.write(f"console › the search index is still taking in the demo: {type(exc).__name__}\n")
    out.write(f"console › demo catalogue: {inserted} files added, {duplicates} already there, "
              f"{total} in the catalogue\n")
