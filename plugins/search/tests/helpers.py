"""Shared pieces of the plugin tests: catalogue files and quiet settings."""

from __future__ import annotations

from mediabot import MediaFile, tokenize
from mediabot.testing.tl import FakeFile

CHANNEL = -1001234567890
# Long kernel upkeep intervals keep the test MongoDB quiet while a test waits for the
# index (the search follower still polls every 0.25 s).
QUIET_KERNEL = "[catalog]\nban_refresh = 3600.0\nflush_interval = 3600.0\noutbox_grace = 3600.0\n"
FAST = QUIET_KERNEL + '[plugins.search]\nrate = "1000/min"\n'


def release(n: int, name: str, size: int = 1_500_000_000) -> MediaFile:
    """A catalogue file as the indexer stores one (tokens from the name), with ids the fake Telegram knows."""
    fake = FakeFile(file_name=name, size=size, media_id=n)
    return MediaFile(file_unique_id=fake.file_unique_id, file_id=fake.file_id, kind="video", file_name=name,
                     size=size, chat_id=CHANNEL, message_id=n, tokens=tokenize(name))
