"""A realistic catalogue of release names for relevance tests and the benchmark.

Real film and series titles, written the ways channels name files: dots,
spaces, underscores, brackets, scene tags, groups, extensions. Distractors
on purpose: titles contained in other titles (Alien, Aliens, Alien:
Covenant), remakes with the same title and another year, several copies of
one release in different resolutions, episodes of one series.

Everything is generated from a seeded RNG: the same catalogue every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mediabot import MediaFile, search_tokens
from mediabot.catalog.tokens import parse_release

# Title|year. Accents, apostrophes, colons, CJK and acronyms are kept as released.
FILMS = """\
The Dark Knight|2008
The Dark Knight Rises|2012
Batman Begins|2005
Batman|1989
The Batman|2022
Batman Returns|1992
Alien|1979
Aliens|1986
Alien³|1992
Alien: Covenant|2017
Alien: Resurrection|1997
Alien vs. Predator|2004
Predator|1987
The Predator|2018
Prey|2022
Toy Story|1995
Toy Story 2|1999
Toy Story 3|2010
Toy Story 4|2019
Frozen|2013
Frozen II|2019
Frozen|2010
Up|2009
Upgrade|2018
It|2017
It Chapter Two|2019
Her|2013
Heat|1995
Cars|2006
Cars 2|2011
Cars 3|2017
Inception|2010
Interstellar|2014
Tenet|2020
Memento|2000
Dunkirk|2017
Oppenheimer|2023
The Prestige|2006
Insomnia|2002
The Matrix|1999
The Matrix Reloaded|2003
The Matrix Revolutions|2003
The Matrix Resurrections|2021
Amélie|2001
Léon: The Professional|1994
La La Land|2016
Pokémon Detective Pikachu|2019
WALL·E|2008
E.T. the Extra-Terrestrial|1982
千と千尋の神隠し|2001
君の名は。|2016
となりのトトロ|1988
もののけ姫|1997
Parasite|2019
Oldboy|2003
Oldboy|2013
Dune|1984
Dune|2021
Dune: Part Two|2024
Blade Runner|1982
Blade Runner 2049|2017
2001: A Space Odyssey|1968
1917|2019
2012|2009
Se7en|1995
Fight Club|1999
Gladiator|2000
Gladiator II|2024
The Godfather|1972
The Godfather Part II|1974
The Godfather Part III|1990
Goodfellas|1990
Casino|1995
Casino Royale|2006
Skyfall|2012
Spectre|2015
No Time to Die|2021
Quantum of Solace|2008
Mission: Impossible|1996
Mission: Impossible – Fallout|2018
Mission: Impossible – Dead Reckoning Part One|2023
Top Gun|1986
Top Gun: Maverick|2022
Jaws|1975
Jurassic Park|1993
The Lost World: Jurassic Park|1997
Jurassic World|2015
Jurassic World Dominion|2022
Raiders of the Lost Ark|1981
Indiana Jones and the Temple of Doom|1984
Indiana Jones and the Last Crusade|1989
Back to the Future|1985
Back to the Future Part II|1989
Back to the Future Part III|1990
Star Wars|1977
The Empire Strikes Back|1980
Return of the Jedi|1983
Rogue One: A Star Wars Story|2016
The Lord of the Rings: The Fellowship of the Ring|2001
The Lord of the Rings: The Two Towers|2002
The Lord of the Rings: The Return of the King|2003
The Hobbit: An Unexpected Journey|2012
Harry Potter and the Philosopher's Stone|2001
Harry Potter and the Chamber of Secrets|2002
Harry Potter and the Prisoner of Azkaban|2004
Harry Potter and the Goblet of Fire|2005
Harry Potter and the Deathly Hallows Part 1|2010
Harry Potter and the Deathly Hallows Part 2|2011
Pirates of the Caribbean: The Curse of the Black Pearl|2003
Pirates of the Caribbean: Dead Man's Chest|2006
Spider-Man|2002
Spider-Man 2|2004
Spider-Man: Homecoming|2017
Spider-Man: No Way Home|2021
Spider-Man: Into the Spider-Verse|2018
The Amazing Spider-Man|2012
Iron Man|2008
Iron Man 2|2010
Iron Man 3|2013
The Avengers|2012
Avengers: Age of Ultron|2015
Avengers: Infinity War|2018
Avengers: Endgame|2019
Captain America: The First Avenger|2011
Captain America: Civil War|2016
Thor|2011
Thor: Ragnarok|2017
Black Panther|2018
Guardians of the Galaxy|2014
Guardians of the Galaxy Vol. 2|2017
Doctor Strange|2016
Ant-Man|2015
Deadpool|2016
Deadpool 2|2018
Deadpool & Wolverine|2024
Logan|2017
X-Men|2000
X-Men: Days of Future Past|2014
Joker|2019
Joker: Folie à Deux|2024
Wonder Woman|2017
Man of Steel|2013
Aquaman|2018
The Shawshank Redemption|1994
The Green Mile|1999
Forrest Gump|1994
Pulp Fiction|1994
Reservoir Dogs|1992
Kill Bill: Vol. 1|2003
Kill Bill: Vol. 2|2004
Django Unchained|2012
Inglourious Basterds|2009
Once Upon a Time in Hollywood|2019
The Silence of the Lambs|1991
Schindler's List|1993
Saving Private Ryan|1998
Titanic|1997
Avatar|2009
Avatar: The Way of Water|2022
Terminator 2: Judgment Day|1991
The Terminator|1984
Aliens in the Attic|2009
The Departed|2006
The Wolf of Wall Street|2013
Shutter Island|2010
Catch Me If You Can|2002
The Revenant|2015
The Social Network|2010
Gone Girl|2014
Zodiac|2007
The Truman Show|1998
Eternal Sunshine of the Spotless Mind|2004
The Grand Budapest Hotel|2014
Whiplash|2014
Everything Everywhere All at Once|2022
Get Out|2017
Us|2019
Nope|2022
Hereditary|2018
Midsommar|2019
The Shining|1980
A Clockwork Orange|1971
Full Metal Jacket|1987
Apocalypse Now|1979
Taxi Driver|1976
Raging Bull|1980
The Irishman|2019
No Country for Old Men|2007
Fargo|1996
The Big Lebowski|1998
There Will Be Blood|2007
Mad Max: Fury Road|2015
Furiosa: A Mad Max Saga|2024
Mad Max|1979
The Lion King|1994
The Lion King|2019
Aladdin|1992
Aladdin|2019
Beauty and the Beast|1991
Beauty and the Beast|2017
Finding Nemo|2003
Finding Dory|2016
Inside Out|2015
Inside Out 2|2024
Coco|2017
Ratatouille|2007
Monsters, Inc.|2001
The Incredibles|2004
Incredibles 2|2018
Shrek|2001
Shrek 2|2004
Kung Fu Panda|2008
How to Train Your Dragon|2010
Despicable Me|2010
Minions|2015
Gravity|2013
The Martian|2015
Arrival|2016
Sicario|2015
Prisoners|2013
Enemy|2013
Edge of Tomorrow|2014
Oblivion|2013
Looper|2012
District 9|2009
Ex Machina|2014
Annihilation|2018
Children of Men|2006
V for Vendetta|2005
The Fifth Element|1997
Léon|1994
Lucy|2014
Taken|2008
John Wick|2014
John Wick: Chapter 2|2017
John Wick: Chapter 3 – Parabellum|2019
John Wick: Chapter 4|2023
The Bourne Identity|2002
The Bourne Supremacy|2004
The Bourne Ultimatum|2007
Die Hard|1988
Die Hard 2|1990
Die Hard with a Vengeance|1995
Speed|1994
Point Break|1991
Point Break|2015
The Fast and the Furious|2001
Fast Five|2011
Furious 7|2015
Ocean's Eleven|2001
Ocean's Twelve|2004
Ocean's Eight|2018
The Sixth Sense|1999
Unbreakable|2000
Split|2016
Glass|2019
Knives Out|2019
Glass Onion: A Knives Out Mystery|2022
Baby Driver|2017
Drive|2011
Nightcrawler|2014
Whiplash|2013
Birdman|2014
Amadeus|1984
Rocky|1976
Creed|2015
Rambo|2008
Scarface|1983
Heat Wave|2022
The Departed Soul|2015
Cidade de Deus|2002
El laberinto del fauno|2006
Der Untergang|2004
Das Boot|1981
Intouchables|2011
La Haine|1995
Le Fabuleux Destin d'Amélie Poulain|2001
Crouching Tiger, Hidden Dragon|2000
Ляля Тополя|2021
Солярис|1972
Andrei Rublev|1966
"""

# Series: title|first year|seasons|episodes per season
SERIES = """\
Breaking Bad|2008|5|10
Better Call Saul|2015|4|10
Game of Thrones|2011|6|10
House of the Dragon|2022|2|10
The Office|2005|4|10
The Office|2001|2|6
Friends|1994|5|10
Stranger Things|2016|4|10
Dark|2017|3|10
The Witcher|2019|3|10
Agents of S.H.I.E.L.D.|2013|3|10
The Boys|2019|4|10
The Mandalorian|2019|3|10
Sherlock|2010|4|3
Chernobyl|2019|1|5
True Detective|2014|3|10
The Crown|2016|4|10
Peaky Blinders|2013|5|6
Money Heist|2017|3|10
La Casa de Papel|2017|2|10
Squid Game|2021|2|10
Succession|2018|4|10
Severance|2022|2|10
The Last of Us|2023|2|10
Westworld|2016|3|10
Mr. Robot|2015|4|10
Fargo|2014|3|10
Lost|2004|4|10
Dexter|2006|4|10
The Bear|2022|3|10
Shōgun|2024|1|10
進撃の巨人|2013|3|10
"""

MUSIC = """\
Queen|Bohemian Rhapsody
Queen|Don't Stop Me Now
Daft Punk|Get Lucky
Daft Punk|Harder Better Faster Stronger
Björk|Jóga
Sigur Rós|Hoppípolla
Radiohead|Paranoid Android
Radiohead|Karma Police
Nirvana|Smells Like Teen Spirit
Metallica|Nothing Else Matters
Beyoncé|Halo
Adele|Rolling in the Deep
Adele|Someone Like You
The Weeknd|Blinding Lights
Stromae|Alors on danse
Édith Piaf|La Vie en rose
Céline Dion|My Heart Will Go On
Hans Zimmer|Time
Hans Zimmer|Interstellar Main Theme
Ludovico Einaudi|Nuvole Bianche
"""

BOOKS = """\
Dune|Frank Herbert
The Hobbit|J.R.R. Tolkien
Harry Potter and the Philosopher's Stone|J.K. Rowling
Nineteen Eighty-Four|George Orwell
Crime and Punishment|Fyodor Dostoevsky
Cien años de soledad|Gabriel García Márquez
Le Petit Prince|Antoine de Saint-Exupéry
Les Misérables|Victor Hugo
The Martian|Andy Weir
Project Hail Mary|Andy Weir
"""

RESOLUTIONS = ["480p", "720p", "1080p", "2160p"]
SOURCES = ["BluRay", "WEB-DL", "WEBRip", "BRRip", "HDTV", "AMZN.WEB-DL", "NF.WEB-DL", "BDRip"]
CODECS = ["x264", "x265", "HEVC", "H.264", "10bit.x265", "AAC.x264"]
GROUPS = ["YTS", "RARBG", "GalaxyRG", "PSA", "SPARKS", "NTb", "FLUX", "TGx", "EVO", "QxR", "Pahe", "MkvCage"]
CHANNEL_TAGS = ["@MoviesHub", "@CinemaBox", "[TG@FilmZone]", "@HDFilms", "@SeriesWorld"]


@dataclass(frozen=True)
class Release:
    """What a file is, independently of how it is named: the key a labelled query points to."""

    title: str
    year: int | None = None
    season: int | None = None
    episode: int | None = None
    resolution: str | None = None


def parse_lines(block: str) -> list[list[str]]:
    return [line.split("|") for line in block.strip().splitlines()]


def _dotted(title: str) -> str:
    cleaned = title.replace(": ", " ").replace(" – ", " ").replace("'", "").replace(",", "").replace("·", "-")
    return ".".join(cleaned.split())


def film_name(rng: random.Random, title: str, year: int, resolution: str) -> str:
    style = rng.randrange(6)
    source, codec, group = rng.choice(SOURCES), rng.choice(CODECS), rng.choice(GROUPS)
    if style == 0:
        return f"{_dotted(title)}.{year}.{resolution}.{source}.{codec}-{group}.mkv"
    if style == 1:
        return f"{title} ({year}) [{resolution}] [{source}] [{group}].mp4"
    if style == 2:
        return f"{_dotted(title).replace('.', '_')}_{year}_{resolution}_{group}.mkv"
    if style == 3:
        return f"{rng.choice(CHANNEL_TAGS)} {title} {year} {resolution} {source}.mkv"
    if style == 4:
        return f"{title}.{year}.{resolution}.{group}.mp4"
    return f"[{group}] {title} - {year} - {resolution} {codec}.mkv"


def episode_name(rng: random.Random, title: str, season: int, episode: int, resolution: str) -> str:
    style = rng.randrange(5)
    source, codec, group = rng.choice(SOURCES), rng.choice(CODECS), rng.choice(GROUPS)
    if style == 0:
        return f"{_dotted(title)}.S{season:02d}E{episode:02d}.{resolution}.{source}.{codec}-{group}.mkv"
    if style == 1:
        return f"{title} S{season:02d}E{episode:02d} {resolution} {source}.mkv"
    if style == 2:
        return f"{_dotted(title).replace('.', '_')}_S{season:02d}E{episode:02d}_{resolution}.mkv"
    if style == 3:
        return f"[{group}] {title} - {season}x{episode:02d} [{resolution}].mkv"
    return f"{rng.choice(CHANNEL_TAGS)} {title} S{season:02d} E{episode:02d} {resolution}.mp4"


def make_file(name: str, number: int, start: datetime, kind: str = "video") -> MediaFile:
    info = parse_release(name)
    return MediaFile(
        file_unique_id=f"u{number}", file_id=f"f{number}", kind=kind, file_name=name, size=700_000_000 + number,
        resolution=info.resolution, season=info.season, episode=info.episode, year=info.year,
        tokens=search_tokens(name), indexed_at=start + timedelta(seconds=number))


def build_catalogue(seed: int = 11) -> tuple[list[MediaFile], dict[str, Release]]:
    """The files, and the release each file is (by catalogue id)."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    files: list[MediaFile] = []
    releases: dict[str, Release] = {}

    def add(name: str, release: Release, kind: str = "video") -> None:
        file = make_file(name, len(files), start, kind)
        files.append(file)
        releases[file.id] = release

    for title, year in parse_lines(FILMS):
        # One to three copies of a release, each in its own resolution.
        for resolution in sorted(rng.sample(RESOLUTIONS, rng.randint(1, 3)), key=RESOLUTIONS.index):
            add(film_name(rng, title, int(year), resolution), Release(title, int(year), resolution=resolution))
    for title, year, seasons, episodes in parse_lines(SERIES):
        for season in range(1, int(seasons) + 1):
            for episode in range(1, int(episodes) + 1):
                for resolution in rng.sample(["720p", "1080p"], rng.randint(1, 2)):
                    add(episode_name(rng, title, season, episode, resolution),
                        Release(title, int(year), season, episode, resolution))
    for artist, song in parse_lines(MUSIC):
        add(f"{artist} - {song}.mp3", Release(song), kind="audio")
        add(f"{song} ({artist}) [320kbps].mp3", Release(song), kind="audio")
    for title, author in parse_lines(BOOKS):
        add(f"{title} - {author}.epub", Release(title), kind="document")
        add(f"{author} - {title} (pdf).pdf", Release(title), kind="document")
    return files, releases


def generated_names(count: int, seed: int = 7) -> list[str]:
    """``count`` release names for the benchmark, made of the words of real titles.

    Never a real title itself: a generated copy of a labelled release would
    turn a "resolution it has no copy of" label false. Words are shared, so
    they are distractors: "Dark Matrix Knight", "Matrix (1964)", a series
    called "Black Dragon".
    """
    rng = random.Random(seed)
    films = {_dotted(t).lower() for t, _ in parse_lines(FILMS)} | {_dotted(t).lower() for t, *_ in parse_lines(SERIES)}
    words = sorted({w for t, _ in parse_lines(FILMS) for w in _dotted(t).split(".") if w.isalpha() and len(w) > 2})
    names: list[str] = []
    while len(names) < count:
        title = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
        if _dotted(title).lower() in films:
            continue
        if rng.random() < 0.25:
            names.append(episode_name(rng, title, rng.randint(1, 8), rng.randint(1, 12), rng.choice(RESOLUTIONS)))
        else:
            names.append(film_name(rng, title, rng.randint(1950, 2025), rng.choice(RESOLUTIONS)))
    return names
