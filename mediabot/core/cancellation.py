"""A guard for background loops against lost cancellations.

On Python 3.11, ``asyncio.wait_for`` (which redis-py uses around socket
writes) can swallow a ``cancel()`` that arrives just as the inner call
completes (CPython gh-86296, fixed in 3.12). A loop that is almost always in
a Redis call then keeps running after the app asked it to stop, and the
shutdown waits out its deadline. The request is still counted on the task
(``Task.cancelling()``), so a loop calls :func:`honour_cancellation` once per
round and stops. The app's clocks call it at the start of every ``sleep()``:
a loop that sleeps through ``ctx.clock`` needs nothing more.
"""

from __future__ import annotations

import asyncio

__all__ = ["honour_cancellation"]


def honour_cancellation() -> None:
    """Raise ``CancelledError`` if the current task was asked to stop and the request got lost."""
    task = asyncio.current_task()
    if task is not None and task.cancelling() > 0:
        raise asyncio.CancelledError
