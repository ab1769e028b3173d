"""The quota day: the local date in the configured IANA time zone, and when the next one begins.

A day is named by its ISO date (``"2026-03-08"``): such keys sort like the
days they name, which the ledger relies on to move a user's day forward
only (see :mod:`mediabot_quota.pipelines`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["day_key", "load_zone", "next_reset"]


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``tzdata`` supplies it where the system has no zone database).

    :raises ValueError: unknown zone, with the fix.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as 'UTC', 'Europe/Berlin' or 'Asia/Kolkata'"
        ) from exc


def _local_date(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def day_key(instant: datetime, zone: ZoneInfo) -> str:
    """The quota day ``instant`` (timezone-aware) falls in: its local date in ``zone``, ISO format."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return _local_date(instant, zone).isoformat()


def next_reset(day: str, zone: ZoneInfo, *, after: datetime | None = None) -> datetime:
    """The first instant (UTC) after ``after`` at which the local date in ``zone`` is later than ``day``.

    Usually the next local midnight. When that midnight does not exist
    (clocks jump forward across it, or a whole day is skipped, as Samoa did
    on 2011-12-30) the next day begins at the transition instead. When it
    happens twice (clocks fall back across it, as in Chile) and ``after``
    lies between the two, the second one.
    """
    target = date.fromisoformat(day) + timedelta(days=1)
    midnight = datetime.combine(target, time(0), tzinfo=zone)
    # The two readings of a local time differ only inside a transition; in a
    # gap, the day's true start lies between them.
    a, b = sorted((midnight.replace(fold=0).astimezone(UTC), midnight.replace(fold=1).astimezone(UTC)))
    if _local_date(a, zone) >= target:
        return b if after is not None and a <= after < b else a
    # Bisect to the microsecond: at most ~37 steps even for a skipped day.
    low, high = a, b  # low is before the new day, high is in it
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) / 2
        if _local_date(middle, zone) >= target:
            high = middle
        else:
            low = middle
    return high
