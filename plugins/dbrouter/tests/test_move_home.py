"""The home marker, and ``mediabot db move-home``: changing the home without losing users or the registry."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner
from mediabot_dbrouter.cli import db_group
from mediabot_dbrouter.config import DatabaseEntry, DbRouterConfig
from mediabot_dbrouter.homes import HomeMoved, check_home
from mediabot_dbrouter.views import ViewPublisher

from mediabot import UserDirectory


def cli(kit, trio, *args: str, home: str = ""):
    config = DbRouterConfig(databases=[DatabaseEntry(name=n, uri_env=f"TEST_DB_{n.upper()}", database=kit.db_name)
                                       for n in "abc"], home=home, timeout_ms=2000)
    env = {f"TEST_DB_{n.upper()}": s.uri for n, s in zip("ABC", trio, strict=True)}
    return asyncio.to_thread(CliRunner().invoke, db_group(config, env), list(args))


async def test_a_bot_whose_home_changed_without_a_move_refuses_to_start(trio, kit):
    first = kit.router(trio)
    await check_home(first)  # a: marked as the home at its first start
    await check_home(first)  # and found there the next time
    moved = kit.router(trio, home="c")
    with pytest.raises(HomeMoved) as caught:
        await check_home(moved)
    assert caught.value.key == "plugins.dbrouter.home"
    assert "are in database 'a', but the home is now 'c'" in caught.value.message
    assert caught.value.fix == "move them first: mediabot db move-home c (bot stopped), or set home = 'a' again"


async def test_moving_the_home_keeps_users_bans_the_registry_and_the_pin(trio, kit):
    old = kit.router(trio)
    repo = await kit.ready(old)
    await check_home(old)
    users = UserDirectory(old.home_database())
    await users.ensure_indexes()
    await users.ban(42, reason="spam", by=1)
    assert old.pin("b") is None and await old.pins.publish(by=1)
    await repo.insert_batch([kit.file(i) for i in range(30)])  # to b: claimed in a's registry
    await old.close()

    result = await cli(kit, trio, "move-home", "c")
    assert result.exit_code == 0, result.output
    assert "copied files_claims: 30 documents" in result.output and "copied users: 1 documents" in result.output
    assert 'Moved the home from a to c. Make sure plugins.toml says so (home = "c"' in result.output

    new = kit.router(trio, home="c")
    await check_home(new)  # c holds the marker now
    repo = await kit.ready(new)
    moved_users = UserDirectory(new.home_database())
    await moved_users.refresh_bans()
    assert moved_users.is_banned(42)
    assert new.pinned.name == "b"  # the shared pin came along (followed at the monitor pass)
    new.unpin()
    assert new.active.name == "a"
    report = await repo.insert_batch([kit.file(i) for i in range(25, 35)])  # a would take them...
    assert (report.inserted, report.duplicates) == (5, 5)  # ...but the registry knows b holds 25-29
    assert kit.copies() == {f"u{i}": 1 for i in range(35)}
    with pytest.raises(HomeMoved, match="are in database 'c', but the home is now 'a'"):
        await check_home(kit.router(trio))  # a deployment still configured with the old home
    again = await cli(kit, trio, "move-home", "c", home="c")
    assert again.exit_code == 0 and "c is already the home: nothing to move." in again.output


async def test_the_move_waits_for_running_deployments_to_stop(trio, kit):
    running = kit.router(trio)
    await kit.ready(running)
    await check_home(running)
    running.views = ViewPublisher(running, "indexer@box:7")
    await running.monitor_once()  # it reports: it is running
    refused = await cli(kit, trio, "move-home", "b")
    assert refused.exit_code == 2
    assert "deployments are running: indexer@box:7" in refused.output and "--force" in refused.output
    assert (await cli(kit, trio, "move-home", "zz")).exit_code == 2
    forced = await cli(kit, trio, "move-home", "b", "--force")
    assert forced.exit_code == 0, forced.output
    with pytest.raises(HomeMoved):
        await check_home(running)  # its next start would refuse until plugins.toml says b


async def test_a_move_to_a_database_that_does_not_answer_says_so_and_can_be_run_again(trio, kit):
    await check_home(kit.router(trio))
    config = DbRouterConfig(databases=[
        DatabaseEntry(name="a", uri_env="A", database=kit.db_name),
        DatabaseEntry(name="gone", uri_env="GONE", database=kit.db_name)], timeout_ms=300)
    env = {"A": trio[0].uri, "GONE": "mongodb://127.0.0.1:9/"}
    result = await asyncio.to_thread(CliRunner().invoke, db_group(config, env), ["move-home", "gone"])
    assert result.exit_code == 1
    assert "database 'gone' unavailable" in result.output and "Run it again" in result.output
    assert "Traceback" not in result.output
    await check_home(kit.router(trio))  # a is still the home
