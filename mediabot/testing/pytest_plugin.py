"""mediabot's pytest plugin (the ``pytest11`` entry point ``mediabot``).

Installing mediabot gives every test suite -- the kernel's, the builtin
plugins', a third-party plugin's -- these fixtures without a conftest.

Keep imports at module level light: pytest imports this module in every
session of every project that has mediabot installed. Client libraries are
imported inside the fixtures that use them.

One section per concern, each under a banner comment.
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from mediabot.testing.servers import MongoServer, RedisServer, ServerProcess

if TYPE_CHECKING:
    import redis
    from pymongo import MongoClient


# ============================================================================
# Real servers: Redis and a MongoDB-wire server (SecantusDB's secantusd-py)
#
# Most tests share one server per session and stay isolated by name: a key
# prefix (redis_prefix) or a database (mongo_db_name) that is theirs alone and
# is deleted after the test. Fault tests that kill, pause or restart a server
# get a dedicated one from redis_factory / mongo_factory.
# ============================================================================

# How long teardown cleanup may wait on the shared servers.
_CLEANUP_TIMEOUT_S = 10


def _keep_serving(server: ServerProcess, fixture: str) -> None:
    """Bring a shared server back if a test paused or killed it.

    Fault tests should use the factories; without this, one that hit the
    shared server would fail every test after it with a confusing error.
    """
    if server.is_paused:
        server.resume()
    elif not server.is_running:
        warnings.warn(
            f"the shared {server.name} server was down (a test killed or stopped it; "
            f"fault tests should use {fixture}); restarting it on port {server.port}",
            stacklevel=2,
        )
        server.restart()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One ephemeral Redis server shared by the whole session."""
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[MongoServer]:
    """One in-memory MongoDB-wire server shared by the whole session."""
    with MongoServer() as server:
        yield server


@pytest.fixture(scope="session")
def _mediabot_redis_admin(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """Sync client for fixture cleanup; it reconnects by itself after a restart."""
    import redis

    client = redis.Redis.from_url(
        redis_server.url,
        socket_timeout=_CLEANUP_TIMEOUT_S,
        socket_connect_timeout=_CLEANUP_TIMEOUT_S,
    )
    yield client
    client.close()


@pytest.fixture(scope="session")
def _mediabot_mongo_admin(mongo_server: MongoServer) -> Iterator[MongoClient]:
    """Sync client for fixture cleanup; it reconnects by itself after a restart."""
    from pymongo import MongoClient

    timeout_ms = _CLEANUP_TIMEOUT_S * 1000
    client: MongoClient = MongoClient(
        mongo_server.uri,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=timeout_ms,
    )
    yield client
    client.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """URL of the shared Redis server; combine it with ``redis_prefix``."""
    _keep_serving(redis_server, "redis_factory")
    return redis_server.url


@pytest.fixture
def redis_prefix(redis_server: RedisServer, _mediabot_redis_admin: redis.Redis) -> Iterator[str]:
    """A key prefix unique to this test (``t`` + 8 hex digits).

    Every key that starts with it is deleted after the test.
    """
    prefix = f"t{secrets.token_hex(4)}"
    yield prefix
    _keep_serving(redis_server, "redis_factory")
    # Hex digits hold no glob characters, so the prefix is safe in a MATCH.
    batch: list[bytes] = []
    for key in _mediabot_redis_admin.scan_iter(match=f"{prefix}*", count=1000):
        batch.append(key)
        if len(batch) >= 500:
            _mediabot_redis_admin.unlink(*batch)
            batch.clear()
    if batch:
        _mediabot_redis_admin.unlink(*batch)


@pytest.fixture
def mongo_uri(mongo_server: MongoServer) -> str:
    """URI of the shared MongoDB-wire server; combine it with ``mongo_db_name``."""
    _keep_serving(mongo_server, "mongo_factory")
    return mongo_server.uri


@pytest.fixture
def mongo_db_name(mongo_server: MongoServer, _mediabot_mongo_admin: MongoClient) -> Iterator[str]:
    """A database name unique to this test (``t_`` + 10 hex digits), dropped after it."""
    name = f"t_{secrets.token_hex(5)}"
    yield name
    _keep_serving(mongo_server, "mongo_factory")
    _mediabot_mongo_admin.drop_database(name)


_Server = TypeVar("_Server", bound=ServerProcess)


def _server_factory(kind: type[_Server]) -> Iterator[Callable[..., _Server]]:
    started: list[_Server] = []

    def start(data_dir: Path | None = None, port: int | None = None, **options: Any) -> _Server:
        server = kind(data_dir=data_dir, port=port, **options)
        # Tracked before start(): a half-started server is cleaned up too.
        started.append(server)
        return server.start()

    yield start
    # Stop every server whatever the test did to it (stop() resumes a paused
    # one and reaps a killed one); one failure must not leak the others.
    errors: list[BaseException] = []
    for server in reversed(started):
        try:
            server.stop()
        except Exception as exc:  # noqa: BLE001 -- re-raised below
            errors.append(exc)
    if errors:
        raise errors[0]


@pytest.fixture
def redis_factory() -> Iterator[Callable[..., RedisServer]]:
    """Start dedicated Redis servers a test may kill, pause or restart.

    ``redis_factory(data_dir=None, port=None, **options) -> RedisServer``
    (started; *options* go to ``RedisServer``). All of them are stopped after
    the test, whatever it did to them.
    """
    yield from _server_factory(RedisServer)


@pytest.fixture
def mongo_factory() -> Iterator[Callable[..., MongoServer]]:
    """Start dedicated MongoDB-wire servers a test may kill, pause or restart.

    ``mongo_factory(data_dir=None, port=None, **options) -> MongoServer``
    (started; *options* go to ``MongoServer``, e.g. ``sync_on_commit=True``);
    ``data_dir=None`` runs in memory. All of them are stopped after the test,
    whatever it did to them.
    """
    yield from _server_factory(MongoServer)



# ============================================================================
# Bots: a real app with chosen plugins on the fake Telegram
#
# ``bot = await make_bot(plugins=[MyPlugin], config="...", admins=[1])`` builds
# and starts a mediabot.testing.BotHarness on the shared Redis and MongoDB
# servers (isolated by redis_prefix / mongo_db_name); every bot is stopped
# after the test. Needs pytest-asyncio (async fixture).
# ============================================================================

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - make_bot needs pytest-asyncio
    pytest_asyncio = None  # type: ignore[assignment]

if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def make_bot(tmp_path: Path, redis_url: str, redis_prefix: str, mongo_uri: str,
                       mongo_db_name: str) -> Any:
        """Factory of started bots: ``await make_bot(plugins=[...], config="...", admins=[1])``.

        Keyword arguments: ``plugins`` (classes, enabled automatically),
        ``config`` (``plugins.toml`` text), ``admins``, ``owner``, ``env``
        (extra environment: overrides, plugin secrets), ``services`` (``False``:
        no Redis/MongoDB URLs, kernel services run in process), ``timeout``
        (real seconds an action may take), ``clock`` (a ``FakeClock`` to share
        between bots: two bots of one deployment in one test). Each bot gets
        its own directory (``[runtime] data_dir`` is ``data`` in it). Returns
        a started :class:`mediabot.testing.BotHarness`.
        """
        from mediabot.testing.harness import BotHarness

        bots: list[BotHarness] = []

        async def make(*, plugins: Any = (), config: str = "", admins: Any = (), owner: int | None = None,
                       env: dict[str, str] | None = None, services: bool = True,
                       timeout: float = 10.0, clock: Any = None) -> BotHarness:
            full_env: dict[str, str] = {}
            if services:
                full_env.update({
                    "MEDIABOT_REDIS_URL": redis_url,
                    "MEDIABOT_MONGO_URI": mongo_uri,
                    "MEDIABOT__REDIS__KEY_PREFIX": redis_prefix,
                    "MEDIABOT__MONGO__DATABASE": mongo_db_name,
                })
            full_env.update(env or {})
            bot = BotHarness.build(plugins=plugins, config=config, admins=admins, owner=owner, env=full_env,
                                   directory=tmp_path / f"bot{len(bots)}", timeout=timeout, clock=clock)
            bots.append(bot)
            await bot.start()
            return bot

        yield make
        for bot in reversed(bots):
            await bot.stop()
