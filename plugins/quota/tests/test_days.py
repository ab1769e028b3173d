"""The quota day: local date in the configured zone, and the instant the next one begins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mediabot_quota.days import day_key, load_zone, next_reset

ZONES = ["UTC", "Asia/Kolkata", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Pacific/Apia",
         "America/Sao_Paulo", "Asia/Kathmandu", "America/Havana", "Pacific/Chatham", "Africa/Casablanca",
         "America/Santiago"]
TICK = timedelta(microseconds=1)


@settings(max_examples=300)
@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)),
       st.sampled_from(ZONES))
def test_the_next_day_begins_at_next_reset_and_not_a_microsecond_earlier(instant: datetime, name: str) -> None:
    zone = load_zone(name)
    today = day_key(instant, zone)
    reset = next_reset(today, zone, after=instant)
    assert reset > instant
    assert day_key(reset, zone) > today
    assert day_key(reset - TICK, zone) <= today
    # A day lasts at most 25 hours, except the one Samoa skipped (it lasted none).
    assert reset - instant <= timedelta(hours=49)


def test_kolkata_midnight_is_1830_utc() -> None:
    zone = load_zone("Asia/Kolkata")
    assert day_key(datetime(2026, 3, 7, 18, 29, 59, tzinfo=UTC), zone) == "2026-03-07"
    assert day_key(datetime(2026, 3, 7, 18, 30, tzinfo=UTC), zone) == "2026-03-08"
    assert next_reset("2026-03-07", zone) == datetime(2026, 3, 7, 18, 30, tzinfo=UTC)


def test_new_york_days_around_dst_last_23_and_25_hours() -> None:
    zone = load_zone("America/New_York")
    spring = next_reset("2026-03-08", zone) - next_reset("2026-03-07", zone)
    autumn = next_reset("2026-11-01", zone) - next_reset("2026-10-31", zone)
    assert (spring, autumn) == (timedelta(hours=23), timedelta(hours=25))


def test_a_midnight_skipped_by_dst_starts_the_day_at_the_transition() -> None:
    # Sao Paulo moved its clocks from 00:00 to 01:00 on 2018-11-04: that day began at 03:00 UTC.
    zone = load_zone("America/Sao_Paulo")
    assert next_reset("2018-11-03", zone) == datetime(2018, 11, 4, 3, 0, tzinfo=UTC)


def test_the_day_samoa_skipped_is_never_a_quota_day() -> None:
    zone = load_zone("Pacific/Apia")
    reset = next_reset("2011-12-29", zone)
    assert day_key(reset, zone) == "2011-12-31"
    assert day_key(reset - TICK, zone) == "2011-12-29"


def test_an_unknown_zone_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="IANA name"):
        load_zone("Mars/Olympus")


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        day_key(datetime(2026, 1, 1), load_zone("UTC"))


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2037, 12, 30)), st.sampled_from(ZONES))
def test_day_keys_sort_like_days(day: date, name: str) -> None:
    zone = load_zone(name)
    assert next_reset(day.isoformat(), zone) < next_reset((day + timedelta(days=1)).isoformat(), zone)
