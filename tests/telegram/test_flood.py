"""FloodControl: FloodWait pauses, retries, error classification, domains.

A small fake Telegram records the fake time of every attempt and raises the
real ``pyrogram.errors`` types.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import pytest
from pyrogram.errors import (
    ChatWriteForbidden,
    FloodWait,
    InputUserDeactivated,
    InternalServerError,
    MessageEmpty,
    PeerIdInvalid,
    ServiceUnavailable,
    SlowmodeWait,
    UserDeactivated,
    UserIsBlocked,
)

from mediabot.core.telegram import (
    FloodConfig,
    FloodControl,
    FloodWaitTooLong,
    PermanentTelegramError,
    TransientTelegramError,
    classify,
)
from mediabot.core.telegram.flood import FLOOD_JITTER
from mediabot.testing import FakeClock


class Events:
    """The metrics sink: counts (event, domain) pairs."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def __call__(self, name: str, domain: str) -> None:
        self.counts[(name, domain)] += 1


class FakeTelegram:
    """Answers sends; enforces a flood window once it has raised FloodWait."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.attempts: list[float] = []
        self.delivered: list[int] = []
        self.flood_until = -math.inf
        self.floods_raised: list[float] = []
        self.scripted: dict[int, BaseException] = {}  # attempt number (1-based) -> error

    async def send(self, chat_id: int) -> int:
        now = self.clock.now()
        self.attempts.append(now)
        if now < self.flood_until:
            self.floods_raised.append(now)
            raise FloodWait(value=math.ceil(self.flood_until - now))
        error = self.scripted.pop(len(self.attempts), None)
        if isinstance(error, FloodWait):
            assert isinstance(error.value, int)
            self.flood_until = now + error.value
            self.floods_raised.append(now)
        if error is not None:
            raise error
        await self.clock.sleep(0.05)  # network round trip
        self.delivered.append(chat_id)
        return chat_id


def make_control(clock: FakeClock, events: Events | None = None, **overrides: Any) -> FloodControl:
    return FloodControl(FloodConfig(**overrides), clock=clock, on_event=events,
                        rng=random.Random(0))


def failing(clock: FakeClock, errors: list[BaseException], result: str = "ok",
            latency: float = 0.0) -> tuple[Callable[[], Awaitable[str]], list[float]]:
    """A call that raises ``errors`` in turn, then returns ``result``; records attempt times.

    ``latency`` is the round trip before Telegram's answer arrives.
    """
    attempts: list[float] = []

    async def fn() -> str:
        attempts.append(clock.now())
        if latency:
            await clock.sleep(latency)
        if len(attempts) <= len(errors):
            raise errors[len(attempts) - 1]
        return result

    return fn, attempts


async def test_one_flood_wait_pauses_the_send_domain_once_and_delivers_everything() -> None:
    clock, events = FakeClock(), Events()
    flood = make_control(clock, events)
    telegram = FakeTelegram(clock)
    telegram.scripted[10] = FloodWait(value=5)

    async def send(chat_id: int) -> int:
        return await flood.call("send", lambda: telegram.send(chat_id), chat_id=chat_id,
                                method="send_message")

    await asyncio.gather(*(send(chat) for chat in range(1, 101)))

    assert sorted(telegram.delivered) == list(range(1, 101))
    assert events.counts[("domain_paused", "send")] == 1
    assert telegram.floods_raised == [telegram.floods_raised[0]]  # no attempt hit the window
    flood_at = telegram.floods_raised[0]
    later = [t for t in telegram.attempts if t > flood_at]
    assert later and min(later) >= flood_at + 5


async def test_concurrent_flood_waits_extend_the_pause_rather_than_add_up() -> None:
    clock, events = FakeClock(), Events()
    flood = make_control(clock, events, global_rate=1000.0)
    # Both requests are in flight when the first FloodWait comes back.
    fn_a, attempts_a = failing(clock, [FloodWait(value=5)], latency=0.1)
    fn_b, attempts_b = failing(clock, [FloodWait(value=6)], latency=0.1)

    await asyncio.gather(flood.call("send", fn_a, chat_id=1), flood.call("send", fn_b, chat_id=2))

    assert max(attempts_a[0], attempts_b[0]) < 0.1
    answered = 0.1  # when the FloodWaits arrived
    retries = [attempts_a[1], attempts_b[1]]
    assert min(retries) >= answered + 6 - 0.01
    assert max(retries) < answered + 6 + FLOOD_JITTER + 0.1  # not 5 + 6
    assert events.counts[("domain_paused", "send")] == 1
    assert events.counts[("pause_extended", "send")] == 1


async def test_flood_wait_above_the_cap_is_raised_at_once_without_sleeping() -> None:
    clock = FakeClock()
    flood = make_control(clock, max_flood_wait=60.0)
    fn, attempts = failing(clock, [FloodWait(value=120)])

    with pytest.raises(FloodWaitTooLong) as caught:
        await flood.call("send", fn, chat_id=1, method="send_message")

    assert caught.value.seconds == 120
    assert caught.value.method == "send_message"
    assert len(attempts) == 1
    assert clock.now() == 0.0
    assert clock.sleep_calls == 0


async def test_a_domain_paused_beyond_the_cap_refuses_new_calls_without_trying() -> None:
    clock = FakeClock()
    flood = make_control(clock, max_flood_wait=60.0)
    fn, _ = failing(clock, [FloodWait(value=300)])
    with pytest.raises(FloodWaitTooLong):
        await flood.call("send", fn, chat_id=1)

    later, later_attempts = failing(clock, [])
    with pytest.raises(FloodWaitTooLong) as caught:
        await flood.call("send", later, chat_id=2)

    assert later_attempts == []
    assert caught.value.seconds == pytest.approx(300)
    assert clock.sleep_calls == 0


async def test_flood_waits_are_retried_at_most_max_retries_times() -> None:
    clock = FakeClock()
    flood = make_control(clock, max_retries=3)
    fn, attempts = failing(clock, [FloodWait(value=1)] * 10)

    with pytest.raises(FloodWaitTooLong):
        await flood.call("edit", fn)

    assert len(attempts) == 1 + 3


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (UserIsBlocked(), "blocked"),
        (InputUserDeactivated(), "deactivated"),
        (PeerIdInvalid(), "peer_invalid"),
        (ChatWriteForbidden(), "forbidden"),
        (MessageEmpty(), "message_empty"),
        (UserDeactivated(), "unauthorized"),
    ],
)
async def test_permanent_errors_are_raised_once_and_never_retried(
    error: Exception, reason: str
) -> None:
    clock, events = FakeClock(), Events()
    flood = make_control(clock, events)
    fn, attempts = failing(clock, [error] * 5)

    with pytest.raises(PermanentTelegramError) as caught:
        await flood.call("send", fn, chat_id=1, method="send_message")

    assert caught.value.reason == reason
    assert caught.value.original is error
    assert caught.value.__cause__ is error
    assert len(attempts) == 1
    assert events.counts[("permanent", "send")] == 1


async def test_transient_errors_are_retried_with_backoff_until_success() -> None:
    clock = FakeClock()
    flood = make_control(clock, backoff_base=0.5, transient_retries=3)
    fn, attempts = failing(clock, [InternalServerError(), ConnectionError("reset")])

    assert await flood.call("read", fn) == "ok"

    assert len(attempts) == 3
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert 0.5 <= gaps[0] <= 0.75  # base, plus up to 50% jitter
    assert 1.0 <= gaps[1] <= 1.5  # doubled


async def test_transient_errors_give_up_after_the_configured_retries() -> None:
    clock, events = FakeClock(), Events()
    flood = make_control(clock, events, transient_retries=3)
    fn, attempts = failing(clock, [ServiceUnavailable(), TimeoutError()] * 10)

    with pytest.raises(TransientTelegramError) as caught:
        await flood.call("download", fn, method="get_file")

    assert len(attempts) == 4
    assert caught.value.attempts == 4
    assert events.counts[("transient_retry", "download")] == 3
    assert events.counts[("transient_exhausted", "download")] == 1


async def test_unknown_errors_surface_unchanged() -> None:
    clock = FakeClock()
    flood = make_control(clock)
    fn, attempts = failing(clock, [ValueError("bug")])

    with pytest.raises(ValueError, match="bug"):
        await flood.call("send", fn, chat_id=1)
    assert len(attempts) == 1


async def test_flood_wait_in_send_does_not_pause_edit() -> None:
    clock = FakeClock()
    flood = make_control(clock)
    send, send_attempts = failing(clock, [FloodWait(value=30)])
    edit, edit_attempts = failing(clock, [])

    async def edit_soon() -> str:
        await clock.sleep(1)  # well inside the send domain's pause
        return await flood.call("edit", edit, method="edit_message_text")

    await asyncio.gather(flood.call("send", send, chat_id=1), edit_soon())

    assert edit_attempts == [1.0]
    assert send_attempts[1] >= 30


async def test_slow_mode_holds_back_one_chat_not_the_domain() -> None:
    clock, events = FakeClock(), Events()
    flood = make_control(clock, events)
    to_group, group_attempts = failing(clock, [SlowmodeWait(value=10)])
    to_user, user_attempts = failing(clock, [])

    async def user_soon() -> str:
        await clock.sleep(1)
        return await flood.call("send", to_user, chat_id=5)

    await asyncio.gather(flood.call("send", to_group, chat_id=-1001), user_soon())

    assert user_attempts == [1.0]
    assert group_attempts[1] >= 10
    assert events.counts[("domain_paused", "send")] == 0
    assert events.counts[("chat_deferred", "send")] == 1


async def test_each_domain_limits_calls_in_flight() -> None:
    clock = FakeClock()
    flood = make_control(clock, read_concurrency=4)
    in_flight = peak = 0

    async def read() -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await clock.sleep(1)
        in_flight -= 1

    await asyncio.gather(*(flood.call("read", read) for _ in range(20)))

    assert peak == 4
    assert clock.now() == 5.0


async def test_a_failing_metrics_sink_does_not_break_calls() -> None:
    def broken_sink(name: str, domain: str) -> None:
        raise RuntimeError("metrics down")

    clock = FakeClock()
    flood = FloodControl(clock=clock, on_event=broken_sink, rng=random.Random(0))
    fn, _ = failing(clock, [InternalServerError()])

    assert await flood.call("send", fn, chat_id=1) == "ok"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (FloodWait(value=3), "flood"),
        (SlowmodeWait(value=3), "flood"),
        (InternalServerError(), "transient"),
        (ServiceUnavailable(), "transient"),
        (ConnectionError(), "transient"),
        (asyncio.TimeoutError(), "transient"),  # noqa: UP041 - what pyrogram code raises
        (OSError("Connection lost"), "transient"),
        (UserIsBlocked(), "permanent"),
        (FileNotFoundError("movie.mkv"), "unknown"),
        (ValueError(), "unknown"),
    ],
)
def test_classify_sorts_errors_by_what_to_do_next(error: BaseException, kind: str) -> None:
    assert classify(error) == kind


def test_flood_config_rejects_unknown_and_invalid_keys() -> None:
    with pytest.raises(msgspec.ValidationError, match="send_concurency"):
        msgspec.convert({"send_concurency": 3}, FloodConfig)
    with pytest.raises(msgspec.ValidationError, match="send_concurrency"):
        msgspec.convert({"send_concurrency": 0}, FloodConfig)
    assert msgspec.convert({"max_flood_wait": 30}, FloodConfig).max_flood_wait == 30.0


async def test_unknown_domain_is_a_clear_error() -> None:
    flood = make_control(FakeClock())
    with pytest.raises(ValueError, match="expected one of send, edit, read, download"):
        await flood.call("upload", failing(FakeClock(), [])[0])
