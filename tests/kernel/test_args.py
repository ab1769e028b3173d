"""The kernel's argument parser: ASCII digits only, explicit ranges, one clear line for anything else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediabot import MAX_TELEGRAM_ID, UsageError, parse_duration, parse_int, parse_user_id

DAY, YEAR = timedelta(days=1), timedelta(days=365)


@pytest.mark.parametrize(("text", "value"), [
    ("1", 1), ("1000", 1000), (" 42 ", 42), ("007", 7), ("+5", 5), ("0" * 3000 + "9", 9),
])  # fmt: skip
def test_ascii_numbers_in_range_parse(text: str, value: int) -> None:
    assert parse_int(text, "N", minimum=1, maximum=1000) == value


@pytest.mark.parametrize("text", [
    "²", "①", "１２", "١٢", "৩", "1_000", "1e3", "1.5", "0x10", "", " ", "-", "ten", "1 2", "0", "1001", "-5",
    "99999999999", "9" * 5000, "5\x00",
])  # fmt: skip
def test_anything_else_is_one_line_naming_the_argument_and_the_range(text: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_int(text, "N", minimum=1, maximum=1000)
    message = raised.value.message
    assert message.startswith("N must be a whole number from 1 to 1000, not ")
    assert "\n" not in message and len(message) < 120


def test_a_negative_range_takes_a_sign() -> None:
    assert parse_int("-3", "OFFSET", minimum=-10, maximum=10) == -3
    assert parse_int("-0", "OFFSET", minimum=-10, maximum=10) == 0
    with pytest.raises(UsageError, match="OFFSET must be a whole number from -10 to 10, not '-11'"):
        parse_int("-11", "OFFSET", minimum=-10, maximum=10)


@given(st.integers(min_value=-(10**30), max_value=10**30), st.integers(min_value=0, max_value=10**20))
def test_every_number_in_range_parses_back_and_every_other_is_refused(value: int, span: int) -> None:
    low, high = -span, span
    if low <= value <= high:
        assert parse_int(str(value), "N", minimum=low, maximum=high) == value
    else:
        with pytest.raises(UsageError):
            parse_int(str(value), "N", minimum=low, maximum=high)


@given(st.text(max_size=30))
def test_any_text_is_a_number_in_range_or_a_usage_error(text: str) -> None:
    try:
        value = parse_int(text, "N", minimum=0, maximum=10**6)
    except UsageError as exc:
        assert exc.message.startswith("N must be a whole number from 0 to 1000000, not ")
        return
    assert 0 <= value <= 10**6
    stripped = text.strip()  # what was accepted is plain ASCII, read as int() reads it
    assert stripped.isascii() and "_" not in stripped and int(stripped) == value


def test_user_ids_are_positive_64_bit_numbers() -> None:
    assert parse_user_id("1001") == 1001
    assert parse_user_id(str(MAX_TELEGRAM_ID)) == MAX_TELEGRAM_ID
    for bad in ("0", "-5", str(MAX_TELEGRAM_ID + 1), "²", "@someone"):
        with pytest.raises(UsageError, match=f"^USER_ID must be a Telegram user id from 1 to {MAX_TELEGRAM_ID}, "):
            parse_user_id(bad)


def test_chat_ids_may_be_negative_but_never_zero() -> None:
    assert parse_user_id("-1001234567890", chats=True) == -1001234567890
    with pytest.raises(UsageError, match="not '0'"):
        parse_user_id("0", chats=True)


@pytest.mark.parametrize(("text", "expected"), [
    ("30d", timedelta(days=30)), ("12h", timedelta(hours=12)), ("90m", timedelta(minutes=90)),
    ("2w", timedelta(weeks=2)), (" 7D ", timedelta(days=7)), ("1d", DAY), ("0052w", timedelta(weeks=52)),
])  # fmt: skip
def test_durations_in_each_unit_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text, minimum=timedelta(minutes=1), maximum=YEAR) == expected


@pytest.mark.parametrize("text", [
    "30x", "-1d", "0d", "d", "1.5d", "", "366d", "53w", "99999999999w", "9" * 5000 + "d", "1d2h", "３0d", "²d",
    "2", "12s", "23h",
])  # fmt: skip
def test_malformed_or_out_of_range_durations_are_one_clear_line(text: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_duration(text, minimum=DAY, maximum=YEAR)
    message = raised.value.message
    assert message.startswith("DURATION must be a duration from 1d to 365d: a whole number and a unit, "
                              "m (minutes), h (hours), d (days), w (weeks), e.g. 30d; not ")
    assert "\n" not in message


def test_seconds_are_a_unit_only_when_asked_for() -> None:
    assert parse_duration("45s", "WAIT", minimum=timedelta(seconds=1), maximum=DAY, units="smh") == \
        timedelta(seconds=45)


@given(st.text(max_size=14))
def test_any_text_is_a_duration_in_range_or_a_usage_error(text: str) -> None:
    try:
        parsed = parse_duration(text, minimum=timedelta(minutes=1), maximum=timedelta(days=3650))
    except UsageError as exc:
        assert exc.message.startswith("DURATION must be a duration from 1m to 3650d")
        return
    assert timedelta(minutes=1) <= parsed <= timedelta(days=3650)


@given(st.text(alphabet=st.characters(categories=("Nd", "No")), min_size=1, max_size=8).filter(
    lambda text: not text.isascii()))
def test_digits_of_other_scripts_superscripts_and_circled_digits_are_always_refused(text: str) -> None:
    with pytest.raises(UsageError):
        parse_int(text, "N", minimum=0, maximum=10**12)
    with pytest.raises(UsageError):
        parse_duration(f"{text}d", minimum=timedelta(minutes=1), maximum=YEAR)
