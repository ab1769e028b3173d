"""Per-plugin storage: MongoDB collections, Redis keys and a directory, named under the plugin.

Every plugin gets one :class:`PluginStorage` (``ctx.storage``). It opens no
connection of its own: collections live on the deployment's *home* database
(the one holding users and bans; under ``dbrouter``, its home), Redis keys use
the app's client, files go under ``[runtime] data_dir``. Names carry the
plugin's name, so two plugins never collide and an operator can tell whose
data a collection or key is::

    <plugin>.<name>                     # MongoDB collections, on the home database
    <key_prefix>:{<plugin>}:<part>:...  # Redis keys, hash-tagged by plugin
    <data_dir>/plugins/<plugin>/        # files, mode 0700
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from mediabot.catalog.placement import placement_of

if TYPE_CHECKING:
    from pymongo.asynchronous.collection import AsyncCollection
    from pymongo.asynchronous.database import AsyncDatabase
    from redis.asyncio import Redis

    from mediabot.core.app import App

    Document = dict[str, Any]

__all__ = ["IndexSpec", "PluginStorage", "StorageUnavailable"]

_NOT_OPEN = ("used before the app opened its resources: take handles in __init__ (ctx.storage.collection(...)) "
             "and use them from hooks, handlers, periodic jobs and CLI subcommands (through the ctx a "
             "subcommand receives from app_command)")


class StorageUnavailable(RuntimeError):
    """The resource asked for is not configured for this deployment (no MongoDB, no Redis)."""


@dataclass(frozen=True)
class IndexSpec:
    """An index a plugin declares on one of its collections (created at startup, idempotently)."""

    collection: str
    keys: list[tuple[str, int]]
    name: str
    options: dict[str, Any] = field(default_factory=dict)


class PluginStorage:
    """Durable data of one plugin.

    :param app: the application (its resources are opened at startup; handles
        taken in the plugin's ``__init__`` resolve on first use).
    :param plugin: the plugin's name.
    """

    def __init__(self, app: App, plugin: str) -> None:
        self._app = app
        self.plugin = plugin
        self._indexes: list[IndexSpec] = []

    # -- MongoDB ---------------------------------------------------------------------
    def collection_name(self, name: str) -> str:
        """The real name of collection ``name``: ``<plugin>.<name>``."""
        if not name or name.startswith(".") or "$" in name:
            raise ValueError(f"invalid collection name {name!r}")
        return f"{self.plugin}.{name}"

    def database(self) -> AsyncDatabase[Document]:
        """The home ``AsyncDatabase`` (where users, bans and plugin collections live)."""
        provider = self._app.database
        if provider is None:
            if self._app.state == "created":
                raise StorageUnavailable(f"plugin {self.plugin!r}: MongoDB {_NOT_OPEN}")
            raise StorageUnavailable(f"plugin {self.plugin!r} asked for MongoDB, but this deployment has no "
                                     "database (set MEDIABOT_MONGO_URI, or enable dbrouter)")
        home: AsyncDatabase[Document] = placement_of(provider).home_database()
        return home

    def collection(self, name: str) -> AsyncCollection[Document]:
        """The ``AsyncCollection`` ``<plugin>.<name>`` on the home database.

        The handle resolves on each use, so take it once in the plugin's
        ``__init__`` (``self.items = ctx.storage.collection("items")``), before
        the app has opened MongoDB; using it before then raises
        :class:`StorageUnavailable` saying so. It forwards every attribute to
        the real ``AsyncCollection`` (``find``, ``insert_one``, ``name``...), but
        is not an instance of it: ``handle.resolve()`` gives the real one.
        """
        return cast("AsyncCollection[Document]", _CollectionHandle(self, self.collection_name(name)))

    def declare_index(self, collection: str, keys: list[tuple[str, int]], *, name: str, **options: Any) -> None:
        """Ask for an index on one of the plugin's collections.

        Declare in the plugin's ``__init__``: the kernel creates declared
        indexes (``create_index``, a no-op when it exists) on the home database
        before the plugin's ``mediabot_startup``. ``name`` is required so a
        changed definition is an error to fix, not a second index.
        """
        self._indexes.append(IndexSpec(collection, list(keys), name, dict(options)))

    @property
    def declared_indexes(self) -> list[IndexSpec]:
        return list(self._indexes)

    async def ensure_indexes(self) -> None:
        """Create the declared indexes (idempotent). The kernel calls it at startup."""
        if not self._indexes:
            return
        db = self.database()
        for spec in self._indexes:
            await db[self.collection_name(spec.collection)].create_index(spec.keys, name=spec.name,
                                                                         **spec.options)

    # -- Redis -----------------------------------------------------------------------
    @property
    def redis(self) -> Redis:
        """The app's ``redis.asyncio.Redis`` client."""
        if self._app.redis is None:
            if self._app.state == "created":
                raise StorageUnavailable(f"plugin {self.plugin!r}: Redis {_NOT_OPEN}")
            raise StorageUnavailable(f"plugin {self.plugin!r} asked for Redis, but this deployment has none "
                                     "(set MEDIABOT_REDIS_URL)")
        return self._app.redis

    @property
    def key_prefix(self) -> str:
        """``<key_prefix>:{<plugin>}:``: every key of this plugin starts with it."""
        return f"{self._app.section('redis').key_prefix}:{{{self.plugin}}}:"

    def key(self, *parts: object) -> str:
        """A Redis key of this plugin: ``<key_prefix>:{<plugin>}:<part>:<part>...``.

        The ``{<plugin>}`` hash tag puts all of a plugin's keys in one Redis
        Cluster slot, so its scripts and transactions may touch several keys.
        """
        if not parts:
            raise ValueError("key() needs at least one part")
        return self.key_prefix + ":".join(str(p) for p in parts)

    # -- files -----------------------------------------------------------------------
    @property
    def directory(self) -> Path:
        """``<data_dir>/plugins/<plugin>``, created (mode 0700) on first use."""
        path = self._app.data_dir / "plugins" / self.plugin
        if not path.is_dir():
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(path, 0o700)  # mkdir's mode is masked by the umask
        return path


class _CollectionHandle:
    """A collection of a plugin, looked up on the home database each time it is used.

    Each use asks the database provider again (as the eager call did), so a
    handle follows the app it was taken from and never outlives its client.
    """

    __slots__ = ("_name", "_storage")

    def __init__(self, storage: PluginStorage, name: str) -> None:
        self._storage = storage
        self._name = name

    def resolve(self) -> AsyncCollection[Document]:
        """The real ``AsyncCollection`` now."""
        return self._storage.database()[self._name]

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.resolve(), attr)

    def __getitem__(self, sub: str) -> AsyncCollection[Document]:
        return self.resolve()[sub]

    def __bool__(self) -> bool:
        return bool(self.resolve())  # pymongo refuses truth testing: so does the handle

    def __repr__(self) -> str:
        return f"<collection {self._name} of plugin {self._storage.plugin!r}>"
