"""The real Redis and MongoDB-wire servers that tests and fault tests run against."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
import redis.asyncio as aioredis
from pymongo import AsyncMongoClient, WriteConcern
from pymongo.errors import NetworkTimeout, PyMongoError, ServerSelectionTimeoutError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mediabot.testing import eventually
from mediabot.testing.servers import MongoServer, RedisServer, ServerProcess, ServerStartError

pytest_plugins = ["pytester"]

T = TypeVar("T")

# Short enough that a hung server fails a call quickly, long enough for a
# loaded 2-core CI box to answer a healthy one.
FAULT_TIMEOUT_S = 0.5


def redis_client(url: str, timeout: float = FAULT_TIMEOUT_S) -> aioredis.Redis:
    # No retries: a fault test wants the first failure, not a backoff loop.
    return aioredis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )


def mongo_client(uri: str, timeout: float = FAULT_TIMEOUT_S) -> AsyncMongoClient:
    millis = int(timeout * 1000)
    # No retried reads/writes either: one timeout is the observation.
    return AsyncMongoClient(
        uri,
        serverSelectionTimeoutMS=millis,
        connectTimeoutMS=millis,
        socketTimeoutMS=millis,
        retryReads=False,
        retryWrites=False,
    )


def process_exists(pid: int) -> bool:
    # An unreaped zombie still answers signal 0, so this also catches a
    # server that exited but was never waited for.
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# -- Redis --------------------------------------------------------------------


async def test_shared_redis_stores_and_returns_a_value(redis_url: str, redis_prefix: str) -> None:
    async with redis_client(redis_url) as client:
        await client.set(f"{redis_prefix}:greeting", "hello")
        assert await client.get(f"{redis_prefix}:greeting") == b"hello"


async def test_killed_redis_refuses_clients_until_restarted_on_the_same_port(
    redis_factory: Callable[..., RedisServer],
) -> None:
    server = redis_factory()
    port = server.port
    async with redis_client(server.url) as client:
        await client.set("k", "v")

        server.kill()

        assert not server.is_running
        with pytest.raises(RedisConnectionError):
            await client.ping()

        server.restart()

        assert server.port == port
        assert await eventually(client.ping, ignore=(RedisConnectionError,)) is True
        # Without a data_dir nothing survives a restart.
        assert await client.get("k") is None


async def test_redis_with_a_data_dir_keeps_data_across_a_restart(
    redis_factory: Callable[..., RedisServer], tmp_path: Path
) -> None:
    server = redis_factory(data_dir=tmp_path / "redis")
    async with redis_client(server.url) as client:
        await client.set("k", "kept")

        server.restart()

        assert await eventually(lambda: client.get("k"), ignore=(RedisConnectionError,)) == b"kept"


async def test_paused_redis_times_out_and_answers_again_once_resumed(
    redis_factory: Callable[..., RedisServer],
) -> None:
    server = redis_factory()
    async with redis_client(server.url) as client:
        await client.set("k", "v")

        server.pause()

        assert server.is_paused
        with pytest.raises(RedisTimeoutError):
            await client.get("k")

        server.resume()

        assert await eventually(lambda: client.get("k"), ignore=(RedisError,)) == b"v"


# -- MongoDB wire (secantusd-py) -------------------------------------------------


async def test_shared_mongo_inserts_and_finds_a_document(
    mongo_uri: str, mongo_db_name: str
) -> None:
    async with mongo_client(mongo_uri, timeout=10) as client:
        files = client[mongo_db_name].files
        await files.insert_one({"_id": 1, "name": "song.mp3"})
        assert await files.find_one({"_id": 1}) == {"_id": 1, "name": "song.mp3"}


async def test_killed_mongo_with_a_data_dir_keeps_journaled_writes_after_restart(
    mongo_factory: Callable[..., MongoServer], tmp_path: Path
) -> None:
    # Like mongod, secantusd-py makes a write crash-proof when it is
    # acknowledged with j:true; plain w:1 writes from the last fraction of a
    # second can be lost to kill -9 (see the sync_on_commit test below).
    server = mongo_factory(data_dir=tmp_path / "mongo")
    port = server.port
    docs = [{"_id": i, "name": f"file{i}"} for i in range(200)]
    async with mongo_client(server.uri, timeout=5) as client:
        files = client.db.get_collection("files", write_concern=WriteConcern(j=True))
        await files.insert_many(docs)

    server.kill()
    async with mongo_client(server.uri) as client:
        with pytest.raises(ServerSelectionTimeoutError):
            await client.db.files.find_one()

    server.restart()

    assert server.port == port
    async with mongo_client(server.uri, timeout=5) as client:
        found = await client.db.files.find().sort("_id").to_list()
    assert found == docs


async def test_mongo_with_sync_on_commit_keeps_every_acknowledged_write_after_kill(
    mongo_factory: Callable[..., MongoServer], tmp_path: Path
) -> None:
    server = mongo_factory(data_dir=tmp_path / "mongo", sync_on_commit=True)
    async with mongo_client(server.uri, timeout=5) as client:
        await client.db.files.insert_one({"_id": "last"})  # w:1, no j

    server.kill()
    server.restart()

    async with mongo_client(server.uri, timeout=5) as client:
        assert await client.db.files.find_one() == {"_id": "last"}


async def test_paused_mongo_times_out_and_answers_again_once_resumed(
    mongo_factory: Callable[..., MongoServer],
) -> None:
    server = mongo_factory()
    async with mongo_client(server.uri) as client:
        await client.db.files.insert_one({"_id": 1})

        server.pause()

        started = time.monotonic()
        with pytest.raises((NetworkTimeout, ServerSelectionTimeoutError)):
            await client.db.files.find_one({"_id": 1})
        assert time.monotonic() - started < 5  # a timeout, not a hang

        server.resume()

        assert await eventually(
            lambda: client.db.files.find_one({"_id": 1}), ignore=(PyMongoError,)
        ) == {"_id": 1}


# -- process hygiene --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "state"),
    [
        (RedisServer, "running"),
        (RedisServer, "paused"),
        (RedisServer, "killed"),
        # The hardest case for secantusd-py, which handles SIGTERM in Python
        # (and only in its main thread): it is stopped when SIGTERM arrives.
        (MongoServer, "paused"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.name,
)
def test_stop_leaves_no_process_and_no_temp_dir_behind(
    kind: type[ServerProcess], state: str
) -> None:
    server = kind(stop_timeout=8).start()
    pid = server.pid
    assert pid is not None and server.log_path is not None
    run_dir = server.log_path.parent
    if state == "paused":
        server.pause()
    elif state == "killed":
        server.kill()

    started = time.monotonic()
    server.stop()

    assert time.monotonic() - started < 8, "SIGTERM was ignored; only the SIGKILL fallback ended it"
    assert not server.is_running
    assert not process_exists(pid)
    assert not run_dir.exists()


def test_server_left_running_is_stopped_at_interpreter_exit(tmp_path: Path) -> None:
    script = (
        "from mediabot.testing.servers import RedisServer\n"
        "server = RedisServer().start()\n"
        "print(server.pid, server.log_path.parent, flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    pid, run_dir = done.stdout.split()

    # The server is not our child: poll until init has reaped it.
    deadline = time.monotonic() + 10
    while process_exists(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not process_exists(int(pid))
    assert not Path(run_dir).exists()


def test_start_failure_names_the_cause_from_the_server_log() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        server = RedisServer(port=squatter.getsockname()[1], start_timeout=10)

        with pytest.raises(ServerStartError, match=r"(?i)address already in use"):
            server.start()

    assert not server.is_running


# -- per-test isolation on the shared servers --------------------------------------

ISOLATION_TESTS = """
import re

import pymongo
import redis

SEEN = []


def use_both(redis_url, redis_prefix, mongo_uri, mongo_db_name):
    client = redis.Redis.from_url(redis_url)
    client.set(f"{redis_prefix}:k", "v")
    client.close()
    with pymongo.MongoClient(mongo_uri) as mongo:
        mongo[mongo_db_name].files.insert_one({"_id": 1})
    SEEN.append((redis_prefix, mongo_db_name))


def test_first(redis_url, redis_prefix, mongo_uri, mongo_db_name):
    use_both(redis_url, redis_prefix, mongo_uri, mongo_db_name)


def test_second(redis_url, redis_prefix, mongo_uri, mongo_db_name):
    use_both(redis_url, redis_prefix, mongo_uri, mongo_db_name)


def test_names_differed_and_were_cleaned_up(redis_url, mongo_uri):
    (prefix1, db1), (prefix2, db2) = SEEN
    assert prefix1 != prefix2 and db1 != db2
    assert re.fullmatch("t[0-9a-f]{8}", prefix1)
    assert re.fullmatch("t_[0-9a-f]{10}", db1)
    client = redis.Redis.from_url(redis_url)
    assert client.exists(f"{prefix1}:k", f"{prefix2}:k") == 0
    client.close()
    with pymongo.MongoClient(mongo_uri) as mongo:
        assert {db1, db2}.isdisjoint(mongo.list_database_names())
"""


def test_each_test_gets_its_own_key_prefix_and_database_removed_afterwards(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_isolation=ISOLATION_TESTS)

    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=3)


FAILING_FAULT_TEST = """
from pathlib import Path


def test_leaves_its_servers_in_a_mess(redis_factory):
    paused, killed, running = redis_factory(), redis_factory(), redis_factory()
    paused.pause()
    killed.kill()
    Path({pid_file!r}).write_text(f"{{paused.pid}} {{killed.pid}} {{running.pid}}")
    raise AssertionError("the test fails with its servers paused, killed and running")
"""


def test_factory_servers_are_stopped_even_when_the_test_fails(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pids"
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_mess=FAILING_FAULT_TEST.format(pid_file=str(pid_file)))

    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    pids = [int(pid) for pid in pid_file.read_text().split()]
    assert len(pids) == 3
    assert not [pid for pid in pids if process_exists(pid)]
