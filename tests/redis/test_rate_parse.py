"""Rate strings from plugins.toml: what parses, to what, and what is refused."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediabot.core.config import ServicesSection
from mediabot.core.redis import Rate

rates = st.builds(
    Rate,
    count=st.integers(1, 10**6),
    period=st.floats(0.001, 366 * 86400, allow_nan=False, allow_infinity=False),
    burst=st.integers(0, 10**6),
)

UNITS = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "minutes": 60, "h": 3600,
         "hour": 3600, "d": 86400, "days": 86400}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5/10s", Rate(count=5, period=10.0, burst=5)),
        ("30/min", Rate(count=30, period=60.0)),
        ("1/s", Rate(count=1, period=1.0)),
        ("20/min burst 5", Rate(count=20, period=60.0, burst=5)),
        (" 3 / 1.5 h ", Rate(count=3, period=5400.0)),
        ("100/500ms", Rate(count=100, period=0.5)),
        ("2/D", Rate(count=2, period=86400.0)),
    ],
)
def test_documented_forms_parse(text: str, expected: Rate) -> None:
    assert Rate.parse(text) == expected


def test_burst_defaults_to_count() -> None:
    assert Rate(count=7, period=1.0).burst == 7


@given(rates)
def test_canonical_string_parses_back_to_the_same_rate(rate: Rate) -> None:
    assert Rate.parse(str(rate)) == rate


@given(st.integers(1, 10**6), st.integers(1, 366), st.sampled_from(sorted(UNITS)))
def test_count_multiplier_and_unit_make_the_period(count: int, mult: int, unit: str) -> None:
    rate = Rate.parse(f"{count}/{mult}{unit}")
    assert rate.count == count
    assert rate.period == pytest.approx(mult * UNITS[unit])


@given(st.text())
def test_any_text_parses_or_raises_value_error(text: str) -> None:
    try:
        rate = Rate.parse(text)
    except ValueError as error:
        assert "invalid rate" in str(error)
    else:
        assert rate.count >= 1 and rate.burst >= 1 and rate.period > 0


@pytest.mark.parametrize(
    "text",
    ["", "5", "5/", "/s", "0/s", "-1/s", "5/0s", "5/10 fortnights", "5/10s burst 0",
     "5/10s burst", "five/s", "5/400d", "5/0.0001s", "5/10s extra", "1e3/s"],
)  # fmt: skip
def test_garbage_is_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"invalid rate .*"):
        Rate.parse(text)


def test_config_refuses_a_bad_default_rate_at_load_time() -> None:
    with pytest.raises(msgspec.ValidationError, match="invalid rate"):
        msgspec.convert({"user_rate": "20 per minute"}, ServicesSection)


def test_config_refuses_unknown_keys() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.convert({"rate_limit_polciy": "fail_open"}, ServicesSection)
