"""Where catalogue data lives: the database provider.

Repositories never hold a client of their own; they ask the provider which
database takes writes and which ones serve reads. The kernel's default is a
single database; the ``dbrouter`` plugin replaces it through the
``mediabot_database_provider`` hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

if TYPE_CHECKING:  # pymongo is imported only by deployments that use MongoDB
    from pymongo.asynchronous.database import AsyncDatabase

#: A MongoDB database as the kernel opens it (documents are plain dicts).
Database: TypeAlias = "AsyncDatabase[dict[str, Any]]"


@runtime_checkable
class DatabaseProvider(Protocol):
    """What repositories need from storage."""

    def write_database(self) -> Database:
        """The ``AsyncDatabase`` new documents go to."""
        ...

    def read_databases(self) -> list[Database]:
        """Every ``AsyncDatabase`` holding documents, in a stable order."""
        ...


class SingleDatabase:
    """The default provider: one database for everything.

    :param durable_writes: catalogue writes use write concern ``j: true`` (``[mongo] durable_writes``).
    """

    def __init__(self, database: Database, *, durable_writes: bool = True) -> None:
        self.database = database
        self.durable_writes = durable_writes

    def write_database(self) -> Database:
        return self.database

    def read_databases(self) -> list[Database]:
        return [self.database]


def check_mongo_uri(uri: str) -> tuple[str, ...]:
    """The servers a MongoDB URI names (sorted ``host:port``, or ``srv:<name>``), if pymongo accepts it.

    Offline: a ``mongodb+srv://`` URI is validated without its DNS lookup.
    ``config check`` runs it on ``MEDIABOT_MONGO_URI``; a plugin reading URIs
    from its own variables calls it in its config's ``validate()``.

    :raises ValueError: the URI is malformed; the message never repeats its password.
    """
    from pymongo.errors import PyMongoError
    from pymongo.uri_parser import parse_uri

    try:
        if uri.startswith("mongodb+srv://"):
            from pymongo.uri_parser_shared import _validate_uri  # parse_uri would resolve the name

            parsed = _validate_uri(uri)
        else:
            parsed = parse_uri(uri)
    except (PyMongoError, ValueError, TypeError) as exc:
        raise ValueError(_without_secrets(str(exc), uri) or "unreadable URI") from None
    if parsed.get("fqdn"):
        return (f"srv:{parsed['fqdn'].lower()}",)
    return tuple(sorted(f"{host.lower()}:{port}" for host, port in parsed["nodelist"]))


def _without_secrets(message: str, uri: str) -> str:
    userinfo = uri.partition("://")[2].rpartition("@")[0]
    for part in {userinfo, *userinfo.split(":")}:
        if len(part) >= 3:
            message = message.replace(part, "***")
    return message
