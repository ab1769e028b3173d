"""Channel references, finding a channel's last id, and the plugin's settings."""

from __future__ import annotations

import msgspec
import pytest
from mediabot_indexer.config import IndexerConfig
from mediabot_indexer.probe import find_last_id
from mediabot_indexer.refs import ChannelRef, parse_ref

from mediabot import ConfigError


@pytest.mark.parametrize("text, ref", [
    ("https://t.me/c/1234567890/55", ChannelRef(chat_id=-1001234567890, message_id=55)),
    ("t.me/c/1234567890", ChannelRef(chat_id=-1001234567890)),
    ("https://t.me/films_hd/120", ChannelRef(username="films_hd", message_id=120)),
    ("@films_hd", ChannelRef(username="films_hd")),
    ("-1001234567890", ChannelRef(chat_id=-1001234567890)),
])
def test_channel_references_an_admin_may_type(text, ref) -> None:
    assert parse_ref(text) == ref


@pytest.mark.parametrize("text", ["films", "t.me/+AbCdEf", "https://example.com/c/1/2", "@ab", "0", "t.me/c/x/1", ""])
def test_what_is_not_a_channel_reference(text) -> None:
    assert parse_ref(text) is None


class Channel:
    """A channel's ids as Telegram answers reads: those in ``ids`` exist."""

    def __init__(self, ids: set[int]) -> None:
        self.ids = ids
        self.reads = 0

    async def read(self, wanted):
        self.reads += 1
        return [msgspec.defstruct("M", [("id", int)])(i) for i in wanted if i in self.ids]


@pytest.mark.parametrize("last", [1, 150, 200, 201, 999, 4_000, 123_457])
async def test_the_last_id_is_found_by_growing_then_bisecting(last) -> None:
    holes = {i for i in range(1, last) if i % 7 == 0 or 3_000 <= i < 3_150}  # deleted posts, one long run
    channel = Channel(set(range(1, last + 1)) - holes)
    assert await find_last_id(channel.read) == last
    assert channel.reads <= 2 * max(1, last // 200).bit_length() + 3


async def test_an_empty_channel_has_no_last_id() -> None:
    assert await find_last_id(Channel(set()).read) == 0


def test_settings_are_checked_with_a_fix() -> None:
    with pytest.raises(ConfigError, match="min_batch"):
        IndexerConfig(min_batch=50, max_batch=10).validate()
    with pytest.raises(ConfigError, match="neither a channel id nor an @username"):
        IndexerConfig(channels=["not a channel!"]).validate()
    IndexerConfig(channels=[-1001234567890, "@films_hd"]).validate()
