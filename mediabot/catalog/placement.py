"""Where catalogue documents go: what repositories need from the database provider.

The kernel's :class:`mediabot.DatabaseProvider` only says which database
takes writes and which ones serve reads. Catalogue repositories need a bit
more, and a provider that spreads data over several databases (the
``dbrouter`` plugin) implements it as :class:`Placement`:

* ``home_database()`` — one fixed database for small, mutable collections
  (users, bans) that must not be spread;
* ``insert_unique()`` — insert documents unique by a key *across* databases
  (one unique index only covers one database);
* ``read_each()`` — run a read on every readable database concurrently,
  skipping the ones that are down;
* ``prepare()`` — run an idempotent setup step (indexes) on every database,
  now and whenever one (re)joins.

A plain provider (the kernel's ``SingleDatabase``, or a third party's) is
adapted by :func:`placement_of`, so repositories have one code path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import msgspec

from mediabot.core.errors import MediabotError

if TYPE_CHECKING:
    from pymongo.errors import BulkWriteError

__all__ = ["DatabaseUnavailable", "InsertReport", "Placement", "SimplePlacement", "count_duplicate_errors",
           "placement_of"]

T = TypeVar("T")
DUPLICATE_KEY = 11000


class DatabaseUnavailable(MediabotError):
    """No database can take this operation right now (all down, full, or refused by their breakers).

    Retry later: nothing of the failed operation was acknowledged.
    """


class InsertReport(msgspec.Struct, kw_only=True):
    """What a batch insert did.

    :param inserted: documents stored by this call.
    :param duplicates: documents not stored because one with the same key
        already exists (in any database), including repeats inside the batch.
    :param deferred: keys not stored *yet*: another writer holds them right
        now or the database holding them is unreachable. Retry them later.
    :param databases: documents stored per database name.
    :param stored: the keys this call stored, when the placement knows them
        (``None``: it does not say; the catalogue then reads back which are new).
    """

    inserted: int = 0
    duplicates: int = 0
    deferred: list[str] = []
    databases: dict[str, int] = {}
    stored: list[Any] | None = None

    @classmethod
    def for_batch(cls, docs: list[dict[str, Any]], key: str) -> tuple[InsertReport, dict[Any, dict[str, Any]]]:
        """A report for ``docs``, and the batch by ``key`` with repeats dropped (and counted as duplicates).

        Every :meth:`Placement.insert_unique` starts so.
        """
        report = cls()
        batch: dict[Any, dict[str, Any]] = {}
        for doc in docs:
            if doc[key] in batch:
                report.duplicates += 1
            else:
                batch[doc[key]] = doc
        return report, batch

    def merge(self, other: InsertReport) -> None:
        self.stored = None if self.stored is None or other.stored is None else [*self.stored, *other.stored]
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        self.deferred.extend(other.deferred)
        for name, n in other.databases.items():
            self.databases[name] = self.databases.get(name, 0) + n


@runtime_checkable
class Placement(Protocol):
    """What catalogue repositories ask of storage (see the module docstring)."""

    def home_database(self) -> Any:
        """The database holding small collections that are never spread (users, bans)."""

    def read_databases(self) -> list[Any]:
        """Every database holding documents, in a stable order."""

    async def prepare(self, step: Callable[[Any], Awaitable[None]]) -> None:
        """Run ``step(database)`` on every database now, and on any database that (re)joins later.

        ``step`` must be idempotent (creating indexes, for instance). A
        database the step has not run on takes no writes.
        """

    async def insert_unique(self, collection: str, docs: list[dict[str, Any]], *, key: str) -> InsertReport:
        """Insert ``docs`` into ``collection`` so that no two documents in any database share ``key``.

        :raises DatabaseUnavailable: no database could take the batch.
        """

    async def read_each(self, op: Callable[[Any], Awaitable[T]]) -> tuple[list[T], list[str]]:
        """``op(database)`` on every readable database, concurrently.

        :return: the results of the databases that answered, in the stable
            order, and the names of those that could not (skipped).
        :raises DatabaseUnavailable: none answered.
        """


def count_duplicate_errors(exc: BulkWriteError) -> tuple[int, list[int]]:
    """From an unordered ``insert_many``: (documents inserted, indexes of duplicate-key failures).

    Any other write error is re-raised: only duplicates are an expected outcome.
    """
    details = exc.details or {}
    errors = details.get("writeErrors", [])
    others = [e for e in errors if e.get("code") != DUPLICATE_KEY]
    if others or details.get("writeConcernErrors"):
        raise exc
    return int(details.get("nInserted", 0)), [int(e["index"]) for e in errors]


class SimplePlacement:
    """:class:`Placement` over a provider that only knows ``write_database``/``read_databases``.

    Every database the provider names is read; uniqueness across databases
    is checked by reading before writing, which is enough for one database
    (the default) and best effort for more.
    """

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    def home_database(self) -> Any:
        return self.provider.write_database()

    def read_databases(self) -> list[Any]:
        return list(self.provider.read_databases())

    async def prepare(self, step: Callable[[Any], Awaitable[None]]) -> None:
        seen: set[tuple[int, str]] = set()
        for db in [self.provider.write_database(), *self.provider.read_databases()]:
            ident = (id(db.client), db.name)
            if ident not in seen:
                seen.add(ident)
                await step(db)

    async def insert_unique(self, collection: str, docs: list[dict[str, Any]], *, key: str) -> InsertReport:
        from pymongo.errors import BulkWriteError

        report, unique = InsertReport.for_batch(docs, key)
        target = self.provider.write_database()
        others = [db for db in self.provider.read_databases()
                  if (id(db.client), db.name) != (id(target.client), target.name)]
        if others and unique:
            found = await asyncio.gather(*(db[collection].distinct(key, {key: {"$in": list(unique)}})
                                           for db in others))
            for values in found:
                for v in values:
                    if unique.pop(v, None) is not None:
                        report.duplicates += 1
        keys = list(unique)
        report.stored = []
        if not unique:
            return report
        try:
            await target[collection].insert_many(list(unique.values()), ordered=False)
            report.inserted += len(unique)
            report.stored = keys
        except BulkWriteError as exc:
            inserted, dups = count_duplicate_errors(exc)
            report.inserted += inserted
            report.duplicates += len(dups)
            # An unordered insert_many stores every document but those it reports.
            rejected = set(dups)
            report.stored = [k for i, k in enumerate(keys) if i not in rejected]
        report.databases[target.name] = report.inserted
        return report

    async def read_each(self, op: Callable[[Any], Awaitable[T]]) -> tuple[list[T], list[str]]:
        dbs = self.read_databases()
        return list(await asyncio.gather(*(op(db) for db in dbs))), []


def placement_of(provider: Any) -> Placement:
    """The provider itself when it implements :class:`Placement`, else an adapter."""
    if isinstance(provider, Placement):
        return provider
    return SimplePlacement(provider)
