"""Channel references, finding a channel's last id, and the plugin's settings."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from mediabot_indexer.config import IndexerConfig
from mediabot_indexer.probe import find_last_id
from mediabot_indexer.refs import ChannelRef, parse_ref

from mediabot import ConfigError
from mediabot.core.config import RawConfig, validate_table


@pytest.mark.parametrize("text, ref", [
    ("https://t.me/c/1234567890/55", ChannelRef(chat_id=-1001234567890, message_id=55)),
    ("t.me/c/1234567890", ChannelRef(chat_id=-1001234567890)),
    ("https://t.me/films_hd/120", ChannelRef(username="films_hd", message_id=120)),
    ("@films_hd", ChannelRef(username="films_hd")),
    ("-1001234567890", ChannelRef(chat_id=-1001234567890)),
])
def test_channel_references_an_admin_may_type(text, ref) -> None:
    assert parse_ref(text) == ref


@pytest.mark.parametrize("text", ["films", "t.me/+AbCdEf", "https://example.com/c/1/2", "@ab", "0", "t.me/c/x/1", "",
                                  "-100１２３", "t.me/c/١٢٣/5", "t.me/the_archive/²", "t.me/the_archive/99999999999"])
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


@pytest.mark.parametrize("key, value, message, accepted", [
    ("min_size", -1, "must be at least 0 (got -1)", "from 0 to 4294967296"),
    ("min_size", 5 * 2**30, "must be at most 4294967296 (got 5368709120)", "from 0 to 4294967296"),
    ("buffer_capacity", 0, "must be at least 1 (got 0)", "from 1 to 1000000"),
    ("max_stream_length", -1, "must be at least 0 (got -1)", "from 0 to 1000000000"),
    ("min_batch", 0, "must be at least 1 (got 0)", "from 1 to 10000"),
    ("max_batch", 20_000, "must be at most 10000 (got 20000)", "from 1 to 10000"),
    ("claim_idle", 0.5, "must be at least 1 (got 0.5)", "from 1 to 86400"),
    ("backfill_interval", 0.0, "must be at least 0.01 (got 0)", "from 0.01 to 86400"),
    ("backfill_interval", 1e-9, "must be at least 0.01 (got 1e-09)", "from 0.01 to 86400"),
    ("sources_refresh", -1.0, "must be at least 0.01 (got -1)", "from 0.01 to 86400"),
    ("max_jobs", 0, "must be at least 1 (got 0)", "from 1 to 100"),
    ("job_lease", 1.0, "must be at least 3 (got 1)", "from 3 to 86400"),
    ("job_poll", 0.0, "must be at least 0.01 (got 0)", "from 0.01 to 3600"),
    ("read_batch", 201, "must be at most 200 (got 201)", "from 1 to 200"),
    ("read_batch", 0, "must be at least 1 (got 0)", "from 1 to 200"),
    ("progress_interval", -1.0, "must be at least 0 (got -1)", "from 0 to 3600"),
    ("backlog_alert", -1, "must be at least 0 (got -1)", "from 0 to 1000000000"),
    ("alert_interval", 10 * 86_400.0, "must be at most 604800 (got 864000)", "from 0 to 604800"),
    ("monitor_interval", 0.0, "must be at least 0.01 (got 0)", "from 0.01 to 3600"),
])
def test_an_out_of_range_setting_fails_the_config_check_naming_file_key_range_and_fix(key, value, message,
                                                                                    accepted) -> None:
    raw = RawConfig(path=Path("plugins.toml"), data={})
    with pytest.raises(ConfigError) as caught:
        validate_table(raw, {key: value}, IndexerConfig, "plugins.indexer")
    assert (caught.value.file, caught.value.key) == ("plugins.toml", f"plugins.indexer.{key}")
    assert caught.value.message == message
    assert caught.value.fix.startswith(f"set {key} to a value {accepted}; the default is "), caught.value.fix
    assert str(caught.value).startswith(f"plugins.toml: [plugins.indexer] {key} = ")


def test_the_defaults_pass_the_config_check() -> None:
    raw = RawConfig(path=Path("plugins.toml"), data={})
    assert validate_table(raw, {}, IndexerConfig, "plugins.indexer") == IndexerConfig()
