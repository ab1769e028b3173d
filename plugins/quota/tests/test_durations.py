"""What admins type and what users read: durations, counts and the time until reset."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mediabot_quota.durations import MAX_COUNT, MAX_DURATION, format_remaining, parse_count, parse_duration


@pytest.mark.parametrize(("text", "expected"), [
    ("30d", timedelta(days=30)), ("12h", timedelta(hours=12)), ("90m", timedelta(minutes=90)),
    ("2w", timedelta(weeks=2)), (" 7D ", timedelta(days=7)),
])  # fmt: skip
def test_durations_in_each_unit_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(("text", "says"), [
    ("30x", "not a duration"), ("-1d", "not a duration"), ("0d", "longer than zero"), ("d", "not a duration"),
    ("1.5d", "not a duration"), ("", "not a duration"), ("3651d", "too long"), ("999999999w", "too long"),
    ("1d2h", "not a duration"), ("３0d", "not a duration"),
])  # fmt: skip
def test_malformed_durations_raise_a_clear_message(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as raised:
        parse_duration(text)
    assert repr(text) in str(raised.value)


@pytest.mark.parametrize(("text", "says"), [
    ("-1", "not a count"), ("1.5", "not a count"), ("ten", "not a count"), ("", "not a count"),
    ("+3", "not a count"), (str(MAX_COUNT + 1), "too large"), ("9" * 40, "not a count"),
])  # fmt: skip
def test_malformed_counts_raise_a_clear_message(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_count(text)


def test_zero_is_a_valid_count() -> None:
    assert parse_count("0") == 0


@given(st.integers(min_value=1, max_value=3650), st.sampled_from(["m", "h", "d", "w"]))
def test_a_parsed_duration_is_positive_and_bounded_or_refused(amount: int, unit: str) -> None:
    try:
        parsed = parse_duration(f"{amount}{unit}")
    except ValueError as exc:
        assert "too long" in str(exc)
        return
    assert timedelta(0) < parsed <= MAX_DURATION


@given(st.text(max_size=12))
def test_any_text_parses_to_a_valid_duration_or_raises_value_error(text: str) -> None:
    try:
        parsed = parse_duration(text)
    except ValueError as exc:
        assert str(exc)
        return
    assert timedelta(0) < parsed <= MAX_DURATION


@given(st.text(max_size=12))
def test_any_text_parses_to_a_valid_count_or_raises_value_error(text: str) -> None:
    try:
        value = parse_count(text)
    except ValueError:
        return
    assert 0 <= value <= MAX_COUNT
    assert str(value) == text.strip().lstrip("0") or value == 0


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(hours=5, minutes=12), "5 h 12 min"), (timedelta(hours=5, minutes=11, seconds=1), "5 h 12 min"),
    (timedelta(minutes=40), "40 min"), (timedelta(seconds=1), "1 min"), (timedelta(hours=3), "3 h"),
    (timedelta(days=2, hours=3), "2 d 3 h"), (timedelta(0), "now"), (timedelta(seconds=-5), "now"),
])  # fmt: skip
def test_remaining_time_reads_in_hours_and_minutes_rounded_up(delta: timedelta, text: str) -> None:
    assert format_remaining(delta) == text
