"""Admission of updates: how much work is in flight at once, overall and per user.

Telegram cannot be asked to slow down, so the kernel bounds what it holds:

* at most ``[runtime] max_in_flight`` updates are handled at once; more wait
  in a queue of at most ``[runtime] max_waiting``; beyond that an update is
  dropped and counted (``mediabot_updates_dropped_total{reason="overload"}``);
* one user has at most ``[runtime] max_in_flight_per_user`` updates handled
  at once, and at most ``[runtime] max_waiting_per_user`` waiting: a user who
  sends faster than the bot answers has the oldest waiting update replaced by
  the newest (``reason="replaced"``) — their latest search wins, and a flood
  from one user never holds the others' turns.

Waiting updates start in arrival order as slots free up. Memory is bounded by
the two queue sizes, whatever the flood. Updates without a user (channel
posts, deletions) count against the global limits only.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from itertools import islice
from typing import Any

from mediabot.core.types import Message, MessageEdited

__all__ = ["Admission"]


class Admission:
    """Starts updates within the limits (see the module docstring).

    :param start: starts one update's work; returns its task (or ``None`` if it was not taken).
    :param on_drop: told ``(reason)`` for each dropped update.
    """

    def __init__(self, start: Callable[[Any], Any], *, max_in_flight: int, max_waiting: int,
                 per_user: int, per_user_waiting: int, on_drop: Callable[[str], None]) -> None:
        self._start = start
        self.max_in_flight = max_in_flight
        self.max_waiting = max_waiting
        self.per_user = per_user
        self.per_user_waiting = per_user_waiting
        self._on_drop = on_drop
        self.in_flight = 0
        self._by_user: dict[int, int] = {}
        # Per user, their waiting updates; the dict's order is the order users queued in.
        self._waiting: OrderedDict[int | None, deque[Any]] = OrderedDict()
        self.waiting = 0

    def submit(self, update: Any) -> Any:
        """Start ``update`` now if the limits allow (returns its task), else queue it or drop it (``None``)."""
        user = _user_of(update)
        if self._may_start(user) and not self._waiting.get(user):
            return self._run(update, user)
        queue = self._waiting.get(user)
        if queue is None:
            queue = self._waiting[user] = deque()
        if user is not None and len(queue) >= self.per_user_waiting:
            queue.popleft()  # this user's oldest waiting update gives way to the newest
            self.waiting -= 1
            self._on_drop("replaced")
        elif self.waiting >= self.max_waiting:
            if not queue:
                del self._waiting[user]
            self._on_drop("overload")
            return None
        queue.append(update)
        self.waiting += 1
        return None

    def _may_start(self, user: int | None) -> bool:
        if self.in_flight >= self.max_in_flight:
            return False
        return user is None or self._by_user.get(user, 0) < self.per_user

    def _run(self, update: Any, user: int | None) -> Any:
        task = self._start(update)
        if task is None:
            return None
        self.in_flight += 1
        if user is not None:
            self._by_user[user] = self._by_user.get(user, 0) + 1
        task.add_done_callback(lambda _t: self._finished(user))
        return task

    def _finished(self, user: int | None) -> None:
        self.in_flight -= 1
        if user is not None:
            left = self._by_user[user] - 1
            if left:
                self._by_user[user] = left
            else:
                del self._by_user[user]
        self._start_waiting()

    def _start_waiting(self, scan: int = 64) -> None:
        # Oldest queue first; a user still at their own limit is moved to the back, not
        # waited for. The scan is bounded so one finished task costs O(1), whatever the backlog.
        for user in list(islice(self._waiting, scan)):
            if self.in_flight >= self.max_in_flight:
                return
            queue = self._waiting[user]
            if self._may_start(user):
                self.waiting -= 1
                self._run(queue.popleft(), user)
            if not queue:
                del self._waiting[user]
            else:
                self._waiting.move_to_end(user)


def _user_of(update: Any) -> int | None:
    """The sender whose updates share a per-user cap: a user, or a chat a message was sent as.

    Channel posts are not capped per sender: they are the indexer's input and
    arrive in bursts from one channel (the global cap still bounds them).
    """
    message = update.message if isinstance(update, MessageEdited) else update
    if isinstance(message, Message) and message.is_channel_post:
        return None
    return getattr(update, "sender_id", None)
