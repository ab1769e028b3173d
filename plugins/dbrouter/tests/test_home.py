"""A dedicated home database (``role = "home"``), and batches pipelined across two servers."""

from __future__ import annotations

from typing import Any

import pytest
from mediabot_dbrouter import cutting
from mediabot_dbrouter.build import check_config, home_of
from mediabot_dbrouter.config import DatabaseEntry, DbRouterConfig
from mediabot_dbrouter.cutting import BatchCutter, cut_pays
from mediabot_dbrouter.status import format_status
from pymongo import MongoClient
from pymongo.monitoring import CommandListener

from mediabot import ConfigError


def config(roles: str, home: str = "") -> DbRouterConfig:
    role_of = {"w": "write", "r": "read", "h": "home"}
    return DbRouterConfig(databases=[DatabaseEntry(name=n, uri_env=f"URI_{n}", role=role_of[r])  # type: ignore[arg-type]
                                     for n, r in zip("abcd", roles, strict=False)], home=home)


def test_the_home_is_the_named_one_else_the_dedicated_one_else_the_first():
    assert home_of(config("www")) == "a"
    assert home_of(config("wwh")) == "c"
    assert home_of(config("www", home="b")) == "b"
    assert home_of(config("hww", home="a")) == "a"


@pytest.mark.parametrize(("roles", "home", "key", "words"), [
    ("hwh", "", "plugins.dbrouter.databases[2].role", 'more than one database has role = "home"'),
    ("whw", "a", "plugins.dbrouter.home", "home = 'a', but 'b' has role = \"home\""),
    ("hrr", "", "plugins.dbrouter.databases", "no database takes writes"),
])
def test_home_roles_that_do_not_hold_together_are_config_errors(roles, home, key, words):
    with pytest.raises(ConfigError) as caught:
        check_config(config(roles, home))
    assert caught.value.key == key and words in caught.value.message and caught.value.fix


async def test_a_dedicated_home_holds_claims_and_users_but_never_files(trio, kit):
    router = kit.router(trio, roles="hww")
    repo = await kit.ready(router)
    report = await repo.insert_batch([kit.file(i) for i in range(50)])
    assert (report.inserted, report.databases) == (50, {"b": 50})
    assert set(kit.copies()) == {f"u{i}" for i in range(50)}
    assert {db for dbs in kit.locations().values() for db in dbs} == {"b"}
    with MongoClient(trio[0].uri) as client:
        claims = list(client[kit.db_name]["files_claims"].find({}, {"db": 1}))
    assert len(claims) == 50 and {c["db"] for c in claims} == {"b"}
    assert router.home_database().name == kit.db_name and router.home.name == "a"
    assert "dedicated home database" in router.pin("a")
    text = format_status(router.status())
    assert "a [home, no files]: closed" in text and "▶ b: closed" in text
    again = await repo.insert_batch([kit.file(i) for i in range(40, 60)])
    assert (again.inserted, again.duplicates) == (10, 10)
    assert await repo.count() == 60


class Timeline(CommandListener):
    """Inserts in the order they started and ended: (phase, collection, documents)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, int]] = []
        self._open: dict[int, tuple[str, int]] = {}

    def started(self, event: Any) -> None:
        if event.command_name == "insert":
            what = (event.command["insert"], len(event.command.get("documents", [])))
            self._open[event.request_id] = what
            self.events.append(("start", *what))

    def succeeded(self, event: Any) -> None:
        what = self._open.pop(event.request_id, None)
        if what:
            self.events.append(("end", *what))

    failed = succeeded


async def test_with_a_dedicated_home_the_rest_of_a_batch_is_claimed_while_its_head_is_written(trio, kit):
    timeline = Timeline()
    router = kit.router(trio, roles="hww", listeners=[timeline])
    router.writer.cutter.mode = "always"  # the mechanics; when it pays is the next test
    repo = await kit.ready(router)
    timeline.events.clear()
    report = await repo.insert_batch([kit.file(i) for i in range(100)])
    assert report.inserted == 100 and kit.copies() == {f"u{i}": 1 for i in range(100)}
    inserts = timeline.events
    head = router.writer.cutter.head
    # The head's claim, then its write and the claim of the rest at the same time, then the rest.
    assert inserts[0] == ("start", "files_claims", head) and inserts[1] == ("end", "files_claims", head)
    write_head = inserts.index(("start", "files", head))
    claim_rest = inserts.index(("start", "files_claims", 100 - head))
    assert max(write_head, claim_rest) < inserts.index(("end", "files", head))
    assert inserts.index(("end", "files_claims", 100 - head)) < inserts.index(("start", "files", 100 - head))


@pytest.mark.parametrize(("per_key", "rtt", "n", "cut"), [
    (None, 0.9, 100, False),  # no claim measured yet: whole
    (0.12, None, 100, False),  # no ping yet: whole
    (0.12, 0.9, 100, True),  # a local server: 85 keys x 0.12 ms of claim work hide a 2 x 0.9 ms command
    (0.12, 0.9, 25, False),  # 10 keys behind the head: less than the command costs
    (0.12, 0.9, 30, False),  # 15 x 0.12 = 1.8 ms: exactly the command's cost is no gain
    (0.12, 0.9, 31, True),  # 16 x 0.12 = 1.92 ms: a gain
    (0.02, 40.0, 100, False),  # a hosted cluster across the internet: 40 ms a round trip
    (0.02, 40.0, 2000, False),
    (0.12, 0.9, 15, False),  # nothing behind the head
])
def test_a_batch_is_cut_only_when_the_claim_outweighs_a_round_trip(per_key, rtt, n, cut):
    assert cut_pays(claim_ms_per_key=per_key, rtt_ms=rtt, n=n, head=15) is cut


def test_the_claim_work_per_key_is_the_median_of_the_last_claims():
    cutter = BatchCutter()
    assert cutter.claim_ms_per_key is None
    for ms in (0.12, 0.11, 5.0):  # the 5.0: one stall, the median ignores it
        cutter.note_claim(ms)
    assert cutter.claim_ms_per_key == 0.12


@pytest.mark.parametrize(("mode", "n", "rtt", "cut"), [
    ("auto", 100, 0.9, True),  # measured claims of 0.12 ms/key: the rule says cut
    ("auto", 100, 40.0, False),  # ...but not across the internet
    ("auto", 15, 0.9, False),  # nothing behind the head
    ("always", 16, None, True),  # one key behind the head is enough, measured or not
    ("always", 15, 0.9, False),  # a batch no bigger than the head cannot be cut
    ("never", 100, 0.9, False),
])
def test_the_one_switch_decides_with_the_rule_and_the_head(mode, n, rtt, cut):
    cutter = BatchCutter(head=15, mode=mode)
    cutter.note_claim(0.12)
    assert cutter.cuts(n, rtt) is cut


def test_a_cut_batch_is_a_head_and_the_rest_in_order_and_counted():
    cutter = BatchCutter(head=2)
    batch = {f"u{i}": {"i": i} for i in range(5)}
    assert cutter.halves(batch) == [{"u0": {"i": 0}, "u1": {"i": 1}},
                                    {"u2": {"i": 2}, "u3": {"i": 3}, "u4": {"i": 4}}]
    assert cutter.cut == 1


async def test_the_writer_cuts_exactly_the_batches_the_rule_cuts(trio, kit, monkeypatch):
    timeline = Timeline()
    router = kit.router(trio, roles="hww", listeners=[timeline])
    repo = await kit.ready(router)  # the monitor pass pinged every database
    b = router.member("b")
    asked: list[dict[str, Any]] = []
    verdicts = iter([False, True])

    def rule(**measured: Any) -> bool:
        asked.append({**measured, "writer_had": router.writer.cutter.claim_ms_per_key})
        return next(verdicts)

    monkeypatch.setattr(cutting, "cut_pays", rule)
    for first in (0, 100):
        timeline.events.clear()
        await repo.insert_batch([kit.file(i) for i in range(first, first + 100)])
        claims = [n for phase, coll, n in timeline.events if phase == "start" and coll == "files_claims"]
        files = [n for phase, coll, n in timeline.events if phase == "start" and coll == "files"]
        head = router.writer.cutter.head
        assert (claims, files) == (([100], [100]) if first == 0 else ([head, 100 - head], [head, 100 - head]))
    # The rule was asked with what the writer measured, for the batch's target.
    assert [(a["n"], a["head"], a["rtt_ms"]) for a in asked] == [(100, 15, b.rtt_ms)] * 2
    assert asked[0]["claim_ms_per_key"] is None  # the first claim is measured after the rule is asked
    assert asked[1]["claim_ms_per_key"] == asked[1]["writer_had"] is not None
    assert router.writer.cutter.cut == 1
    # Whole or cut, every file is stored once.
    assert kit.copies() == {f"u{i}": 1 for i in range(200)}


async def test_when_the_home_also_takes_the_files_a_batch_goes_whole(trio, kit):
    timeline = Timeline()
    router = kit.router(trio, listeners=[timeline])
    router.writer.cutter.mode = "always"  # one server for both: still nothing to overlap
    repo = await kit.ready(router)
    timeline.events.clear()
    await repo.insert_batch([kit.file(i) for i in range(100)])
    starts = [(coll, n) for phase, coll, n in timeline.events if phase == "start"]
    assert starts == [("files_claims", 100), ("files", 100)]


def test_config_check_catches_two_home_databases_before_anything_starts(tmp_path):
    import os
    import subprocess
    import sys

    path = tmp_path / "plugins.toml"
    path.write_text("[plugins.dbrouter]\nenabled = true\n" + "".join(
        f'[[plugins.dbrouter.databases]]\nname = "{n}"\nuri_env = "URI_{n}"\nrole = "{r}"\n'
        for n, r in (("a", "home"), ("b", "write"), ("c", "home"))))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIABOT")}
    result = subprocess.run([sys.executable, "-m", "mediabot", "config", "check", "--dev", "--config", str(path)],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == (f'error: {path}: plugins.dbrouter.databases[2].role: more than one database '
                                     f'has role = "home" (keep role = "home" on one database; the others are '
                                     f'"write" or "read")')
