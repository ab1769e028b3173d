"""Holding a virtual clock while MongoDB commands are in flight (tests).

:class:`~mediabot.core.telegram.clock.FakeClock` jumps to its next sleeper
whenever the event loop is idle, and waiting for a real server leaves the
loop idle. The app holds its clock during every Redis command
(:func:`mediabot.core.redis.client.connect`) and every MongoDB command (this
listener), so virtual time passes as it would in production: not while a
round trip is under way. With the real clock there is no listener at all.

A plugin that makes its own ``AsyncMongoClient`` passes
``event_listeners=mongo_listeners(app.clock)`` to get the same.
"""

from __future__ import annotations

from typing import Any

from pymongo import monitoring

from mediabot.core.telegram.clock import TimeHolder

__all__ = ["HoldDuringCommands", "mongo_listeners"]


def mongo_listeners(clock: Any) -> list[monitoring._EventListener]:
    """The pymongo event listeners for a client of an app on ``clock``: none unless it is a :class:`TimeHolder`."""
    return [HoldDuringCommands(clock)] if isinstance(clock, TimeHolder) else []


class HoldDuringCommands(monitoring.CommandListener):
    """Holds ``clock`` from a command's start to its success or failure.

    pymongo reports a failure for a command cancelled in flight too, so no hold
    is left behind; one that were would stop holding after the clock's
    ``max_hold``.
    """

    def __init__(self, clock: TimeHolder) -> None:
        self._clock = clock
        self._tokens: dict[tuple[Any, int], int] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self._tokens[(event.connection_id, event.request_id)] = self._clock.hold_io()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._end(event.connection_id, event.request_id)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._end(event.connection_id, event.request_id)

    def _end(self, connection: Any, request_id: int) -> None:
        token = self._tokens.pop((connection, request_id), None)
        if token is not None:
            self._clock.release_io(token)
