"""A gateway over the fake Telegram, on virtual time, without an app."""

from __future__ import annotations

import random
from typing import Any

import pytest

from mediabot.core.metrics import Metrics
from mediabot.core.telegram import FloodConfig, Gateway
from mediabot.testing import FakeClock, FakeTelegram


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def fake(clock: FakeClock) -> FakeTelegram:
    telegram = FakeTelegram(clock)
    await telegram.start()
    return telegram


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def make_gateway(fake: FakeTelegram, clock: FakeClock, metrics: Metrics):
    """``make_gateway(**flood_config_overrides) -> Gateway`` over ``fake``, counting into ``metrics``."""

    def make(**overrides) -> Gateway:
        gw = Gateway(fake, config=FloodConfig(**overrides), clock=clock, rng=random.Random(7))
        gw.bind_metrics(metrics)
        return gw

    return make


@pytest.fixture
def gateway(make_gateway) -> Gateway:
    return make_gateway()


@pytest.fixture
def config_file(tmp_path):
    """``config_file(text) -> Path`` of a ``plugins.toml`` holding ``text``."""

    def write(text: str):
        path = tmp_path / "plugins.toml"
        path.write_text(text)
        return path

    return write


class Received:
    """Stands in for the App a started gateway hands updates to (``submit`` and ``metrics`` only)."""

    def __init__(self) -> None:
        self.metrics = Metrics()
        self.updates: list[Any] = []

    def submit(self, update: Any) -> None:
        self.updates.append(update)

    def of(self, kind: type) -> list[Any]:
        return [u for u in self.updates if isinstance(u, kind)]


@pytest.fixture
async def received(gateway: Gateway):
    """The updates the gateway over ``fake`` hands on, once started (the fake dispatches synchronously)."""
    app = Received()
    await gateway.start(app)  # type: ignore[arg-type]
    yield app
    await gateway.stop_updates()
