"""The broadcast's own send rate: steps down after a FloodWait, climbs back slowly.

The kernel's bulk budget caps every broadcast at ``[telegram] bulk_share`` of
the bot's rate and gives replies the slots first. On top of that the
broadcast keeps its own target: a FloodWait means Telegram disagrees with
our idea of the limit, so the target is multiplied by ``step_down`` at once
and only regains ``recover_step`` of the top rate after each ``recover_every``
seconds without one (additive increase, multiplicative decrease: the rule
that keeps TCP from oscillating).
"""

from __future__ import annotations

import math

from mediabot import Clock

__all__ = ["StepRate"]


class StepRate:
    """A target rate with evenly spaced send slots.

    :param clock: the app clock.
    :param top: the highest rate, messages per second.
    :param floor: the rate never goes below this.
    :param step_down: factor applied at each FloodWait.
    :param recover_every: seconds without FloodWait per step back up.
    :param recover_step: fraction of ``top`` regained per step.
    """

    def __init__(self, clock: Clock, *, top: float, floor: float = 1.0, step_down: float = 0.5,
                 recover_every: float = 30.0, recover_step: float = 0.1) -> None:
        self._clock = clock
        self.top = top
        self.floor = min(floor, top)
        self.step_down = step_down
        self.recover_every = recover_every
        self.recover_step = recover_step
        self._rate = top
        self._changed = clock.now()
        self._next = -math.inf
        self.steps_down = 0

    @property
    def rate(self) -> float:
        """The current target, messages per second (recovery applied)."""
        now = self._clock.now()
        steps = int((now - self._changed) // self.recover_every)
        if steps > 0 and self._rate < self.top:
            self._rate = min(self.top, self._rate + steps * self.recover_step * self.top)
            self._changed += steps * self.recover_every
        elif self._rate >= self.top:
            self._changed = now
        return self._rate

    def on_flood(self) -> None:
        """Telegram asked us to wait: slow down now."""
        self._rate = max(self.floor, self.rate * self.step_down)
        self._changed = self._clock.now()
        self.steps_down += 1

    async def wait(self) -> None:
        """Wait for the next slot at the current rate (first come, first served)."""
        now = self._clock.now()
        slot = max(now, self._next)
        self._next = slot + 1.0 / self.rate
        if slot > now:
            await self._clock.sleep(slot - now)
