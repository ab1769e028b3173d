"""Relevance: people find the file they mean, however they type it.

The labelled set (``relevance_set.py``) covers misspellings, transpositions,
reordered words, a partial last word, season/episode, brackets, dots and
underscores, accents, leading articles, a resolution the title has no copy
of, titles contained in other titles, scripts without spaces and dotted
acronyms, over a catalogue of about 2,000 release names (``release_catalogue.py``).
"""

from __future__ import annotations

import pytest
from mediabot_search.engine import TantivyEngine
from release_catalogue import build_catalogue
from relevance_set import LabelledQuery, expected_file, labelled_queries

from mediabot import tokenize

TOP = 5
REQUIRED_RECALL = 0.95


@pytest.fixture(scope="module")
def catalogue():
    return build_catalogue()


@pytest.fixture(scope="module")
def engine(catalogue, tmp_path_factory):
    files, _ = catalogue
    with TantivyEngine(tmp_path_factory.mktemp("relevance")) as engine:
        engine.index(files)
        engine.commit("relevance")
        yield engine


def test_the_catalogue_and_the_labels_are_big_enough(catalogue):
    files, _ = catalogue
    assert len(files) >= 2000
    assert len(labelled_queries()) >= 200


def test_missing_resolution_labels_really_have_no_copy_in_that_resolution(catalogue):
    files, releases = catalogue
    for labelled in (q for q in labelled_queries() if q.category == "missing resolution"):
        asked = next(t for t in tokenize(labelled.query) if t.endswith("p") and t[:-1].isdigit())
        key = labelled.release
        copies = [releases[f.id].resolution for f in files
                  if (releases[f.id].title, releases[f.id].year, releases[f.id].season, releases[f.id].episode)
                  == (key.title, key.year, key.season, key.episode)]
        assert copies and asked not in copies, labelled


def test_the_file_people_mean_is_in_the_top_five(catalogue, engine):
    files, releases = catalogue
    names = {f.id: f.file_name for f in files}
    misses: list[str] = []
    queries = labelled_queries()
    for labelled in queries:
        want = expected_file(labelled.release, files, releases)
        found = engine.search(labelled.query, limit=TOP).ids
        if want.id not in found:
            misses.append(_describe_miss(labelled, want.file_name, [names[i] for i in found]))
    recall = 1 - len(misses) / len(queries)
    report = f"recall@{TOP} = {recall:.3f} ({len(queries) - len(misses)}/{len(queries)}); misses:\n" + "\n".join(misses)
    print("\n" + report)
    assert recall >= REQUIRED_RECALL, report


def _describe_miss(labelled: LabelledQuery, want: str | None, got: list[str | None]) -> str:
    shown = "\n      ".join(str(name) for name in got) or "(nothing)"
    return f"  [{labelled.category}] {labelled.query!r}: wanted {want!r}, got:\n      {shown}"
