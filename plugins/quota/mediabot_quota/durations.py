"""What an admin may type and what a user reads: the bounds of grants and limits, "resets in 5 h 12 min".

The commands parse with the kernel's :func:`mediabot.parse_duration` and
:func:`mediabot.parse_int`, within these bounds.
"""

from __future__ import annotations

import math
from datetime import timedelta

__all__ = ["MAX_COUNT", "MAX_DURATION", "MIN_DURATION", "format_remaining"]

# A grant longer than ten years is a typo, not a plan; a bigger number of
# files per day than a million is one too (and would not fit a user's day).
MAX_DURATION = timedelta(days=3650)
MAX_COUNT = 1_000_000
MIN_DURATION = timedelta(minutes=1)


def format_remaining(delta: timedelta) -> str:
    """A wait in the user's terms: ``"5 h 12 min"``, ``"40 min"``, ``"2 d 3 h"``, ``"now"``.

    Rounded *up* to the minute, so a user told "1 min" is never early.
    """
    seconds = delta.total_seconds()
    if seconds <= 0:
        return "now"
    minutes = math.ceil(seconds / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
