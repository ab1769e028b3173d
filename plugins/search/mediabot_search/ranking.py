"""Order hits beyond relevance, and say what a misspelled word was read as.

tantivy orders by score alone. Files that are equally relevant are ordered
here by the length of their title (a word matched only with a typo or as a
prefix scores a constant: "gladiatr" must still put *Gladiator* above
*Gladiator II*), then, copies of one title, by popularity (deliveries), then
newer first. Scores within 1 % of each
other count as equal, so a slightly longer name does not hide a copy that
people actually take.

:func:`top_hits` fetches until the relevance group that straddles the end of
the requested page is complete, so the order of the first *n* results is the
same whatever page asked for it: paging by offset neither repeats nor skips.
"""

from __future__ import annotations

import math

import tantivy

from mediabot_search import schema as f

__all__ = ["correction", "relevance_group", "top_hits"]

# Scores whose logarithms round alike (within about 1 %) are one relevance group.
_GROUP_STEPS_PER_E = 100


def relevance_group(score: float) -> int:
    return round(math.log(score) * _GROUP_STEPS_PER_E) if score > 0 else -(10**9)


def top_hits(searcher: tantivy.Searcher, query: tantivy.Query, needed: int, most: int,
             ) -> tuple[list[tantivy.DocAddress], int]:
    """The best ``needed`` hits in final order, and how many documents match in all.

    :param most: never fetch more than this many hits (the result cap): past
        it, ties are broken by tantivy's document order, still deterministic.
    """
    fetch = min(needed + 1, most)
    first = searcher.search(query, limit=fetch, count=True)
    count, hits = first.count, first.hits
    while len(hits) == fetch and fetch < most and relevance_group(hits[-1][0]) == relevance_group(
            hits[needed - 1][0]):
        fetch = min(fetch * 4, most)
        hits = searcher.search(query, limit=fetch, count=False).hits
    if not hits:
        return [], count
    addresses = [address for _, address in hits]
    title_words = searcher.fast_field_values(f.TITLE_WORDS, addresses)
    deliveries = searcher.fast_field_values(f.DELIVERIES, addresses)
    indexed_at = searcher.fast_field_values(f.INDEXED_AT, addresses)
    order = sorted(range(len(hits)), key=lambda i: (
        -relevance_group(hits[i][0]), title_words[i] or 0, -(deliveries[i] or 0), -(indexed_at[i] or 0),
        addresses[i].segment_ord, addresses[i].doc))
    return [addresses[i] for i in order[:needed]], count


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a transposition is one edit), ``limit + 1`` when beyond ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def correction(word: str, candidates: list[str], budget: int) -> str | None:
    """The candidate ``word`` was most likely a misspelling of (closest within ``budget`` edits)."""
    best: tuple[int, str] | None = None
    for candidate in candidates:
        distance = edit_distance(word, candidate, budget)
        if 0 < distance <= budget and (best is None or distance < best[0]):
            best = (distance, candidate)
    return best[1] if best else None
