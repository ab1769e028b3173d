"""What an admin types and what a user reads: durations, counts, "resets in 5 h 12 min".

The parsers raise :class:`ValueError` with a message fit to show the admin
as is (a command handler prints it under its usage line and changes nothing).
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

__all__ = ["MAX_COUNT", "MAX_DURATION", "format_remaining", "parse_count", "parse_duration"]

# A grant longer than ten years is a typo, not a plan; a bigger number of
# files per day than a million is one too (and would not fit a user's day).
MAX_DURATION = timedelta(days=3650)
MAX_COUNT = 1_000_000

_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
# ASCII digits only: \d and int() accept "３" too, which an admin never means.
_DURATION = re.compile(r"([0-9]{1,9})([mhdw])")
_COUNT = re.compile(r"[0-9]{1,9}")
_DURATION_HELP = "use a whole number and a unit: m (minutes), h (hours), d (days) or w (weeks), e.g. 30d, 12h, 90m, 2w"


def parse_duration(text: str) -> timedelta:
    """``"30d"``, ``"12h"``, ``"90m"``, ``"2w"`` (case and surrounding spaces ignored) as a timedelta.

    :raises ValueError: not a number and one unit, zero, or longer than :data:`MAX_DURATION`.
    """
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"{text!r} is not a duration: {_DURATION_HELP}")
    amount = int(match.group(1))
    if amount == 0:
        raise ValueError(f"{text!r} is not a duration: it must be longer than zero")
    # Compared in the unit's own terms: 10**9 weeks would overflow timedelta.
    if amount > MAX_DURATION // _UNITS[match.group(2)]:
        raise ValueError(f"{text!r} is too long: at most {MAX_DURATION.days} days")
    return amount * _UNITS[match.group(2)]


def parse_count(text: str, *, maximum: int = MAX_COUNT) -> int:
    """A whole number of files from 0 to ``maximum`` (0 is a valid limit: the user gets nothing).

    :raises ValueError: a sign, a fraction, anything that is not digits, or more than ``maximum``.
    """
    stripped = text.strip()
    if _COUNT.fullmatch(stripped) is None:
        raise ValueError(f"{text!r} is not a count: use a whole number from 0 to {maximum}")
    value = int(stripped)
    if value > maximum:
        raise ValueError(f"{text!r} is too large: at most {maximum}")
    return value


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
