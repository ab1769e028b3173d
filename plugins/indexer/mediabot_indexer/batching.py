"""How big the next batch is, and what of a batch is worth writing.

The batch size follows the backlog: when the queue is quiet a post should
reach the catalogue at once, alone if need be; when it is deep, fewer and
larger writes get through it faster. The size moves by doubling or halving
towards the backlog, so one odd reading does not swing it from one bound to
the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["BatchSizer", "dedup"]

T = TypeVar("T")


def _file_key(item: Any) -> str:
    return item.file_unique_id


class BatchSizer:
    """The size of the next batch, between ``min_size`` and ``max_size``.

    :param min_size: the size when the queue is quiet (and the first one).
    :param max_size: the size when the backlog is at least this deep.
    """

    def __init__(self, min_size: int, max_size: int) -> None:
        if not 1 <= min_size <= max_size:
            raise ValueError(f"batch sizes must satisfy 1 <= min ({min_size}) <= max ({max_size})")
        self.min_size = min_size
        self.max_size = max_size
        self.size = min_size

    def update(self, backlog: int) -> int:
        """Move towards ``backlog`` (entries waiting) and return the next size.

        Up by at most a doubling, down by at most a halving per batch.
        """
        target = min(max(backlog, self.min_size), self.max_size)
        if target > self.size:
            self.size = min(target, self.size * 2)
        elif target < self.size:
            self.size = max(target, self.size // 2)
        return self.size


def dedup(items: Sequence[T], key: Callable[[T], str] = _file_key) -> tuple[list[T], int]:
    """The items with repeats of a ``file_unique_id`` left out (first kept), and how many were left out.

    :param key: the ``file_unique_id`` of an item (default: the item's attribute).
    """
    seen: set[str] = set()
    unique: list[T] = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            unique.append(item)
    return unique, len(items) - len(unique)
