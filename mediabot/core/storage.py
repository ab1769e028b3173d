"""Where catalogue data lives: the database provider.

Repositories never hold a client of their own; they ask the provider which
database takes writes and which ones serve reads. The kernel's default is a
single database; the ``dbrouter`` plugin replaces it through the
``mediabot_database_provider`` hook.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class DatabaseProvider(Protocol):
    """What repositories need from storage."""

    def write_database(self) -> Any:
        """The ``AsyncDatabase`` new documents go to."""

    def read_databases(self) -> list[Any]:
        """Every ``AsyncDatabase`` holding documents, in a stable order."""


class SingleDatabase:
    """The default provider: one database for everything."""

    def __init__(self, database: Any) -> None:
        self.database = database

    def write_database(self) -> Any:
        return self.database

    def read_databases(self) -> list[Any]:
        return [self.database]
