"""Rates and rate-limit answers: what a limit is, independent of where it is counted.

A :class:`Rate` is configuration (``rate = "5/10s"`` in ``plugins.toml``, a
command's or handler's ``rate=``); a :class:`Decision` is one check's answer.
Both are plain values: the Redis limiter (:mod:`mediabot.core.redis.ratelimit`)
and the in-process fallback (:mod:`mediabot.core.local_services`) count
against the same :class:`Rate` and answer the same :class:`Decision`.
"""

from __future__ import annotations

import re

import msgspec
import msgspec.structs

__all__ = ["Decision", "Rate"]

_UNITS: dict[str, float] = {
    "ms": 0.001,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
}  # fmt: skip

_RATE_RE = re.compile(
    r"""^\s*(?P<count>\d+)\s*/\s*
        (?P<mult>\d+(?:\.\d*)?(?:e[-+]?\d+)?)?\s*(?P<unit>[a-z]+)
        (?:\s+burst\s+(?P<burst>\d+))?\s*$""",
    re.IGNORECASE | re.VERBOSE | re.ASCII,
)
_RATE_FORMS = '"<count>/<period>[ burst <n>]", e.g. "5/10s", "30/min", "1/s", "20/min burst 5"'

_MAX_PERIOD = 366 * 86400.0


class Rate(msgspec.Struct, frozen=True, kw_only=True):
    """``count`` calls per ``period`` seconds, at most ``burst`` of them at once.

    :param count: calls allowed per period (>= 1).
    :param period: seconds (1 ms to 366 days).
    :param burst: calls that may arrive back to back after a quiet spell; 0 (default) means ``count``.
    """

    count: int
    period: float
    burst: int = 0

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"rate count must be >= 1, got {self.count}")
        if not (0.001 <= self.period <= _MAX_PERIOD):
            raise ValueError(f"rate period must be between 1ms and 366 days, got {self.period}s")
        if self.burst < 0:
            raise ValueError(f"rate burst must be >= 1, got {self.burst}")
        if self.burst == 0:
            msgspec.structs.force_setattr(self, "burst", self.count)

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"5/10s"``, ``"30/min"``, ``"1/s"``, ``"20/min burst 5"`` -> :class:`Rate`.

        Units: ms, s, m/min, h, d (and their long forms). Raises ``ValueError``
        naming the accepted forms.
        """
        match = _RATE_RE.match(text)
        if match is None or match["unit"].lower() not in _UNITS:
            raise ValueError(f"invalid rate {text!r}: expected {_RATE_FORMS}")
        mult = float(match["mult"]) if match["mult"] else 1.0
        burst = int(match["burst"]) if match["burst"] else 0
        if match["burst"] and burst < 1:
            raise ValueError(f"invalid rate {text!r}: burst must be >= 1")
        try:
            return cls(
                count=int(match["count"]),
                period=mult * _UNITS[match["unit"].lower()],
                burst=burst,
            )
        except ValueError as error:
            raise ValueError(f"invalid rate {text!r}: {error}") from None

    def __str__(self) -> str:
        # Canonical form, parsed back to an equal Rate: the period in seconds, repr for exactness.
        period = str(int(self.period)) if self.period.is_integer() else repr(self.period)
        burst = f" burst {self.burst}" if self.burst != self.count else ""
        return f"{self.count}/{period}s{burst}"

    @property
    def interval(self) -> float:
        """Seconds between calls at the steady rate."""
        return self.period / self.count


class Decision(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The answer to one rate-limit check.

    :param allowed: go ahead.
    :param retry_after: seconds until a call would be allowed (0 when allowed).
    :param remaining: further calls allowed right now (0 when refused or unknown).
    :param degraded: Redis was unreachable; this answer is the configured policy, not a measurement.
    :param notify: first refusal of this refusal window: tell the user when to retry now, and stay quiet on the following refusals.
    """

    allowed: bool
    retry_after: float
    remaining: int
    degraded: bool = False
    notify: bool = False
