"""A circuit breaker: closed, open, half-open.

* **closed** — calls go through. The breaker opens after
  ``failure_threshold`` consecutive failures, or when the failure rate over
  the last ``window`` calls reaches ``failure_rate`` (once at least
  ``minimum_calls`` are recorded), whichever comes first.
* **open** — calls are refused at once with :class:`CircuitOpenError`,
  without touching the database, for ``open_seconds``.
* **half-open** — at most ``half_open_trials`` trial calls are in flight at
  a time; any caller beyond them is refused at once. ``close_after``
  successful trials close the breaker; one failed trial opens it again.

Time comes from an injectable ``clock`` (monotonic seconds); the open ->
half-open move happens when the state is next looked at, so a test drives
it by moving its clock. Every transition is reported to ``on_change``.

A result belongs to the state it was admitted in: a call admitted while
closed that fails after the breaker opened does not count again, and a
slow trial finishing after the breaker closed does not reopen it.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

__all__ = ["BreakerStats", "CircuitBreaker", "CircuitOpenError", "Permit", "State"]

log = logging.getLogger("mediabot.plugin.dbrouter.breaker")
State = Literal["closed", "open", "half_open"]
T = TypeVar("T")


class CircuitOpenError(Exception):
    """Refused at once: the breaker is open (or half-open with every trial slot taken).

    :param name: the breaker's name (the database).
    :param state: ``open`` or ``half_open``.
    :param retry_after: seconds until trials are let through (0 when half-open).
    """

    def __init__(self, name: str, state: State, retry_after: float) -> None:
        self.name = name
        self.state = state
        self.retry_after = retry_after
        why = f"open for {retry_after:.1f}s more" if state == "open" else "half-open, trial slots taken"
        super().__init__(f"database {name!r} is unavailable: circuit breaker {why}")


@dataclass(frozen=True, slots=True)
class Permit:
    """Admission of one call: give it back with ``success``, ``failure`` or ``release``."""

    generation: int
    trial: bool


@dataclass(frozen=True, slots=True)
class BreakerStats:
    """Counters for ``/dbstatus``."""

    state: State
    calls: int
    successes: int
    failures: int
    refused: int
    opened: int
    consecutive_failures: int
    failure_rate: float
    retry_after: float


class CircuitBreaker:
    """One breaker, for one database (see the module docstring).

    :param on_change: ``on_change(name, old_state, new_state)``, called on
        every transition (its exceptions are logged, never raised).
    """

    def __init__(self, name: str, *, failure_threshold: int = 5, failure_rate: float = 0.5,
                 window: int = 20, minimum_calls: int = 10, open_seconds: float = 30.0,
                 half_open_trials: int = 2, close_after: int = 2,
                 clock: Callable[[], float] = time.monotonic,
                 on_change: Callable[[str, State, State], None] | None = None) -> None:
        if failure_threshold < 1 or half_open_trials < 1 or close_after < 1 or window < 1:
            raise ValueError("failure_threshold, half_open_trials, close_after and window must be >= 1")
        self.name = name
        self.failure_threshold = failure_threshold
        self.failure_rate = failure_rate
        self.minimum_calls = max(1, min(minimum_calls, window))
        self.open_seconds = open_seconds
        self.half_open_trials = half_open_trials
        self.close_after = close_after
        self.clock = clock
        self.on_change = on_change
        self._state: State = "closed"
        self._generation = 0
        self._opened_at = 0.0
        self._window: deque[bool] = deque(maxlen=window)  # True = failure
        self._consecutive = 0
        self._trials_in_flight = 0
        self._trial_successes = 0
        self.calls = self.successes = self.failures = self.refused = self.opened = 0

    # -- state ---------------------------------------------------------------------
    @property
    def state(self) -> State:
        if self._state == "open" and self.clock() - self._opened_at >= self.open_seconds:
            self._move("half_open")
        return self._state

    @property
    def retry_after(self) -> float:
        if self.state != "open":
            return 0.0
        return max(0.0, self._opened_at + self.open_seconds - self.clock())

    def _move(self, new: State) -> None:
        old = self._state
        if old == new:
            return
        self._state = new
        self._generation += 1
        self._trials_in_flight = 0
        self._trial_successes = 0
        if new == "open":
            self._opened_at = self.clock()
            self.opened += 1
        elif new == "closed":
            self._window.clear()
            self._consecutive = 0
        if self.on_change is not None:
            try:
                self.on_change(self.name, old, new)
            except Exception as exc:
                log.error("breaker %s: state listener failed: %s", self.name, exc, exc_info=exc)

    def trip(self) -> None:
        """Open now, whatever the counters say (an operator's or a probe's verdict)."""
        if self._state == "open":
            self._opened_at = self.clock()
        self._move("open")

    # -- admission -----------------------------------------------------------------
    def acquire(self) -> Permit:
        """Admit one call or refuse it at once.

        :raises CircuitOpenError: open, or half-open with every trial slot taken.
        """
        state = self.state
        if state == "open":
            self.refused += 1
            raise CircuitOpenError(self.name, "open", self.retry_after)
        if state == "half_open":
            if self._trials_in_flight >= self.half_open_trials:
                self.refused += 1
                raise CircuitOpenError(self.name, "half_open", 0.0)
            self._trials_in_flight += 1
            self.calls += 1
            return Permit(self._generation, trial=True)
        self.calls += 1
        return Permit(self._generation, trial=False)

    def success(self, permit: Permit) -> None:
        self.successes += 1
        if permit.generation != self._generation:
            return
        if permit.trial:
            self._trials_in_flight -= 1
            self._trial_successes += 1
            if self._trial_successes >= self.close_after:
                self._move("closed")
            return
        self._consecutive = 0
        self._window.append(False)
        # Like resilience4j: the rate is judged after every call once the window is full enough.
        if self._rate_exceeded():
            self._move("open")

    def failure(self, permit: Permit) -> None:
        self.failures += 1
        if permit.generation != self._generation:
            return
        if permit.trial:
            self._move("open")
            return
        self._consecutive += 1
        self._window.append(True)
        if self._consecutive >= self.failure_threshold or self._rate_exceeded():
            self._move("open")

    def release(self, permit: Permit) -> None:
        """Give back a permit whose call ended without a verdict (cancelled)."""
        if permit.trial and permit.generation == self._generation:
            self._trials_in_flight -= 1

    def _rate_exceeded(self) -> bool:
        if self.failure_rate <= 0 or len(self._window) < self.minimum_calls:
            return False
        return sum(self._window) / len(self._window) >= self.failure_rate

    # -- calling -------------------------------------------------------------------
    async def call(self, fn: Callable[[], Awaitable[T]],
                   is_failure: Callable[[BaseException], bool] = lambda _exc: True) -> T:
        """Run ``fn()`` through the breaker.

        :param is_failure: which exceptions say the database is unhealthy; any
            other exception still counts as an answer (a success) and is re-raised.
        :raises CircuitOpenError: refused without calling ``fn``.
        """
        permit = self.acquire()
        try:
            result = await fn()
        except BaseException as exc:
            if not isinstance(exc, Exception):  # cancelled: no verdict
                self.release(permit)
            elif is_failure(exc):
                self.failure(permit)
            else:
                self.success(permit)
            raise
        self.success(permit)
        return result

    def stats(self) -> BreakerStats:
        window = list(self._window)
        return BreakerStats(
            state=self.state, calls=self.calls, successes=self.successes, failures=self.failures,
            refused=self.refused, opened=self.opened, consecutive_failures=self._consecutive,
            failure_rate=(sum(window) / len(window)) if window else 0.0, retry_after=self.retry_after)
