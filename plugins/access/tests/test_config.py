"""Bad [plugins.access] tables stop the bot with one line naming the key and the fix."""

from __future__ import annotations

import msgspec
import pytest
from mediabot_access import AccessConfig

from mediabot import ConfigError


def load(toml: str) -> AccessConfig:
    config = msgspec.toml.decode(toml, type=AccessConfig)
    config.validate()
    return config


@pytest.mark.parametrize(("toml", "key", "fix"), [
    ('channels = [{ chat = "films" }]', "channels[0].chat", '"@films"'),
    ("channels = [{ chat = -1001 }, { chat = -1001 }]", "channels[1].chat", "list each chat once"),
    ('channels = [{ chat = -1001, link = "http://evil" }]', "channels[0].link", "t.me"),
    ('text = "Join first."', "text", "{chats}"),
])
def test_a_bad_table_names_the_key_and_the_fix(toml, key, fix):
    with pytest.raises(ConfigError) as err:
        load(toml)
    assert err.value.key == key and fix in (err.value.fix or "")


def test_config_action_names_map_onto_the_kernels_gate_actions():
    config = load('actions = ["delivery", "deep_link", "search", "inline", "commands"]\nchannels = [{ chat = -1001 }]')
    assert config.gate_actions == {"deliver", "deep_link", "search", "inline"}
    assert load("").actions == ["delivery", "deep_link"]
