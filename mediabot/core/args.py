"""The one parser of command arguments that are numbers: user ids, counts, message ids, durations.

Python's ``int()`` and ``str.isdigit()`` take far more than an admin means:
``"²"`` passes ``isdigit()`` and then makes ``int()`` raise, ``"١٢"`` and
``"１２"`` are read as 12, ``"1_000"`` as 1000, and a number of 5,000 digits
raises inside ``int()`` itself. A number that parses can still be too large
for what it feeds (``timedelta(days=99999999999)`` overflows, MongoDB stores
64 bits). So every parser here takes ASCII digits ``0-9`` only, with an
explicit range, and answers anything else with :class:`mediabot.UsageError`:
the user reads one line naming the argument and what it accepts, then the
command's usage line, and nothing changes.

Use them in command handlers::

    n = parse_int(ctx.argv[0], "N", minimum=1, maximum=1000)
    user_id = parse_user_id(ctx.argv[1])
    how_long = parse_duration(ctx.argv[2], minimum=timedelta(minutes=1), maximum=timedelta(days=365))
"""

from __future__ import annotations

import re
from datetime import timedelta

from mediabot.core.context import UsageError

__all__ = ["MAX_TELEGRAM_ID", "parse_duration", "parse_int", "parse_user_id"]

#: The largest id Telegram hands out fits 64 signed bits (what MongoDB stores, too).
MAX_TELEGRAM_ID = 2**63 - 1

_INTEGER = re.compile(r"([+-]?)([0-9]+)")
_DURATION = re.compile(r"([0-9]+)([a-z]+)")
_UNITS = {"s": timedelta(seconds=1), "m": timedelta(minutes=1), "h": timedelta(hours=1),
          "d": timedelta(days=1), "w": timedelta(weeks=1)}
_UNIT_NAMES = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# What a message shows of the user's text: enough to recognise it, never a screenful.
_SHOWN = 24


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN - 1] + "…")


def _digits_value(sign: str, digits: str, bound: int) -> int | None:
    """The value of ``sign digits``, or ``None`` when it is plainly beyond ``bound`` in size.

    Counting digits first keeps ``int()`` away from a string of thousands of
    digits (which it refuses, slowly).
    """
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(bound)):
        return None
    value = int(significant)
    return -value if sign == "-" else value


def parse_int(text: str, name: str, *, minimum: int, maximum: int, what: str = "a whole number") -> int:
    """``text`` as an integer from ``minimum`` to ``maximum`` (both included).

    ASCII digits with an optional ``+``/``-`` sign (a sign only helps when
    ``minimum`` is negative; out of range otherwise). Surrounding spaces are
    ignored; nothing else is: no other digits, fractions, underscores or
    exponents.

    :param name: the argument as the usage line names it (``"N"``, ``"USER_ID"``).
    :param what: what the argument is, for the message (``"a message id"``).
    :raises mediabot.UsageError: ``"N must be a whole number from 1 to 1000, not '①'."``.
    """
    if minimum > maximum:
        raise ValueError(f"parse_int({name!r}): minimum {minimum} is above maximum {maximum}")
    match = _INTEGER.fullmatch(text.strip())
    value = None
    if match is not None:
        value = _digits_value(match[1], match[2], max(abs(minimum), abs(maximum)))
    if value is None or not minimum <= value <= maximum:
        raise UsageError(f"{name} must be {what} from {minimum} to {maximum}, not {_shown(text)}.")
    return value


def parse_user_id(text: str, name: str = "USER_ID", *, chats: bool = False) -> int:
    """A Telegram user id: a whole number from 1 to :data:`MAX_TELEGRAM_ID`.

    :param chats: also accept a chat's negative id (``-100…`` for channels and
        supergroups), e.g. to ban a channel that posts in groups as itself.
    :raises mediabot.UsageError: not such an id; the message names ``name``.
    """
    if not chats:
        return parse_int(text, name, minimum=1, maximum=MAX_TELEGRAM_ID, what="a Telegram user id")
    value = parse_int(text, name, minimum=-MAX_TELEGRAM_ID, maximum=MAX_TELEGRAM_ID,
                      what="a Telegram user id (or a chat's negative id, -100…)")
    if value == 0:
        raise UsageError(f"{name} must be a Telegram user id, or a chat's negative id (-100…), not '0'.")
    return value


def _format_span(span: timedelta) -> str:
    """``3650d``, ``2w``, ``90m``: the largest unit that writes ``span`` exactly, as an admin types it."""
    for unit in ("w", "d", "h", "m", "s"):
        amount, rest = divmod(span, _UNITS[unit])
        if not rest and amount:
            return f"{amount}{unit}"
    return f"{span.total_seconds():g}s"


def parse_duration(text: str, name: str = "DURATION", *, minimum: timedelta, maximum: timedelta,
                   units: str = "mhdw") -> timedelta:
    """``"30d"``, ``"12h"``, ``"90m"``, ``"2w"`` (``"45s"`` when ``units`` has ``s``) as a timedelta.

    A whole number of ASCII digits and one unit; case and surrounding spaces
    are ignored. The range is checked in the unit's own terms, so
    ``"99999999999w"`` is refused instead of overflowing ``timedelta``.

    :param units: the units accepted, a subset of ``"smhdw"``.
    :raises mediabot.UsageError: not such a duration, or outside
        ``minimum``..``maximum``; the message names ``name``, the range and the units.
    """
    if minimum > maximum or not set(units) <= set(_UNITS):
        raise ValueError(f"parse_duration({name!r}): bad range or units {units!r}")
    match = _DURATION.fullmatch(text.strip().lower())
    if match is not None and match[2] in units:
        unit = _UNITS[match[2]]
        limit = maximum // unit
        amount = _digits_value("", match[1], limit)
        # amount <= limit first: amount * unit cannot overflow then.
        if amount is not None and amount <= limit and amount * unit >= minimum:
            return amount * unit
    kinds = ", ".join(f"{u} ({_UNIT_NAMES[u]})" for u in units)
    example = "30d" if "d" in units else f"30{units[-1]}"
    raise UsageError(f"{name} must be a duration from {_format_span(minimum)} to {_format_span(maximum)}: "
                     f"a whole number and a unit, {kinds}, e.g. {example}; not {_shown(text)}.")
