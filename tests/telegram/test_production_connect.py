"""Connecting to Telegram at start: bounded, and a failure is one line naming Telegram, not pyrogram internals.

Only the client's ``start``/``stop`` are replaced (there is no network here);
the rest is the production gateway as ``mediabot run`` builds it.
"""

from __future__ import annotations

import asyncio
import logging

import pyrogram.errors
import pytest
from pyrogram import types as pt

from mediabot import create_app
from mediabot.core.errors import ResourceError
from mediabot.core.telegram.production import create_production_gateway

CREDENTIALS = {"MEDIABOT_API_ID": "12345", "MEDIABOT_API_HASH": "0123456789abcdef0123456789abcdef",
               "MEDIABOT_BOT_TOKEN": "12345:AAAA", "MEDIABOT_CALLBACK_SECRET": "k" * 32}


def production_app(config_file, tmp_path, start, stop=None, connect_timeout=60.0):
    path = config_file(f'[telegram]\nsession_dir = ""\nconnect_timeout = {connect_timeout}\n'
                       f'[runtime]\ndata_dir = "{tmp_path / "data"}"\n')
    app = create_app(path, env=CREDENTIALS, telegram_secrets=True)
    app.gateway = gateway = create_production_gateway(app)
    gateway.client.start = start
    if stop is not None:
        gateway.client.stop = stop
    return app


async def test_no_route_to_telegram_is_one_line_not_a_key_error(config_file, tmp_path):
    async def start():
        raise KeyError(0)  # what pyrogram raises when no data center answers

    app = production_app(config_file, tmp_path, start)
    with pytest.raises(ResourceError) as caught:
        await app.start()
    assert str(caught.value) == ("Telegram: cannot connect (KeyError: 0); check the network route to Telegram's "
                                 "data centers (waited at most 60s ([telegram] connect_timeout))")
    assert app.state == "stopped"


async def test_a_connect_that_hangs_ends_at_the_connect_timeout(config_file, tmp_path):
    async def start():
        await asyncio.Event().wait()  # pyrogram retrying an unreachable data center

    app = production_app(config_file, tmp_path, start, connect_timeout=0.2)
    with pytest.raises(ResourceError, match=r"^Telegram: not connected and logged in within 0\.2s "
                                            r"\(\[telegram\] connect_timeout\)"):
        await app.start()


async def test_a_refused_bot_token_says_which_credentials_to_check(config_file, tmp_path):
    async def start():
        raise pyrogram.errors.AccessTokenInvalid()

    app = production_app(config_file, tmp_path, start)
    with pytest.raises(ResourceError, match=r"^Telegram refused the login: ACCESS_TOKEN_INVALID: .*check "
                                            r"MEDIABOT_BOT_TOKEN"):
        await app.start()


async def test_a_disconnect_that_hangs_does_not_hold_the_stop(config_file, tmp_path, caplog):
    async def start():
        return None

    async def stop(block=True):
        await asyncio.Event().wait()  # a connection that never closes

    async def get_me():
        return pt.User(id=7000, is_bot=True, first_name="Bot", username="the_bot")

    async def set_bot_commands(**_):
        return True

    app = production_app(config_file, tmp_path, start, stop=stop, connect_timeout=0.2)
    app.gateway.client.get_me = get_me
    app.gateway.client.set_bot_commands = set_bot_commands
    await app.start()
    assert app.telegram.me is not None and app.telegram.me.username == "the_bot"
    with caplog.at_level(logging.WARNING, logger="mediabot.telegram"):
        await app.stop()
    assert app.state == "stopped"
    assert "the client did not disconnect within 0.2s ([telegram] connect_timeout)" in caplog.text
