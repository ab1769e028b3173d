"""dbrouter test kit: three real MongoDB-wire servers, routers over them, and ways to look inside."""

from __future__ import annotations

import asyncio
import functools
import secrets
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from mediabot_dbrouter.alerts import Alerts
from mediabot_dbrouter.build import build_router
from mediabot_dbrouter.config import DatabaseEntry, DbRouterConfig
from mediabot_dbrouter.router import DatabaseRouter
from pymongo import MongoClient
from pymongo.monitoring import CommandListener

from mediabot import FileRepository, MediaFile
from mediabot.testing import eventually
from mediabot.testing.servers import MongoServer

NAMES = ("a", "b", "c")
# Short timeouts and fast probes: a dead or hung server is noticed in about a second.
TEST_SETTINGS: dict[str, Any] = {
    "timeout_ms": 800, "failure_threshold": 3, "open_seconds": 1.0, "probe_interval": 0.1,
    "capacity_refresh": 3600.0, "return_after": 3600.0, "reconcile_interval": 0.2, "alert_interval": 0.0,
    "claim_lease": 60.0,
}


class CommandLog(CommandListener):
    """Commands sent by a router's clients, by name."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: Any) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass

    def count(self, *names: str) -> int:
        return sum(1 for n in self.names if n in names)


def start_servers(n: int, factory: Callable[..., MongoServer], **kw: Any) -> list[MongoServer]:
    """Start ``n`` servers at once (each takes seconds to come up)."""
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _i: factory(**kw), range(n)))


@pytest.fixture(scope="session")
def trio() -> Iterator[list[MongoServer]]:
    """Three in-memory servers shared by the tests that do not kill or pause them."""
    servers = start_servers(3, lambda: MongoServer().start())
    yield servers
    for s in servers:
        s.stop()


def media_file(n: int | str) -> MediaFile:
    return MediaFile(file_unique_id=f"u{n}", file_id=f"f{n}", file_name=f"File {n}.mkv",
                     tokens=["file", str(n), "mkv"])


class Kit:
    """Routers over a set of servers, for one test, with a unique database name."""

    def __init__(self) -> None:
        self.db_name = f"t_{secrets.token_hex(5)}"
        self.routers: list[DatabaseRouter] = []
        self.tasks: list[asyncio.Task[Any]] = []
        self.servers: list[MongoServer] = []

    def router(self, servers: list[MongoServer], *, quota_mb: float | list[float] = 512.0,
               listeners: list[Any] = (), alerts: Alerts | None = None, roles: str = "www",
               **settings: Any) -> DatabaseRouter:
        """A router over ``servers`` named a, b, c; ``roles`` gives each one's role by initial
        (``"hww"``: a is a dedicated home database, b and c take files)."""
        self.servers = servers
        quotas = quota_mb if isinstance(quota_mb, list) else [quota_mb] * len(servers)
        role_of = {"w": "write", "r": "read", "h": "home"}
        config = DbRouterConfig(
            databases=[DatabaseEntry(name=n, uri_env=f"TEST_DB_{n.upper()}", database=self.db_name, quota_mb=q,
                                     role=role_of[r])  # type: ignore[arg-type]
                       for n, q, r in zip(NAMES, quotas, roles, strict=False)],
            **{**TEST_SETTINGS, **settings})
        env = {f"TEST_DB_{n.upper()}": s.uri for n, s in zip(NAMES, servers, strict=False)}
        router = build_router(config, env, alerts=alerts or Alerts(interval=0.0),
                              client_options={"event_listeners": list(listeners)} if listeners else None)
        self.routers.append(router)
        return router

    async def ready(self, router: DatabaseRouter) -> FileRepository:
        """Indexes made and capacities measured, like a started bot."""
        repo = FileRepository(router)
        await repo.ensure_indexes()
        await router.monitor_once()
        return repo

    def monitor(self, router: DatabaseRouter) -> None:
        self.tasks.append(asyncio.create_task(router.run_monitor()))

    def locations(self) -> dict[str, list[str]]:
        """Every key stored on any server -> the databases holding a copy (read directly, not via a router)."""
        found: dict[str, list[str]] = {}
        for name, server in zip(NAMES, self.servers, strict=False):
            with MongoClient(server.uri, serverSelectionTimeoutMS=5000) as client:
                for doc in client[self.db_name]["files"].find({}, {"file_unique_id": 1}):
                    found.setdefault(doc["file_unique_id"], []).append(name)
        return found

    def copies(self) -> Counter[str]:
        """How many documents each key has across every server."""
        return Counter({k: len(v) for k, v in self.locations().items()})

    file = staticmethod(lambda n: media_file(n))
    #: ``await kit.wait_for(condition, what=...)``: the kit's ``eventually``, with time for breakers to turn
    wait_for = staticmethod(functools.partial(eventually, deadline=20.0))

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for r in self.routers:
            await r.close()
        for server in self.servers:
            if server.is_paused:
                server.resume()
            if server.is_running:  # a server restarted by the test may still be busy recovering
                with MongoClient(server.uri, serverSelectionTimeoutMS=20000) as client:
                    client.drop_database(self.db_name)



@pytest.fixture
async def kit() -> AsyncIterator[Kit]:
    k = Kit()
    yield k
    await k.close()


@pytest.fixture
def command_log() -> CommandLog:
    return CommandLog()
