"""Waiting for asynchronous outcomes in tests: a condition and a deadline, never a fixed sleep."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["eventually"]


async def eventually(condition: Callable[[], Any | Awaitable[Any]], check: Callable[[Any], Any] | None = None, *,
                     deadline: float = 10.0, what: str = "condition", interval: float = 0.02) -> Any:
    """Ask ``condition`` (a function or a coroutine function) until it holds; return its last answer.

    Without ``check`` the answer itself must be truthy; with it, ``check(answer)``
    must be (``eventually(lambda: store.get(job_id), lambda job: job.state == "done")``).
    Fails the test after ``deadline`` real seconds with ``what`` and the last
    answer. Between asks the loop is free (real time), so work in flight makes progress.
    """
    start = time.monotonic()
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if (check(result) if check is not None else result):
            return result
        assert time.monotonic() - start < deadline, f"{what}: not true within {deadline}s; last seen {result!r}"
        await asyncio.sleep(interval)
