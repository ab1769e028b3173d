"""A realistic demo catalogue: films, series episodes, music and documents.

Deterministic (seeded) so transcripts in the docs stay stable. Names look like
what channels really post: dots or spaces as separators, years, resolutions,
sources, codecs, release groups, ``S01E02`` episode tags.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator

from mediabot.core.types import Media
from mediabot.testing.tl import fake_file_id

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


def demo_catalogue(n: int = 2400, seed: int = 7) -> Iterator[tuple[Media, str]]:
    """Yield ``n`` distinct ``(media, caption)`` pairs."""
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
        uid = _uid(name)
        # A well-formed file id the console's fake Telegram can send back: a
        # pressed search result arrives in the console instead of failing as gone.
        media_id = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=7).digest(), "big") or 1
        yield Media(kind=kind, file_id=fake_file_id(kind, media_id), file_unique_id=uid,
                    file_name=name, mime_type=mime, file_size=size, duration=dur or None,
                    width=w or None, height=h or None), caption
