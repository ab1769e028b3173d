"""Finding a channel's last message id when nobody told us: grow, then bisect.

Bots cannot ask Telegram for a channel's newest id; they can only read ids.
A probe at ``n`` reads the window ``n .. n + window - 1`` (one call) and says
whether any message is there. Probes at 1, ``window``, ``2 window``, ``4
window``... grow until one finds nothing, then bisection narrows the last
window that holds messages. Deleted posts leave holes; a hole shorter than
the window cannot fool it, a run of ``window`` (200) or more deleted posts
can end the search early (an admin then gives the last id, or a link to the
newest post).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

__all__ = ["find_last_id"]

Read = Callable[[Sequence[int]], Awaitable[Sequence[Any]]]


async def find_last_id(read: Read, *, window: int = 200) -> int:
    """The highest message id found, 0 when the channel has none. About ``2 log2(last / window)`` reads.

    :param read: reads message ids (``app.telegram.read_channel`` for one channel); returns what exists.
    """

    async def probe(n: int) -> int | None:
        found = await read(list(range(n, n + window)))
        return max((m.id for m in found), default=None)

    top = await probe(1)
    if top is None:
        return 0
    lo, n = 1, window
    while True:
        found = await probe(n)
        if found is None:
            hi = n
            break
        top, lo, n = max(top, found), n, n * 2
    # Messages in the window at lo, none in the one at hi: narrow until the windows touch.
    while hi - lo > window:
        mid = (lo + hi) // 2
        found = await probe(mid)
        if found is None:
            hi = mid
        else:
            top, lo = max(top, found), mid
    return top
