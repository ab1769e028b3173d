"""Waiting for asynchronous outcomes in tests: a condition and a deadline, never a fixed sleep."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

from mediabot.core.clock import Clock

__all__ = ["eventually"]


async def eventually(condition: Callable[[], Any | Awaitable[Any]], check: Callable[[Any], Any] | None = None, *,
                     deadline: float = 10.0, what: str = "condition", interval: float = 0.02,
                     clock: Clock | None = None, step: float = 1.0, fail: bool = True,
                     ignore: tuple[type[BaseException], ...] = ()) -> Any:
    """Ask ``condition`` (a function or a coroutine function) until it holds; return its last answer.

    Without ``check`` the answer itself must be truthy; with it, ``check(answer)``
    must be (``eventually(lambda: store.get(job_id), lambda job: job.state == "done")``).
    Fails the test after ``deadline`` real seconds with ``what`` and the last
    answer. Between asks the loop is free (real time, ``interval`` seconds),
    so work in flight makes progress.

    :param clock: let this clock's time pass between asks instead: each wait is
        ``await clock.sleep(step)`` (a :class:`~mediabot.testing.FakeClock`
        jumps ``step`` virtual seconds at once): for outcomes that take
        virtual time, such as a deletion due in ten minutes.
    :param fail: ``False``: after ``deadline``, return the last answer instead
        of failing (for "until it has happened, or evidently never will").
    :param ignore: exceptions ``condition`` may raise meanwhile (a server still
        restarting): they count as "not yet"; one still raised at the deadline
        fails the test, chained to it.
    """
    start = time.monotonic()
    while True:
        error: BaseException | None = None
        try:
            result = condition()
            if inspect.isawaitable(result):
                result = await result
        except ignore as exc:
            error, result = exc, None
        else:
            if (check(result) if check is not None else result):
                return result
        if time.monotonic() - start >= deadline:
            if error is not None:
                raise AssertionError(f"{what}: not true within {deadline}s; last raised {error!r}") from error
            assert not fail, f"{what}: not true within {deadline}s; last seen {result!r}"
            return result
        if clock is not None:
            await clock.sleep(step)
        else:
            await asyncio.sleep(interval)
