"""Circuit breaker conformance, in the manner of resilience4j's and pybreaker's own suites."""

from __future__ import annotations

import asyncio

import pytest
from mediabot_dbrouter.breaker import CircuitBreaker, CircuitOpenError


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Boom(Exception):
    pass


class Database:
    """Stands for the database behind the breaker: counts the calls that reach it."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False

    async def __call__(self) -> str:
        self.calls += 1
        if self.fail:
            raise Boom("down")
        return "ok"


def breaker(clock: Clock | None = None, journal: list | None = None, **kw) -> CircuitBreaker:
    settings = {"failure_threshold": 5, "failure_rate": 0.0, "open_seconds": 30.0, "half_open_trials": 2,
                "close_after": 2, **kw}
    return CircuitBreaker("db", clock=clock or Clock(),
                          on_change=(lambda n, a, b: journal.append((a, b))) if journal is not None else None,
                          **settings)


async def fail_times(cb: CircuitBreaker, db: Database, n: int) -> None:
    db.fail = True
    for _ in range(n):
        with pytest.raises(Boom):
            await cb.call(db)


async def test_opens_at_the_failure_threshold_and_not_before():
    cb, db = breaker(), Database()
    await fail_times(cb, db, 4)
    assert cb.state == "closed"
    await fail_times(cb, db, 1)
    assert cb.state == "open"


async def test_a_success_resets_the_consecutive_failures():
    cb, db = breaker(), Database()
    await fail_times(cb, db, 4)
    db.fail = False
    await cb.call(db)
    await fail_times(cb, db, 4)
    assert cb.state == "closed"


async def test_opens_when_the_failure_rate_over_the_window_reaches_the_limit():
    cb, db = breaker(failure_threshold=100, failure_rate=0.5, window=10, minimum_calls=10), Database()
    for i in range(9):  # alternating: never 2 failures in a row
        db.fail = i % 2 == 0
        try:
            await cb.call(db)
        except Boom:
            pass
    assert cb.state == "closed"  # 5 of 9 failed, but fewer than minimum_calls recorded
    db.fail = False
    await cb.call(db)
    assert cb.state == "open"  # 5 of 10 = 50 %


async def test_a_failure_rate_below_the_limit_keeps_it_closed():
    cb, db = breaker(failure_threshold=100, failure_rate=0.5, window=10, minimum_calls=10), Database()
    for i in range(40):
        db.fail = i % 3 == 0
        try:
            await cb.call(db)
        except Boom:
            pass
    assert cb.state == "closed"


async def test_while_open_calls_fail_fast_without_touching_the_database():
    clock = Clock()
    cb, db = breaker(clock), Database()
    await fail_times(cb, db, 5)
    reached = db.calls
    clock.now = 10.0
    for _ in range(100):
        with pytest.raises(CircuitOpenError) as info:
            await cb.call(db)
    assert db.calls == reached
    assert info.value.retry_after == pytest.approx(20.0)
    assert cb.stats().refused == 100


async def test_half_open_after_the_open_time():
    clock = Clock()
    cb, db = breaker(clock), Database()
    await fail_times(cb, db, 5)
    clock.now = 29.9
    assert cb.state == "open"
    clock.now = 30.0
    assert cb.state == "half_open"


async def test_exactly_n_trial_calls_when_fifty_callers_arrive_at_once():
    clock = Clock()
    cb, db = breaker(clock, half_open_trials=3, close_after=3), Database()
    await fail_times(cb, db, 5)
    clock.now = 30.0
    gate = asyncio.Event()
    reached = 0

    async def slow_database() -> str:
        nonlocal reached
        reached += 1
        await gate.wait()
        return "ok"

    calls = [asyncio.create_task(cb.call(slow_database)) for _ in range(50)]
    await asyncio.sleep(0)  # every caller has asked the breaker by now
    refused = [t for t in calls if t.done() and isinstance(t.exception(), CircuitOpenError)]
    assert reached == 3 and len(refused) == 47
    assert all(t.exception().state == "half_open" for t in refused)
    gate.set()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert results.count("ok") == 3
    assert cb.state == "closed"


async def test_closes_after_m_successful_trials_not_before():
    clock = Clock()
    cb, db = breaker(clock, half_open_trials=1, close_after=3), Database()
    await fail_times(cb, db, 5)
    clock.now = 30.0
    db.fail = False
    await cb.call(db)
    await cb.call(db)
    assert cb.state == "half_open"
    await cb.call(db)
    assert cb.state == "closed"


async def test_a_failed_trial_reopens_for_a_full_open_time():
    clock = Clock()
    journal: list = []
    cb, db = breaker(clock, journal), Database()
    await fail_times(cb, db, 5)
    clock.now = 30.0
    db.fail = False
    await cb.call(db)  # one good trial...
    db.fail = True
    with pytest.raises(Boom):
        await cb.call(db)  # ...then a bad one
    assert cb.state == "open"
    clock.now = 59.0
    assert cb.state == "open"
    clock.now = 60.0
    assert cb.state == "half_open"
    assert journal == [("closed", "open"), ("open", "half_open"), ("half_open", "open"), ("open", "half_open")]


async def test_a_late_failure_from_before_the_trip_does_not_count_twice():
    clock = Clock()
    cb, db = breaker(clock), Database()
    gate = asyncio.Event()

    async def slow_failure() -> None:
        await gate.wait()
        raise Boom("late")

    late = asyncio.create_task(cb.call(slow_failure))
    await asyncio.sleep(0)
    await fail_times(cb, db, 5)
    clock.now = 30.0
    assert cb.state == "half_open"
    gate.set()
    with pytest.raises(Boom):
        await late
    assert cb.state == "half_open"  # the stale failure did not reopen it


async def test_answers_that_are_not_failures_count_as_successes():
    cb = breaker(failure_threshold=1)

    async def bad_query() -> None:
        raise ValueError("the database answered: bad query")

    for _ in range(3):
        with pytest.raises(ValueError):
            await cb.call(bad_query, is_failure=lambda exc: not isinstance(exc, ValueError))
    assert cb.state == "closed"
    assert cb.stats().successes == 3


async def test_a_cancelled_trial_gives_its_slot_back():
    clock = Clock()
    cb, db = breaker(clock, half_open_trials=1), Database()
    await fail_times(cb, db, 5)
    clock.now = 30.0
    trial = asyncio.create_task(cb.call(asyncio.Event().wait))
    await asyncio.sleep(0)
    with pytest.raises(CircuitOpenError):
        await cb.call(db)
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    db.fail = False
    assert await cb.call(db) == "ok"


def test_stats_describe_the_breaker():
    cb = breaker()
    stats = cb.stats()
    assert (stats.state, stats.calls, stats.failures, stats.opened) == ("closed", 0, 0, 0)
