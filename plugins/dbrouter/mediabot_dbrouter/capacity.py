"""How full a database is, without asking it on the write path.

MongoDB Atlas counts ``dataSize + indexSize`` (from ``dbStats``) against a
free cluster's 512 MB. That figure is measured in the background every
``capacity_refresh`` seconds; in between, every acknowledged write adds its
BSON size, grown by the database's measured index-to-data ratio, to the
estimate. The write path only reads numbers in memory: never a ``dbStats``
nor a ``count_documents``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Capacity", "measure"]

MB = 1024 * 1024
# Before the first measurement: indexes of a catalogue weigh about half its data.
DEFAULT_INDEX_RATIO = 0.5


class Capacity:
    """Used bytes of one database against its quota.

    :param quota_bytes: what the provider allows (``quota_mb`` in bytes).
    """

    def __init__(self, quota_bytes: float) -> None:
        self.quota_bytes = float(quota_bytes)
        self.measured: int | None = None
        self.measured_at: float | None = None
        self.attempted_at: float | None = None
        self.documents: int | None = None
        self.index_ratio = DEFAULT_INDEX_RATIO
        self.written = 0  # bytes acknowledged since the last measurement started
        self.written_documents = 0  # documents acknowledged since then
        self.full = False  # the server itself refused a write as over quota

    @property
    def used_bytes(self) -> float:
        return (self.measured or 0) + self.written * (1.0 + self.index_ratio)

    @property
    def fraction(self) -> float:
        if self.full:
            return max(1.0, self.used_bytes / self.quota_bytes if self.quota_bytes else 1.0)
        return self.used_bytes / self.quota_bytes if self.quota_bytes > 0 else 0.0

    @property
    def documents_estimate(self) -> int | None:
        """Documents at the last measurement plus those written since (``None``: neither known)."""
        if self.documents is None and not self.written_documents:
            return None
        return (self.documents or 0) + self.written_documents

    def add_written(self, nbytes: int, documents: int = 0) -> None:
        self.written += nbytes
        self.written_documents += documents

    def apply(self, stats: dict[str, Any], *, written_before: int, documents: int | None, at: float,
              documents_before: int = 0) -> None:
        """Take a measurement; ``written_before`` (``documents_before``) is :attr:`written`
        (:attr:`written_documents`) when it was started.

        Writes acknowledged while ``dbStats`` ran may or may not be in it; they
        stay in the estimate (counting a few bytes twice errs on the safe side).
        """
        data = int(stats.get("dataSize", 0))
        index = int(stats.get("indexSize", 0))
        self.measured = data + index
        self.measured_at = at
        if data > 0:
            self.index_ratio = index / data
        self.written = max(0, self.written - written_before)
        self.written_documents = max(0, self.written_documents - documents_before)
        self.documents = documents
        self.full = False  # space may have been freed; the server tells us again if not


async def measure(db: Any, collections: list[str]) -> tuple[dict[str, Any], int]:
    """``dbStats`` and the documents of ``collections`` (from metadata: no scan). Background only."""
    stats = await db.command("dbStats")
    documents = 0
    for name in collections:
        documents += int(await db[name].estimated_document_count())
    return stats, documents
