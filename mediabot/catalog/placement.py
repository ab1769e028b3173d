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

Durability, the same in both modes (docs/operations.md, "Durability"): a
write through a placement is acknowledged once the database has journaled
it (write concern ``j: true``, the URI's ``w`` kept). :class:`SimplePlacement`
hands out its databases with that write concern; the dbrouter plugin's
members carry it unless ``durable_writes = false``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar, runtime_checkable

import msgspec

from mediabot.core.errors import MediabotError

if TYPE_CHECKING:
    from pymongo.errors import BulkWriteError

__all__ = ["DatabaseUnavailable", "InsertOutcome", "InsertReport", "Placement", "SimplePlacement", "durable",
           "insert_outcome", "placement_of"]

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

    @staticmethod
    def outcome_of(exc: BulkWriteError, *, is_full: Callable[[dict[str, Any]], bool] | None = None) -> InsertOutcome:
        """:func:`insert_outcome`, reachable through the public ``mediabot.InsertReport``."""
        return insert_outcome(exc, is_full=is_full)

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


class InsertOutcome(NamedTuple):
    """What an unordered ``insert_many`` that raised did.

    :param inserted: documents stored.
    :param duplicates: positions (in the documents sent) refused for a duplicate key.
    :param full: positions refused because the database is over its space quota.
    """

    inserted: int
    duplicates: list[int]
    full: list[int]


def insert_outcome(exc: BulkWriteError, *, is_full: Callable[[dict[str, Any]], bool] | None = None) -> InsertOutcome:
    """Read the ``BulkWriteError`` of an unordered ``insert_many``: the one parser of its write errors.

    :param is_full: tells a write error (its ``code`` and ``errmsg``) that means "over the space
        quota"; ``None``: no such error is expected.
    :raises BulkWriteError: ``exc`` itself, for any other write error or a write-concern error:
        only duplicates (and, when asked, a full database) are expected outcomes.
    """
    details = exc.details or {}
    dups: list[int] = []
    full: list[int] = []
    for err in details.get("writeErrors", []):
        if err.get("code") == DUPLICATE_KEY:
            dups.append(int(err["index"]))
        elif is_full is not None and is_full(err):
            full.append(int(err["index"]))
        else:
            raise exc
    if details.get("writeConcernErrors"):
        raise exc
    return InsertOutcome(int(details.get("nInserted", 0)), dups, full)


def durable(db: Any) -> Any:
    """``db`` acknowledging writes once journaled (``j: true``), keeping the rest of its write concern."""
    from pymongo import WriteConcern

    if db.write_concern.document.get("fsync"):
        return db  # fsync waits for the journal already (and pymongo refuses j with it)
    return db.with_options(write_concern=WriteConcern(**{**db.write_concern.document, "j": True}))


class SimplePlacement:
    """:class:`Placement` over a provider that only knows ``write_database``/``read_databases``.

    Every database the provider names is read; uniqueness across databases
    is checked by reading before writing, which is enough for one database
    (the default) and best effort for more.

    :param durable: hand out the databases with write concern ``j: true``
        (see the module docstring); ``False`` keeps the provider's. Default:
        the provider's ``durable_writes`` attribute, else ``True``.
    """

    def __init__(self, provider: Any, *, durable: bool | None = None) -> None:
        self.provider = provider
        self.durable = bool(getattr(provider, "durable_writes", True)) if durable is None else durable
        self._durable: dict[tuple[int, str], Any] = {}

    def _db(self, db: Any) -> Any:
        if not self.durable:
            return db
        ident = (id(db.client), db.name)
        wrapped = self._durable.get(ident)
        if wrapped is None or wrapped.client is not db.client:
            wrapped = self._durable[ident] = durable(db)
        return wrapped

    def _write_database(self) -> Any:
        return self._db(self.provider.write_database())

    def home_database(self) -> Any:
        return self._write_database()

    def read_databases(self) -> list[Any]:
        return [self._db(db) for db in self.provider.read_databases()]

    async def prepare(self, step: Callable[[Any], Awaitable[None]]) -> None:
        seen: set[tuple[int, str]] = set()
        for db in [self._write_database(), *self.read_databases()]:
            ident = (id(db.client), db.name)
            if ident not in seen:
                seen.add(ident)
                await step(db)

    async def insert_unique(self, collection: str, docs: list[dict[str, Any]], *, key: str) -> InsertReport:
        from pymongo.errors import BulkWriteError

        report, unique = InsertReport.for_batch(docs, key)
        target = self._write_database()
        others = [db for db in self.read_databases()
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
            inserted, dups, _ = insert_outcome(exc)
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
