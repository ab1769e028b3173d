"""Waiting for asynchronous outcomes in tests: a condition and a deadline, never a fixed sleep."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["eventually"]


async def eventually(condition: Callable[[], Any | Awaitable[Any]], *, deadline: float = 10.0,
                     what: str = "condition", interval: float = 0.02) -> Any:
    """Ask ``condition`` (a function or a coroutine function) until it answers truthy; return that answer.

    Fails the test with ``"<what>: not true within <deadline>s"`` after ``deadline`` real
    seconds. Between asks the loop is free (real time), so work in flight makes progress.
    """
    start = time.monotonic()
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        assert time.monotonic() - start < deadline, f"{what}: not true within {deadline}s"
        await asyncio.sleep(interval)
