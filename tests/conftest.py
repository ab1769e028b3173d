"""Fixtures shared by the project's own tests (the testing kit's fixtures come from mediabot.testing)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def services_env(redis_url: str, redis_prefix: str, mongo_uri: str, mongo_db_name: str) -> dict[str, str]:
    """Environment pointing an app at the shared test servers, isolated per test."""
    return {
        "MEDIABOT_REDIS_URL": redis_url,
        "MEDIABOT_MONGO_URI": mongo_uri,
        "MEDIABOT__REDIS__KEY_PREFIX": redis_prefix,
        "MEDIABOT__MONGO__DATABASE": mongo_db_name,
    }


@pytest.fixture
def config_file(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "plugins.toml"
        path.write_text(textwrap.dedent(text))
        return path

    return write
