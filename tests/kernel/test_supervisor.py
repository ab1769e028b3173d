"""The task supervisor: work is drained, background loops are cancelled, crashes are seen."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest

from mediabot.core.logs import setup_logging
from mediabot.core.supervisor import SupervisorClosed, TaskSupervisor


async def test_drain_waits_for_work_but_not_for_background_loops():
    sup = TaskSupervisor()
    done: list[str] = []

    async def work():
        await asyncio.sleep(0.05)
        done.append("work")

    sup.spawn(work(), name="w", kind="work")
    sup.spawn(asyncio.Event().wait(), name="forever", kind="background")
    report = await sup.drain(deadline=5)
    assert done == ["work"] and report.finished == 1 and report.cancelled == []
    assert sup.running("background") == ["kernel:forever"]
    assert await sup.cancel_background() == []
    assert sup.running() == []


async def test_work_is_refused_after_close_and_the_coroutine_is_not_leaked():
    sup = TaskSupervisor()
    sup.close()

    async def never():
        raise AssertionError("must not run")

    with pytest.raises(SupervisorClosed):
        sup.spawn(never(), name="late", kind="work")


async def test_a_failed_task_is_reported_to_the_crash_callback():
    crashes: list[tuple[str, str, str]] = []
    sup = TaskSupervisor(on_crash=lambda owner, name, exc: crashes.append((owner, name, str(exc))))

    async def boom():
        raise ValueError("bad input")

    task = sup.spawn(boom(), name="job", owner="indexer", kind="work")
    await asyncio.gather(task, return_exceptions=True)
    await sup.wait_idle()
    assert crashes == [("indexer", "job", "bad input")]


async def test_spawn_loop_without_restart_gives_up_after_one_crash():
    sup = TaskSupervisor()
    runs: list[int] = []

    async def loop():
        runs.append(1)
        raise RuntimeError("x")

    task = sup.spawn_loop(loop, name="l", restart=False)
    await task
    assert runs == [1]


def test_json_logs_are_one_object_per_line_with_extra_fields():
    stream = io.StringIO()
    setup_logging("INFO", "json", stream=stream)
    try:
        logging.getLogger("mediabot.test").warning("plugin %s failed", "search",
                                                   extra={"plugin": "search"})
    finally:
        setup_logging("INFO", "text")
        logging.getLogger("mediabot").propagate = True
    record = json.loads(stream.getvalue().strip())
    assert record["msg"] == "plugin search failed" and record["plugin"] == "search"
    assert record["level"] == "WARNING" and record["logger"] == "mediabot.test"
