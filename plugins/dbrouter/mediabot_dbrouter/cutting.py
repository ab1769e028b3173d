"""Cutting a batch in two so that its claim overlaps its write (see :mod:`mediabot_dbrouter.writes`).

When the home database (the claim registry) and the target are two servers,
a batch can go as a small head, claimed alone and written at once, and the
rest, claimed while the head is written. That hides the home's work on the
rest's claim and costs one more insert command on the target: it pays with
servers on one machine or network, not across the internet to a hosted
cluster. :class:`BatchCutter` decides from what was measured, behind one
switch (``mode``); the writer only asks it, and tells it what claims cost.
"""

from __future__ import annotations

import statistics
from collections import deque
from typing import Any, Literal

__all__ = ["BatchCutter", "CutMode", "cut_pays"]

CutMode = Literal["auto", "always", "never"]


def cut_pays(*, claim_ms_per_key: float | None, rtt_ms: float | None, n: int, head: int) -> bool:
    """The rule of :meth:`BatchCutter.cuts`, a pure function of what was measured.

    Cutting a batch of ``n`` keys hides the claim of the ``n - head`` keys
    behind the head's write, and costs one more insert command on the target,
    counted as two round trips (its round trip and its own fixed cost).

    :param claim_ms_per_key: the home's claim work per key, round trip taken out (``None``: not measured yet).
    :param rtt_ms: the target's round trip (``None``: not measured yet).
    :param n: keys in the batch.
    :param head: keys in the head, claimed and written first.
    :returns: ``True`` when the hidden work outweighs the extra command; ``False`` when anything is unmeasured.
    """
    if claim_ms_per_key is None or rtt_ms is None:
        return False
    return claim_ms_per_key * (n - head) > 2 * rtt_ms


class BatchCutter:
    """Whether and how a batch is cut; what claims cost per key.

    :param head: documents claimed and written first when a batch is cut.
    :param mode: the switch: ``auto`` cuts when :func:`cut_pays` says so;
        ``always`` and ``never`` are for tests and benchmarks.
    """

    def __init__(self, *, head: int = 15, mode: CutMode = "auto") -> None:
        self.head = head
        self.mode: CutMode = mode
        # Milliseconds the home spent per claimed key, over the last claims (their median is used).
        self._claim_costs: deque[float] = deque(maxlen=15)
        #: batches cut in two so far
        self.cut = 0

    def could_cut(self, n: int) -> bool:
        """A batch of ``n`` is bigger than a head and cutting is not switched off."""
        return self.mode != "never" and 0 < self.head < n

    def cuts(self, n: int, rtt_ms: float | None) -> bool:
        """Whether to cut a batch of ``n`` going to a target ``rtt_ms`` away (the claims on another server).

        Cutting hides the home's work on the claim of the rest (``n - head``
        keys: the median time per key of the last claims, their round trip
        taken out) behind the head's write, and costs one more insert
        command on the target: a round trip (the fastest recent ping) and the
        command's own fixed cost, counted as a second round trip. Nothing
        measured yet: whole.
        """
        if not self.could_cut(n):
            return False
        return self.mode == "always" or cut_pays(claim_ms_per_key=self.claim_ms_per_key, rtt_ms=rtt_ms, n=n,
                                                 head=self.head)

    def halves(self, batch: dict[Any, dict[str, Any]]) -> list[dict[Any, dict[str, Any]]]:
        """The head and the rest (counted as one cut).

        Two chunks: more cost more than they hide, every insert command having
        its own fixed cost on the target.
        """
        self.cut += 1
        items = list(batch.items())
        return [dict(items[:self.head]), dict(items[self.head:])]

    def note_claim(self, ms_per_key: float) -> None:
        """Record the home's work per key of one claim (its round trip taken out)."""
        self._claim_costs.append(ms_per_key)

    @property
    def claim_ms_per_key(self) -> float | None:
        """The home's time per claimed key: median of the last claims (``None`` before the first)."""
        return statistics.median(self._claim_costs) if self._claim_costs else None
