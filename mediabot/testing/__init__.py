"""mediabot's testing kit: a fake Telegram, a bot harness, real test servers.

* :class:`FakeTelegram` -- a fake ``pyrogram.Client`` with Telegram's limits and errors;
* :class:`BotHarness` -- a real app on the fake, driven as users drive it
  (``bot.send``, ``bot.press``, ``bot.inline``, ``bot.post``);
* :class:`FakeClock` -- virtual time (pacing, FloodWaits, loops) that stands still while real work runs;
* :class:`FakeFile` -- a file a user or channel posts;
* pytest fixtures (``make_bot``, ``redis_url``, ``mongo_uri``...) come from
  :mod:`mediabot.testing.pytest_plugin`, registered as a ``pytest11`` plugin.

Names are imported on first use (PEP 562): pytest imports this package in
every session through the plugin, and the fake needs pyrogram, which is slow
to import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mediabot.testing.clock import FakeClock
    from mediabot.testing.fake import CallbackAnswer, FakeTelegram, InlineAnswer
    from mediabot.testing.harness import BotHarness, Replies
    from mediabot.testing.tl import FakeFile, fake_file_id
    from mediabot.testing.waiting import eventually

_WHERE = {
    "BotHarness": "mediabot.testing.harness",
    "CallbackAnswer": "mediabot.testing.fake",
    "FakeClock": "mediabot.testing.clock",
    "FakeFile": "mediabot.testing.tl",
    "FakeTelegram": "mediabot.testing.fake",
    "InlineAnswer": "mediabot.testing.fake",
    "Replies": "mediabot.testing.harness",
    "eventually": "mediabot.testing.waiting",
    "fake_file_id": "mediabot.testing.tl",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
