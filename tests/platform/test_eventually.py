"""The testing kit's ``eventually``: a condition, a deadline, and the few ways tests wait."""

from __future__ import annotations

import pytest

from mediabot.testing import FakeClock, eventually


async def test_a_due_outcome_on_virtual_time_is_awaited_by_letting_the_clock_run():
    clock = FakeClock()
    deadline = clock.now() + 600  # a deletion due in ten minutes

    assert await eventually(lambda: clock.now() >= deadline, clock=clock, step=60) is True
    assert clock.now() == deadline  # ten steps of one virtual minute, no real wait


async def test_errors_named_in_ignore_count_as_not_yet():
    answers = iter([ConnectionError("restarting"), ConnectionError("restarting"), "pong"])

    def ping() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert await eventually(ping, ignore=(ConnectionError,), interval=0) == "pong"


async def test_an_error_still_raised_at_the_deadline_fails_naming_it():
    def ping() -> str:
        raise ConnectionError("refused")

    with pytest.raises(AssertionError, match=r"server: not true within 0\.05s; last raised ConnectionError"):
        await eventually(ping, ignore=(ConnectionError,), deadline=0.05, what="server")


async def test_with_fail_off_the_last_answer_is_returned_at_the_deadline():
    assert await eventually(lambda: 0, deadline=0.05, fail=False) == 0
    with pytest.raises(AssertionError, match=r"count: not true within 0\.05s; last seen 0"):
        await eventually(lambda: 0, deadline=0.05, what="count")
