"""Telegram gateway: pacing, flood control and error classification."""

from mediabot.core.telegram.clock import Clock, FakeClock, MonotonicClock
from mediabot.core.telegram.errors import (
    FloodWaitTooLong,
    PermanentReason,
    PermanentTelegramError,
    TelegramError,
    TransientTelegramError,
    classify,
)
from mediabot.core.telegram.flood import FloodConfig, FloodControl
from mediabot.core.telegram.pacing import SendPacer

__all__ = [
    "Clock",
    "FakeClock",
    "FloodConfig",
    "FloodControl",
    "FloodWaitTooLong",
    "MonotonicClock",
    "PermanentReason",
    "PermanentTelegramError",
    "SendPacer",
    "TelegramError",
    "TransientTelegramError",
    "classify",
]
