"""ops test kit fixtures: a bot with ops listening on a free local port, and an HTTP client."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest_asyncio

_HERE = os.path.dirname(__file__)
if _HERE not in sys.path:  # ops_kit sits next to the tests (no package: --import-mode=importlib)
    sys.path.insert(0, _HERE)

from mediabot_ops import OpsPlugin
from ops_kit import ADMIN, OWNER, Films


@pytest_asyncio.fixture
async def ops_bot(make_bot: Any) -> Any:
    """``await ops_bot(config="...", env={...})``: a bot with ops (on a free local port) and Films; owner OWNER."""

    async def make(config: str = "", *, env: dict[str, str] | None = None, admins: Any = (ADMIN,),
                   owner: int | None = OWNER) -> Any:
        table = config if "[plugins.ops]" in config else '[plugins.ops]\nlisten = "127.0.0.1:0"\n' + config
        return await make_bot(plugins=[OpsPlugin, Films], config=table, env=env, admins=admins, owner=owner)

    return make


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        yield session
