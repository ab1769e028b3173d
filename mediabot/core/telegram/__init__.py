"""Telegram gateway: pacing, flood control and error classification.

Names are imported on first use (PEP 562): most of this package needs
pyrogram, which takes seconds to import, and the config loader must be able
to read :mod:`mediabot.core.telegram.config` without paying for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mediabot.core.telegram.config import FloodConfig, TelegramSection
    from mediabot.core.telegram.errors import classify
    from mediabot.core.telegram.exceptions import (
        FloodWaitTooLong,
        PermanentReason,
        PermanentTelegramError,
        TelegramError,
        TransientTelegramError,
    )
    from mediabot.core.telegram.flood import FloodControl
    from mediabot.core.telegram.gateway import Gateway
    from mediabot.core.telegram.pacing import SendPacer

_WHERE = {
    "FloodConfig": "config", "TelegramSection": "config",
    "FloodWaitTooLong": "exceptions", "PermanentReason": "exceptions", "PermanentTelegramError": "exceptions",
    "TelegramError": "exceptions", "TransientTelegramError": "exceptions", "classify": "errors",
    "FloodControl": "flood",
    "Gateway": "gateway",
    "SendPacer": "pacing",
}

__all__ = [
    "FloodConfig",
    "FloodControl",
    "FloodWaitTooLong",
    "Gateway",
    "PermanentReason",
    "PermanentTelegramError",
    "SendPacer",
    "TelegramError",
    "TelegramSection",
    "TransientTelegramError",
    "classify",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # next access is a plain lookup
    return value
