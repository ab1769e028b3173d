"""The in-memory index of one scope's filters: a message is matched without any database or network call."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from mediabot_filters.model import Filter

__all__ = ["ScopeIndex"]


class ScopeIndex:
    """One scope's filters by key, and the keyword lengths (in words) present.

    Matching looks up each run of ``n`` words of the message for each length
    ``n`` a keyword has, longest first: the first hit is the longest keyword
    that matches (leftmost among equals), whatever the number of filters.
    """

    __slots__ = ("_by_id", "_by_key", "_lengths", "version")

    def __init__(self, filters: Iterable[Filter] = (), version: str = "") -> None:
        self._by_key: dict[tuple[str, ...], Filter] = {}
        self._by_id: dict[str, Filter] = {}
        self._lengths: Counter[int] = Counter()
        self.version = version
        for f in filters:
            self.put(f)

    def __len__(self) -> int:
        return len(self._by_key)

    def put(self, f: Filter) -> None:
        key = tuple(f.key.split())
        old = self._by_key.get(key)
        if old is not None:
            self._by_id.pop(old.id, None)
        else:
            self._lengths[len(key)] += 1
        self._by_key[key] = f
        self._by_id[f.id] = f

    def get(self, key: str) -> Filter | None:
        return self._by_key.get(tuple(key.split()))

    def by_id(self, filter_id: str) -> Filter | None:
        return self._by_id.get(filter_id)

    def all(self) -> list[Filter]:
        """Every filter, by keyword."""
        return sorted(self._by_key.values(), key=lambda f: f.key)

    def match(self, message_words: Sequence[str]) -> Filter | None:
        """The longest keyword whose words appear, as a run, in ``message_words``."""
        if not self._by_key or not message_words:
            return None
        n = len(message_words)
        for length in sorted(self._lengths, reverse=True):
            if length > n:
                continue
            for start in range(n - length + 1):
                found = self._by_key.get(tuple(message_words[start:start + length]))
                if found is not None:
                    return found
        return None

    def exact(self, message_words: Sequence[str]) -> Filter | None:
        """The filter whose keyword is the whole message."""
        return self._by_key.get(tuple(message_words))
