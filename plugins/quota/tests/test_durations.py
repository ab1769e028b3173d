"""What users read: the time until their quota resets.

What admins type (durations, counts) is parsed by the kernel: tests/kernel/test_args.py,
and the commands' answers in test_plugin.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from mediabot_quota.durations import format_remaining


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(hours=5, minutes=12), "5 h 12 min"), (timedelta(hours=5, minutes=11, seconds=1), "5 h 12 min"),
    (timedelta(minutes=40), "40 min"), (timedelta(seconds=1), "1 min"), (timedelta(hours=3), "3 h"),
    (timedelta(days=2, hours=3), "2 d 3 h"), (timedelta(0), "now"), (timedelta(seconds=-5), "now"),
])  # fmt: skip
def test_remaining_time_reads_in_hours_and_minutes_rounded_up(delta: timedelta, text: str) -> None:
    assert format_remaining(delta) == text
