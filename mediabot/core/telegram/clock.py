"""Deprecated: the clocks moved out of the Telegram package.

* :class:`Clock` and :class:`MonotonicClock` live in :mod:`mediabot.core.clock`
  (``from mediabot import Clock``);
* :class:`FakeClock` lives in the testing kit (``from mediabot.testing import FakeClock``).

This module only re-exports them, for code not yet moved (``mediabot.dev``,
the broadcast and indexer tests); it goes once nothing imports it. It never
imports the testing kit unless ``FakeClock`` is asked for.
"""

from __future__ import annotations

from typing import Any

from mediabot.core.clock import Clock, MonotonicClock

__all__ = ["Clock", "MonotonicClock"]  # and FakeClock, on demand (below)


def __getattr__(name: str) -> Any:
    if name == "FakeClock":
        from mediabot.testing.clock import FakeClock

        return FakeClock
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
