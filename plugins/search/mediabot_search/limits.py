"""Per-user search rate: text searches and inline queries count against one rate.

The kernel rate-limits commands and button presses, but a plain text message
reaches plugins through ``mediabot_update`` unlimited, so the plugin checks
``app.ratelimiter`` itself (the same GCRA limiter, shared by every process).
"""

from __future__ import annotations

from typing import Any

# The kernel's Rate is not part of the public API yet (see the plugin's report):
# this is the one place that reaches for it.
from mediabot import Rate

__all__ = ["SearchLimiter", "parse_rate", "retry_text"]


def parse_rate(text: str) -> Any:
    """``"20/min burst 10"`` as the kernel limiter's rate; ``ValueError`` naming the accepted forms."""
    return Rate.parse(text)


def retry_text(seconds: float) -> str:
    return f"Slow down: try again in {max(1, int(seconds + 0.999))} s."


class SearchLimiter:
    """``await limiter.check(user_id)``: ``None`` when the search may run, else what to tell the user.

    The kernel limiter tells a flooding user once per refusal window; the
    following refusals answer ``""`` (stay silent).
    """

    def __init__(self, app: Any, rate: str) -> None:
        self._app = app
        self._rate = Rate.parse(rate)

    async def check(self, user_id: int) -> str | None:
        limiter = self._app.ratelimiter
        if limiter is None:
            return None
        decision = await limiter.check(f"u:{user_id}:search", self._rate)
        if decision.allowed:
            return None
        return retry_text(decision.retry_after) if decision.notify else ""
