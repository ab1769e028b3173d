"""Labelled queries: what people type, and the file they mean.

Each line is ``category: query => title|year[|SxxEyy][|resolution]``. The
label names a release of :mod:`release_catalogue`; the file that must be found is
that release's copy in the named resolution, or its first (oldest) copy when
no resolution is named, so a copy chosen by luck does not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mediabot import MediaFile

from release_catalogue import Release

LABELLED = """\
exact: the dark knight => The Dark Knight|2008
exact: batman begins => Batman Begins|2005
exact: interstellar => Interstellar|2014
exact: inception => Inception|2010
exact: the matrix => The Matrix|1999
exact: parasite => Parasite|2019
exact: oppenheimer => Oppenheimer|2023
exact: fight club => Fight Club|1999
exact: pulp fiction => Pulp Fiction|1994
exact: the godfather => The Godfather|1972
exact: jurassic park => Jurassic Park|1993
exact: forrest gump => Forrest Gump|1994
exact: the shawshank redemption => The Shawshank Redemption|1994
exact: whiplash 2014 => Whiplash|2014
exact: gravity => Gravity|2013
exact: the martian => The Martian|2015
exact: arrival => Arrival|2016
exact: get out => Get Out|2017
exact: the shining => The Shining|1980
exact: mad max fury road => Mad Max: Fury Road|2015
exact: john wick => John Wick|2014
exact: knives out => Knives Out|2019
exact: the grand budapest hotel => The Grand Budapest Hotel|2014
exact: no country for old men => No Country for Old Men|2007
exact: avengers endgame => Avengers: Endgame|2019
exact: blinding lights => Blinding Lights
exact: project hail mary => Project Hail Mary
exact: chernobyl s01e01 => Chernobyl|2019|S01E01
misspelling: the dark knigt => The Dark Knight|2008
misspelling: intersteller => Interstellar|2014
misspelling: inceptoin => Inception|2010
misspelling: paraiste => Parasite|2019
misspelling: oppenhiemer => Oppenheimer|2023
misspelling: gladiater => Gladiator|2000
misspelling: shawshenk redemption => The Shawshank Redemption|1994
misspelling: forest gump => Forrest Gump|1994
misspelling: jurasic park => Jurassic Park|1993
misspelling: godfater => The Godfather|1972
misspelling: terminater 2 => Terminator 2: Judgment Day|1991
misspelling: the matrx => The Matrix|1999
misspelling: avengers endgme => Avengers: Endgame|2019
misspelling: guardians of the galaxi => Guardians of the Galaxy|2014
misspelling: pirates of the carribean black pearl => Pirates of the Caribbean: The Curse of the Black Pearl|2003
misspelling: harry poter prisoner of azkaban => Harry Potter and the Prisoner of Azkaban|2004
misspelling: inglorious basterds => Inglourious Basterds|2009
misspelling: shutter islnd => Shutter Island|2010
misspelling: the revenent => The Revenant|2015
misspelling: eternal sunshine spotles mind => Eternal Sunshine of the Spotless Mind|2004
misspelling: breakin bad s01e03 => Breaking Bad|2008|S01E03
misspelling: stranger thigns s02e04 => Stranger Things|2016|S02E04
misspelling: game of throns s03e09 => Game of Thrones|2011|S03E09
misspelling: peaky blinder s02e01 => Peaky Blinders|2013|S02E01
misspelling: the mandalorain s01e02 => The Mandalorian|2019|S01E02
misspelling: sherlok s02e01 => Sherlock|2010|S02E01
misspelling: westwrold s01e01 => Westworld|2016|S01E01
misspelling: bohemian rapsody => Bohemian Rhapsody
misspelling: nothing else maters => Nothing Else Matters
misspelling: scarfce => Scarface|1983
misspelling: ratatouile => Ratatouille|2007
misspelling: the incredables => The Incredibles|2004
misspelling: deadpol => Deadpool|2016
misspelling: midsomar => Midsommar|2019
misspelling: hereditery => Hereditary|2018
misspelling: annihilaton => Annihilation|2018
misspelling: nightcrawller => Nightcrawler|2014
misspelling: amadeos => Amadeus|1984
misspelling: djnago unchained => Django Unchained|2012
misspelling: oceans elevn => Ocean's Eleven|2001
misspelling: the wolf of wal street => The Wolf of Wall Street|2013
misspelling: catch me if you cna => Catch Me If You Can|2002
misspelling: schindlers lsit => Schindler's List|1993
misspelling: saving privte ryan => Saving Private Ryan|1998
misspelling: kung fu pnda => Kung Fu Panda|2008
misspelling: despicible me => Despicable Me|2010
transposition: teh dark knight => The Dark Knight|2008
transposition: intrestellar => Interstellar|2014
transposition: incpetion => Inception|2010
transposition: the matirx => The Matrix|1999
transposition: jurassic prak => Jurassic Park|1993
transposition: gladaitor => Gladiator|2000
transposition: oldbyo 2003 => Oldboy|2003
transposition: memetno => Memento|2000
transposition: dunkrik => Dunkirk|2017
transposition: skfyall => Skyfall|2012
transposition: spectr => Spectre|2015
transposition: braeking bad s04e02 => Breaking Bad|2008|S04E02
transposition: the wtcher s01e05 => The Witcher|2019|S01E05
transposition: succesison s03e10 => Succession|2018|S03E10
transposition: sevreance s01e07 => Severance|2022|S01E07
transposition: chernboyl s01e04 => Chernobyl|2019|S01E04
transposition: avatra way of water => Avatar: The Way of Water|2022
transposition: black panhter => Black Panther|2018
transposition: doctor stragne => Doctor Strange|2016
transposition: the departde => The Departed|2006
transposition: zodaic => Zodiac|2007
transposition: prisonres 2013 => Prisoners|2013
transposition: sicraio => Sicario|2015
transposition: baby drvier => Baby Driver|2017
transposition: rolling in the deep aedle => Rolling in the Deep
reordered: knight dark => The Dark Knight|2008
reordered: rises dark knight => The Dark Knight Rises|2012
reordered: begins batman => Batman Begins|2005
reordered: park jurassic => Jurassic Park|1993
reordered: club fight => Fight Club|1999
reordered: endgame avengers => Avengers: Endgame|2019
reordered: war infinity avengers => Avengers: Infinity War|2018
reordered: ragnarok thor => Thor: Ragnarok|2017
reordered: hollywood once upon a time in => Once Upon a Time in Hollywood|2019
reordered: wick john chapter 4 => John Wick: Chapter 4|2023
reordered: fury road mad max => Mad Max: Fury Road|2015
reordered: reckoning dead mission impossible => Mission: Impossible – Dead Reckoning Part One|2023
reordered: bad breaking s05e08 => Breaking Bad|2008|S05E08
reordered: s02e03 stranger things => Stranger Things|2016|S02E03
reordered: s01e06 the last of us => The Last of Us|2023|S01E06
reordered: thrones game s06e09 => Game of Thrones|2011|S06E09
reordered: lucky get daft punk => Get Lucky
reordered: weir andy martian => The Martian
reordered: maverick top gun => Top Gun: Maverick|2022
reordered: onion glass knives out => Glass Onion: A Knives Out Mystery|2022
partial: the dark kni => The Dark Knight|2008
partial: interst => Interstellar|2014
partial: incep => Inception|2010
partial: oppenhe => Oppenheimer|2023
partial: jurassic pa => Jurassic Park|1993
partial: the godfather part i => The Godfather Part II|1974
partial: shawshank red => The Shawshank Redemption|1994
partial: forrest gu => Forrest Gump|1994
partial: the grand budapest ho => The Grand Budapest Hotel|2014
partial: everything everywhere all at on => Everything Everywhere All at Once|2022
partial: eternal sunshine of the spotl => Eternal Sunshine of the Spotless Mind|2004
partial: breaking bad s03e0 => Breaking Bad|2008|S03E01
partial: no country for old m => No Country for Old Men|2007
partial: how to train your dr => How to Train Your Dragon|2010
partial: guardians of the gal => Guardians of the Galaxy|2014
partial: spider-man into the spider-ve => Spider-Man: Into the Spider-Verse|2018
partial: harry potter and the goblet of fi => Harry Potter and the Goblet of Fire|2005
partial: once upon a time in holl => Once Upon a Time in Hollywood|2019
partial: smells like teen spi => Smells Like Teen Spirit
partial: crouching tiger hidden dra => Crouching Tiger, Hidden Dragon|2000
partial: the wolf of wall st => The Wolf of Wall Street|2013
partial: nuvole bian => Nuvole Bianche
episode: breaking bad s02e05 => Breaking Bad|2008|S02E05
episode: breaking bad S2 E5 => Breaking Bad|2008|S02E05
episode: breaking bad 2x05 => Breaking Bad|2008|S02E05
episode: breaking bad season 2 episode 5 => Breaking Bad|2008|S02E05
episode: game of thrones s01e01 => Game of Thrones|2011|S01E01
episode: game of thrones S6E9 => Game of Thrones|2011|S06E09
episode: the office s02e03 => The Office|2005|S02E03
episode: the office 2001 s01e02 => The Office|2001|S01E02
episode: friends s05e08 => Friends|1994|S05E08
episode: dark s03e08 => Dark|2017|S03E08
episode: dark S1 E1 => Dark|2017|S01E01
episode: stranger things s04e01 => Stranger Things|2016|S04E01
episode: the boys s03e06 => The Boys|2019|S03E06
episode: squid game s02e01 => Squid Game|2021|S02E01
episode: the bear s02e07 => The Bear|2022|S02E07
episode: fargo s02e04 => Fargo|2014|S02E04
episode: lost s04e05 => Lost|2004|S04E05
episode: dexter season 3 episode 2 => Dexter|2006|S03E02
episode: true detective s01e08 => True Detective|2014|S01E08
episode: money heist s03e01 => Money Heist|2017|S03E01
episode: mr robot s04e10 => Mr. Robot|2015|S04E10
episode: the crown 3x04 => The Crown|2016|S03E04
punctuation: The.Dark.Knight.2008 => The Dark Knight|2008
punctuation: [Inception] => Inception|2010
punctuation: Jurassic_Park_1993 => Jurassic Park|1993
punctuation: (Parasite) (2019) => Parasite|2019
punctuation: Breaking.Bad.S02E05 => Breaking Bad|2008|S02E05
punctuation: Game_of_Thrones_S03E09 => Game of Thrones|2011|S03E09
punctuation: "the matrix" => The Matrix|1999
punctuation: spider-man: no way home => Spider-Man: No Way Home|2021
punctuation: mission: impossible - fallout => Mission: Impossible – Fallout|2018
punctuation: ocean's twelve => Ocean's Twelve|2004
punctuation: harry potter and the philosopher's stone => Harry Potter and the Philosopher's Stone|2001
punctuation: monsters, inc. => Monsters, Inc.|2001
punctuation: kill bill: vol. 2 => Kill Bill: Vol. 2|2004
punctuation: guardians.of.the.galaxy.vol.2 => Guardians of the Galaxy Vol. 2|2017
punctuation: x-men days of future past => X-Men: Days of Future Past|2014
punctuation: ant man => Ant-Man|2015
punctuation: wall-e => WALL·E|2008
punctuation: deadpool & wolverine => Deadpool & Wolverine|2024
punctuation: mr. robot s01e01 => Mr. Robot|2015|S01E01
punctuation: se7en => Se7en|1995
accents: amelie => Amélie|2001
accents: leon the professional => Léon: The Professional|1994
accents: pokemon detective pikachu => Pokémon Detective Pikachu|2019
accents: joker folie a deux => Joker: Folie à Deux|2024
accents: bjork joga => Jóga
accents: sigur ros hoppipolla => Hoppípolla
accents: edith piaf la vie en rose => La Vie en rose
accents: beyonce halo => Halo
accents: les miserables => Les Misérables
accents: cien anos de soledad => Cien años de soledad
accents: shogun s01e03 => Shōgun|2024|S01E03
accents: le fabuleux destin d'amelie poulain => Le Fabuleux Destin d'Amélie Poulain|2001
accents: Amélie 2001 => Amélie|2001
accents: AMÉLIE => Amélie|2001
accents: céline dion my heart will go on => My Heart Will Go On
article: dark knight => The Dark Knight|2008
article: matrix => The Matrix|1999
article: godfather part 2 => The Godfather Part II|1974
article: the parasite => Parasite|2019
article: the inception => Inception|2010
article: lord of the rings fellowship => The Lord of the Rings: The Fellowship of the Ring|2001
article: lord of the rings return of the king => The Lord of the Rings: The Return of the King|2003
article: empire strikes back => The Empire Strikes Back|1980
article: shining => The Shining|1980
article: truman show => The Truman Show|1998
article: big lebowski => The Big Lebowski|1998
article: social network => The Social Network|2010
article: a clockwork orange => A Clockwork Orange|1971
article: clockwork orange => A Clockwork Orange|1971
article: fifth element => The Fifth Element|1997
article: bourne identity => The Bourne Identity|2002
article: witcher s02e03 => The Witcher|2019|S02E03
article: boys s01e01 => The Boys|2019|S01E01
article: office s01e01 2005 => The Office|2005|S01E01
article: hobbit an unexpected journey => The Hobbit: An Unexpected Journey|2012
missing resolution: the dark knight 1080p => The Dark Knight|2008
missing resolution: interstellar 480p => Interstellar|2014
missing resolution: fight club 1080p => Fight Club|1999
missing resolution: inception 4k => Inception|2010
missing resolution: parasite 720p => Parasite|2019
missing resolution: breaking bad s02e05 2160p => Breaking Bad|2008|S02E05
missing resolution: game of thrones s01e01 480p => Game of Thrones|2011|S01E01
missing resolution: the matrix 1999 720p => The Matrix|1999
missing resolution: dune 2021 1080p => Dune|2021
missing resolution: joker 2019 4k => Joker|2019
resolution: the dark knight 2160p => The Dark Knight|2008|2160p
resolution: the dark knight 720p => The Dark Knight|2008|720p
resolution: batman begins 1080p => Batman Begins|2005|1080p
resolution: breaking bad s02e05 1080p => Breaking Bad|2008|S02E05|1080p
resolution: the matrix 1080p => The Matrix|1999|1080p
year: dune 1984 => Dune|1984
year: dune 2021 => Dune|2021
year: oldboy 2013 => Oldboy|2013
year: the lion king 2019 => The Lion King|2019
year: aladdin 1992 => Aladdin|1992
year: beauty and the beast 2017 => Beauty and the Beast|2017
year: point break 1991 => Point Break|1991
year: frozen 2010 => Frozen|2010
year: blade runner 2049 => Blade Runner 2049|2017
year: 1917 => 1917|2019
year: 2012 2009 => 2012|2009
year: the dark knight 2012 => The Dark Knight Rises|2012
year: 2001 a space odyssey => 2001: A Space Odyssey|1968
contained: alien 1979 => Alien|1979
contained: aliens => Aliens|1986
contained: alien covenant => Alien: Covenant|2017
contained: alien resurrection => Alien: Resurrection|1997
contained: predator 1987 => Predator|1987
contained: toy story => Toy Story|1995
contained: toy story 3 => Toy Story 3|2010
contained: frozen 2013 => Frozen|2013
contained: frozen ii => Frozen II|2019
contained: up => Up|2009
contained: upgrade => Upgrade|2018
contained: it 2017 => It|2017
contained: it chapter two => It Chapter Two|2019
contained: her 2013 => Her|2013
contained: heat => Heat|1995
contained: cars => Cars|2006
contained: cars 2 => Cars 2|2011
contained: the matrix reloaded => The Matrix Reloaded|2003
contained: batman 1989 => Batman|1989
contained: the batman => The Batman|2022
contained: casino => Casino|1995
contained: casino royale => Casino Royale|2006
contained: spider-man 2002 => Spider-Man|2002
contained: spider-man 2 => Spider-Man 2|2004
contained: iron man => Iron Man|2008
contained: iron man 3 => Iron Man 3|2013
contained: blade runner => Blade Runner|1982
contained: mad max 1979 => Mad Max|1979
contained: leon 1994 => Léon|1994
contained: the office s01e01 => The Office|2005|S01E01
contained: dark s01e02 => Dark|2017|S01E02
contained: logan => Logan|2017
contained: thor => Thor|2011
contained: dune => Dune|2021
contained: us 2019 => Us|2019
contained: drive => Drive|2011
contained: split => Split|2016
contained: glass => Glass|2019
contained: speed => Speed|1994
contained: taken => Taken|2008
scripts: 千と千尋の神隠し => 千と千尋の神隠し|2001
scripts: 千尋 => 千と千尋の神隠し|2001
scripts: 神隠し => 千と千尋の神隠し|2001
scripts: 君の名は => 君の名は。|2016
scripts: トトロ => となりのトトロ|1988
scripts: もののけ姫 1997 => もののけ姫|1997
scripts: 進撃の巨人 s02e03 => 進撃の巨人|2013|S02E03
scripts: солярис => Солярис|1972
scripts: ляля тополя => Ляля Тополя|2021
acronyms: agents of shield s01e01 => Agents of S.H.I.E.L.D.|2013|S01E01
acronyms: agents of s.h.i.e.l.d. s02e02 => Agents of S.H.I.E.L.D.|2013|S02E02
acronyms: shield s03e04 => Agents of S.H.I.E.L.D.|2013|S03E04
acronyms: e.t. the extra-terrestrial => E.T. the Extra-Terrestrial|1982
acronyms: et extra terrestrial => E.T. the Extra-Terrestrial|1982
mixed: the drak knight rises 2012 => The Dark Knight Rises|2012
mixed: harry potter deathly hallows part 2 => Harry Potter and the Deathly Hallows Part 2|2011
mixed: hary potter chamber secrets => Harry Potter and the Chamber of Secrets|2002
mixed: lord of the rigns two towers => The Lord of the Rings: The Two Towers|2002
mixed: star wars 1977 => Star Wars|1977
mixed: rogue one star wars => Rogue One: A Star Wars Story|2016
mixed: back to the futur part 3 => Back to the Future Part III|1990
mixed: indiana jones last crusade => Indiana Jones and the Last Crusade|1989
mixed: raiders lost ark => Raiders of the Lost Ark|1981
mixed: the lost world => The Lost World: Jurassic Park|1997
mixed: jurassic world dominion => Jurassic World Dominion|2022
mixed: die hard with a vengance => Die Hard with a Vengeance|1995
mixed: fast five => Fast Five|2011
mixed: john wick parabellum => John Wick: Chapter 3 – Parabellum|2019
mixed: terminator judgment day => Terminator 2: Judgment Day|1991
mixed: hans zimmer interstellar => Interstellar Main Theme
mixed: el laberinto del fauno => El laberinto del fauno|2006
mixed: der untergang => Der Untergang|2004
mixed: cidade de deus => Cidade de Deus|2002
mixed: la haine => La Haine|1995
mixed: intouchables => Intouchables|2011
mixed: nineteen eighty four orwell => Nineteen Eighty-Four
mixed: le petit prince => Le Petit Prince
mixed: crime and punishment => Crime and Punishment
"""

_EPISODE = re.compile(r"^S(\d\d)E(\d\d)$")
_RESOLUTION = re.compile(r"^\d{3,4}p$")


@dataclass(frozen=True)
class LabelledQuery:
    category: str
    query: str
    release: Release


def labelled_queries() -> list[LabelledQuery]:
    out = []
    for line in LABELLED.strip().splitlines():
        category, rest = line.split(": ", 1)
        query, label = rest.rsplit(" => ", 1)
        parts = label.split("|")
        title, year, season, episode, resolution = parts[0], None, None, None, None
        for part in parts[1:]:
            if m := _EPISODE.match(part):
                season, episode = int(m.group(1)), int(m.group(2))
            elif _RESOLUTION.match(part):
                resolution = part
            else:
                year = int(part)
        out.append(LabelledQuery(category, query, Release(title, year, season, episode, resolution)))
    return out


def expected_file(release: Release, files: list[MediaFile], releases: dict[str, Release]) -> MediaFile:
    """The file a label means: the copy in the named resolution, else the first copy."""
    for file in files:
        found = releases[file.id]
        if (found.title, found.year, found.season, found.episode) == (
                release.title, release.year, release.season, release.episode) and (
                release.resolution is None or found.resolution == release.resolution):
            return file
    raise LookupError(f"no file in the catalogue for {release}")
