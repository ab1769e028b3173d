"""The catalogue is tuned from [catalog] in plugins.toml."""

from __future__ import annotations

import pytest

from mediabot import ConfigError, create_app


async def test_catalog_section_tunes_user_tracking(config_file, services_env):
    app = create_app(config_file("[catalog]\ntouch_interval = 42\nban_refresh = 5\n"), env=services_env)
    await app.start()
    try:
        assert app.users.touch_interval == 42
        assert app.plugin("kernel.catalog").ban_refresh == 5
    finally:
        await app.stop()


def test_a_nonsense_interval_is_a_config_error(config_file):
    with pytest.raises(ConfigError, match=r"plugins\.toml: \[catalog\] touch_interval = 0: must be at least 0\.01 "
                                          r"\(got 0\) \(set touch_interval to a value from 0\.01 to 86400; "
                                          r"the default is 300\)$"):
        create_app(config_file("[catalog]\ntouch_interval = 0\n"), env={})
