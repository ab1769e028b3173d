"""The tantivy engine: what goes in comes out, in the right order, and survives restarts and damage."""

from __future__ import annotations

import logging
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mediabot_search.engine import Engine, IndexLocked, SearchFilters, TantivyEngine

from mediabot import MediaFile, search_tokens
from mediabot.catalog.tokens import parse_release

START = datetime(2024, 1, 1, tzinfo=UTC)


def media(name: str, *, n: int = 0, caption: str | None = None, kind: str = "video") -> MediaFile:
    info = parse_release(name, caption)
    return MediaFile(file_unique_id=f"u-{name}-{n}", file_id=f"f-{name}", kind=kind, file_name=name, caption=caption,
                     resolution=info.resolution, season=info.season, episode=info.episode, year=info.year,
                     tokens=search_tokens(name, caption), indexed_at=START + timedelta(minutes=n))


@pytest.fixture
def engine(tmp_path: Path):
    with TantivyEngine(tmp_path / "search") as engine:
        yield engine


def indexed(engine: TantivyEngine, *names: str, **popularity: int) -> dict[str, MediaFile]:
    files = {name: media(name, n=i) for i, name in enumerate(names)}
    engine.index(files.values(), popularity={files[k].id: v for k, v in popularity.items() if k in files})
    engine.commit()
    return files


def names_of(result, files: dict[str, MediaFile]) -> list[str]:
    by_id = {f.id: name for name, f in files.items()}
    return [by_id[i] for i in result.ids]


def test_the_tantivy_engine_is_an_engine(engine):
    assert isinstance(engine, Engine)


def test_an_indexed_file_is_found_after_commit_and_not_before(engine):
    file = media("The.Dark.Knight.2008.1080p.BluRay.x264-GROUP.mkv")
    engine.index([file])
    assert engine.search("dark knight").ids == []
    engine.commit()
    result = engine.search("dark knight")
    assert result.ids == [file.id] and result.total == 1 and not result.capped


def test_a_deleted_file_is_no_longer_found(engine):
    files = indexed(engine, "Inception.2010.1080p.mkv", "Inception.2010.720p.mkv")
    engine.delete([files["Inception.2010.1080p.mkv"].id, "not-a-catalogue-id"])
    engine.commit()
    assert engine.search("inception").ids == [files["Inception.2010.720p.mkv"].id]


def test_indexing_a_file_twice_keeps_one_document(engine):
    file = media("Interstellar.2014.2160p.mkv")
    engine.index([file])
    engine.index([file])
    engine.commit()
    engine.index([file])
    engine.commit()
    assert engine.search("interstellar").ids == [file.id]
    assert engine.stats().documents == 1


def test_every_word_must_match_in_any_order(engine):
    files = indexed(engine, "Batman.Begins.2005.mkv", "Batman.Returns.1992.mkv", "Begin.Again.2013.mkv")
    assert names_of(engine.search("begins batman"), files) == ["Batman.Begins.2005.mkv"]


def test_typos_within_the_budget_are_forgiven(engine):
    files = indexed(engine, "Interstellar.2014.mkv", "Gladiator.2000.mkv", "Up.2009.mkv")
    assert names_of(engine.search("intresteller"), files) == ["Interstellar.2014.mkv"]  # 2 edits at 12 letters
    assert names_of(engine.search("gladaitor"), files) == ["Gladiator.2000.mkv"]  # one transposition
    assert engine.search("ip").ids == []  # no typo budget for two letters


def test_the_last_word_may_be_half_typed_but_a_finished_word_is_not_a_prefix_only(engine):
    files = indexed(engine, "The.Dark.Knight.2008.mkv", "Dark.Waters.2019.mkv")
    assert names_of(engine.search("dark kni"), files) == ["The.Dark.Knight.2008.mkv"]
    # Only the last word is being typed: "kni" first must match a whole word, so
    # nothing has every word and the answer is a relaxed one.
    assert engine.search("kni dark").relaxed.all_but_one


def test_exact_ranks_above_fuzzy_above_prefix(engine):
    files = indexed(engine, "Heat.1995.mkv", "Heath.2001.mkv", "Heats.2003.mkv", "Heatwave.2022.mkv")
    # "heat": exact (Heat), then one edit (Heath, Heats), then prefix only (Heatwave).
    ranked = names_of(engine.search("heat"), files)
    assert ranked[0] == "Heat.1995.mkv"
    assert set(ranked[1:3]) == {"Heath.2001.mkv", "Heats.2003.mkv"}
    assert ranked[3] == "Heatwave.2022.mkv"


def test_a_title_made_of_the_query_ranks_above_one_where_it_is_a_small_part(engine):
    files = indexed(engine, "Alien.Resurrection.Special.Edition.1997.mkv", "Alien.1979.1080p.BluRay.x264-GRP.mkv")
    assert names_of(engine.search("alien"), files)[0] == "Alien.1979.1080p.BluRay.x264-GRP.mkv"
    files = indexed(engine, "Gladiator.II.2024.mkv", "Gladiator.2000.mkv")
    assert names_of(engine.search("gladiatr"), files)[0] == "Gladiator.2000.mkv"


def test_popularity_then_newer_orders_equally_relevant_copies(engine):
    files = indexed(engine, "Dune.2021.720p.mkv", "Dune.2021.1080p.mkv", "Dune.2021.2160p.mkv",
                    **{"Dune.2021.720p.mkv": 5})
    assert names_of(engine.search("dune"), files) == ["Dune.2021.720p.mkv", "Dune.2021.2160p.mkv",
                                                       "Dune.2021.1080p.mkv"]


def test_stop_words_in_the_query_are_optional(engine):
    files = indexed(engine, "Matrix.1999.mkv", "Lord.Rings.Fellowship.2001.mkv")
    assert names_of(engine.search("the matrix"), files) == ["Matrix.1999.mkv"]
    assert names_of(engine.search("the lord of the rings"), files) == ["Lord.Rings.Fellowship.2001.mkv"]


def test_filters_written_in_the_query_are_read(engine):
    files = indexed(engine, "Breaking.Bad.S02E05.720p.mkv", "Breaking.Bad.S02E06.1080p.mkv",
                    "Breaking.Bad.S01E05.720p.mkv")
    for text in ("breaking bad s02e05", "breaking bad S2 E5", "breaking bad 2x05", "breaking bad season 2 episode 5"):
        result = engine.search(text)
        assert names_of(result, files) == ["Breaking.Bad.S02E05.720p.mkv"], text
        assert (result.query.filters.season, result.query.filters.episode) == (2, 5)
    assert set(names_of(engine.search("breaking bad s02"), files)) == {
        "Breaking.Bad.S02E05.720p.mkv", "Breaking.Bad.S02E06.1080p.mkv"}
    result = engine.search("breaking bad 1080p")
    assert names_of(result, files) == ["Breaking.Bad.S02E06.1080p.mkv"] and result.query.filters.resolution == "1080p"


def test_explicit_filters_restrict_by_fast_fields(engine):
    files = {n: media(n, n=i, kind=k) for i, (n, k) in enumerate([
        ("Dune.1984.1080p.mkv", "video"), ("Dune.2021.1080p.mkv", "video"), ("Dune - Frank Herbert.epub", "document")])}
    engine.index(files.values())
    engine.commit()
    assert names_of(engine.search("dune", filters=SearchFilters(year=1984)), files) == ["Dune.1984.1080p.mkv"]
    books = engine.search("dune", filters=SearchFilters(kind="document"))
    assert names_of(books, files) == ["Dune - Frank Herbert.epub"]
    assert len(engine.search("", filters=SearchFilters(resolution="1080p")).ids) == 2


def test_a_missing_resolution_is_dropped_and_said(engine):
    files = indexed(engine, "Oppenheimer.2023.1080p.mkv", "Oppenheimer.2023.720p.mkv")
    result = engine.search("oppenheimer 2160p")
    assert set(names_of(result, files)) == set(files)
    assert result.relaxed is not None and result.relaxed.dropped == ["2160p"] and not result.relaxed.all_but_one


def test_a_wrong_year_is_dropped_after_the_resolution(engine):
    indexed(engine, "Oppenheimer.2023.1080p.mkv")
    result = engine.search("oppenheimer 2022 720p")
    assert len(result.ids) == 1 and result.relaxed.dropped == ["720p", "2022"]


def test_when_no_file_has_every_word_all_but_one_must_match(engine):
    files = indexed(engine, "The.Dark.Knight.Rises.2012.mkv", "Dark.Shadows.2012.mkv")
    result = engine.search("dark knight rises batman")
    assert names_of(result, files) == ["The.Dark.Knight.Rises.2012.mkv"]
    assert result.relaxed.all_but_one and result.relaxed.dropped == []
    assert engine.search("dark knight").relaxed is None


def test_a_misspelled_word_says_what_it_was_read_as(engine):
    indexed(engine, "The.Dark.Knight.2008.mkv")
    assert engine.search("the dark knigth").corrected == {"knigth": "knight"}
    assert engine.search("the dark knig").corrected == {}  # being typed, not misspelled


def test_dotted_acronyms_and_scripts_without_spaces_are_searchable(engine):
    files = indexed(engine, "Agents.of.S.H.I.E.L.D.S01E01.720p.mkv", "千と千尋の神隠し.2001.1080p.mkv",
                    "Shield.2020.mkv")
    assert names_of(engine.search("agents of shield"), files) == ["Agents.of.S.H.I.E.L.D.S01E01.720p.mkv"]
    assert names_of(engine.search("s.h.i.e.l.d. s01e01"), files) == ["Agents.of.S.H.I.E.L.D.S01E01.720p.mkv"]
    assert names_of(engine.search("千尋"), files) == ["千と千尋の神隠し.2001.1080p.mkv"]
    assert names_of(engine.search("神隠し"), files) == ["千と千尋の神隠し.2001.1080p.mkv"]


def test_roman_and_arabic_sequel_numbers_meet(engine):
    files = indexed(engine, "Frozen.II.2019.mkv", "Toy.Story.3.2010.mkv")
    assert names_of(engine.search("frozen 2"), files) == ["Frozen.II.2019.mkv"]
    assert names_of(engine.search("toy story iii"), files) == ["Toy.Story.3.2010.mkv"]


def test_a_caption_word_is_found_too(engine):
    file = media("VID_20240101.mp4", caption="Nuvole Bianche — Ludovico Einaudi, live")
    engine.index([file])
    engine.commit()
    assert engine.search("einaudi nuvole").ids == [file.id]


def test_pages_by_offset_visit_every_result_once(engine):
    files = indexed(engine, *[f"Some.Show.S01E{e:02d}.{r}.mkv" for e in range(1, 31) for r in ("720p", "1080p")])
    seen: list[str] = []
    for offset in range(0, 60, 7):
        page = engine.search("some show", limit=7, offset=offset)
        assert page.total == 60 and page.offset == offset
        seen.extend(page.ids)
    assert sorted(seen) == sorted(f.id for f in files.values())
    assert engine.search("some show", limit=7, offset=60).ids == []


def test_totals_are_capped_at_a_thousand(engine):
    engine.index(media(f"Big.Catalogue.Part.{i}.mkv", n=i) for i in range(1005))
    engine.commit()
    result = engine.search("big catalogue")
    assert result.total == 1000 and result.capped and len(result.ids) == 10


def test_empty_and_symbol_only_queries_find_nothing(engine):
    indexed(engine, "Anything.mkv")
    for text in ("", "   ", "***", "\x00\x01", ":()"):
        assert engine.search(text).ids == []


def test_long_queries_are_cut_to_the_limits(engine):
    indexed(engine, "Dune.2021.mkv")
    result = engine.search("dune " + "word " * 100)
    assert result.query.truncated and len(result.query.words) <= 12


def test_the_index_and_the_checkpoint_survive_a_reopen(tmp_path):
    with TantivyEngine(tmp_path) as engine:
        assert engine.needs_rebuild and engine.checkpoint is None
        file = media("Memento.2000.mkv")
        engine.index([file])
        engine.commit(checkpoint="1712345678901-3")
    with TantivyEngine(tmp_path) as engine:
        assert not engine.needs_rebuild
        assert engine.checkpoint == "1712345678901-3"
        assert engine.search("memento").ids == [file.id]
        assert engine.stats().documents == 1


def test_a_first_start_builds_a_new_index_without_a_warning_and_damage_warns(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="mediabot_search")
    with TantivyEngine(tmp_path) as engine:
        assert engine.needs_rebuild and engine.rebuild_reason == "new index"
        engine.index([media("Memento.2000.mkv")])
        engine.commit(checkpoint="1-0")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, f"search index in {tmp_path} is new: it is built from the catalogue")]
    caplog.clear()
    (tmp_path / "checkpoint.json").write_text("{")
    with TantivyEngine(tmp_path) as engine:
        assert engine.needs_rebuild and engine.rebuild_reason == "no readable checkpoint"
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, f"search index in {tmp_path} starts empty and must be rebuilt: no readable checkpoint")]


def test_a_commit_without_a_checkpoint_leaves_the_index_to_rebuild(tmp_path):
    with TantivyEngine(tmp_path) as engine:
        engine.index([media("Memento.2000.mkv")])
        engine.commit()
    with TantivyEngine(tmp_path) as engine:
        assert engine.needs_rebuild and engine.stats().documents == 0


def test_clear_starts_a_rebuild_that_a_crash_would_not_hide(tmp_path):
    with TantivyEngine(tmp_path) as engine:
        engine.index([media("Memento.2000.mkv")])
        engine.commit(checkpoint="1-0")
        engine.clear()
        engine.commit()
        assert engine.search("memento").ids == [] and engine.needs_rebuild
    with TantivyEngine(tmp_path) as engine:
        assert engine.needs_rebuild


def _corrupt(directory: Path, how: str) -> None:
    index = directory / "index"
    if how == "deleted directory":
        shutil.rmtree(directory)
    elif how == "deleted index":
        shutil.rmtree(index)
    elif how == "truncated meta.json":
        (index / "meta.json").write_text('{"segments": [')
    elif how == "garbage segments":
        for path in index.iterdir():
            if path.suffix in (".idx", ".term", ".store", ".fast"):
                path.write_bytes(b"\x00garbage" * 64)
    elif how == "truncated segments":
        for path in index.iterdir():
            if path.suffix in (".term", ".store"):
                path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "garbage checkpoint":
        (directory / "checkpoint.json").write_bytes(b"\xff\xfe not json")
    elif how == "other index layout":
        (directory / "checkpoint.json").write_text(
            '{"position": "1-0", "index_version": 0, "written_at": "2024-01-01T00:00:00Z"}')


@pytest.mark.parametrize("how", ["deleted directory", "deleted index", "truncated meta.json", "garbage segments",
                                 "truncated segments", "garbage checkpoint", "other index layout"])
def test_a_damaged_index_opens_empty_and_asks_for_a_rebuild(tmp_path, how):
    with TantivyEngine(tmp_path / "search") as engine:
        engine.index(media(f"Film.{i}.2000.mkv", n=i) for i in range(50))
        engine.commit(checkpoint="9-0")
    _corrupt(tmp_path / "search", how)
    with TantivyEngine(tmp_path / "search") as engine:
        assert engine.needs_rebuild and engine.rebuild_reason
        assert engine.checkpoint is None
        assert engine.search("film").ids == []
        # And it works again: a rebuild makes it whole.
        file = media("Film.1.2000.mkv")
        engine.index([file])
        engine.commit(checkpoint="10-0")
        assert engine.search("film").ids == [file.id]
    with TantivyEngine(tmp_path / "search") as engine:
        assert not engine.needs_rebuild and engine.checkpoint == "10-0"


def test_a_second_engine_on_one_directory_is_refused_with_a_clear_error(engine):
    with pytest.raises(IndexLocked, match="already open"):
        TantivyEngine(engine.directory).open()


def test_searches_in_other_threads_see_each_commit_while_one_thread_writes(engine):
    errors: list[BaseException] = []
    done = threading.Event()

    def writer() -> None:
        try:
            for batch in range(20):
                engine.index(media(f"Batch.{batch}.Film.{i}.mkv", n=batch * 10 + i) for i in range(10))
                engine.commit(checkpoint=f"{batch}-0")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            done.set()

    def reader() -> None:
        try:
            last = 0
            while not done.is_set():
                total = engine.search("film", limit=5).total
                assert total >= last  # commits only add: a search never sees the index go back
                last = total
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert engine.search("film").total == 200
