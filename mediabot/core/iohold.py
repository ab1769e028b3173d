"""Telling an observer when the app's calls to Redis and MongoDB start and end.

The app takes an optional :class:`IoObserver` (``App(io_observer=...)``) and
reports to it every Redis command and pipeline (:func:`mediabot.core.redis.client.connect`)
and every MongoDB command (:class:`HoldDuringCommands`, a pymongo command
listener), not blocking reads such as ``XREADGROUP ... BLOCK``, which wait for
something to happen rather than for a server to answer. Production passes none
and pays nothing: the Redis client is the plain one and the MongoDB client has
no listener.

The testing kit's virtual clock is the one observer today: it must not jump
ahead while a round trip is under way, since a real one takes no time to
speak of (see :class:`mediabot.testing.FakeClock`). Nothing here is public
API: a plugin that makes its own MongoDB client passes
``**app.mongo_client_options()`` to be observed like the app's.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pymongo import monitoring

__all__ = ["HoldDuringCommands", "IoObserver", "mongo_listeners"]


@runtime_checkable
class IoObserver(Protocol):
    """Told when a call to a real server starts and when it ends."""

    def hold_io(self) -> int:
        """A call starts: return a token for :meth:`release_io`."""
        ...

    def release_io(self, token: int) -> None:
        """The call of ``token`` ended (answered, failed or cancelled)."""
        ...


def mongo_listeners(observer: IoObserver | None) -> list[monitoring._EventListener]:
    """The pymongo event listeners reporting to ``observer``: none without one."""
    return [HoldDuringCommands(observer)] if observer is not None else []


class HoldDuringCommands(monitoring.CommandListener):
    """Reports each command to the observer from its start to its success or failure.

    pymongo reports a failure for a command cancelled in flight too, so no call
    is left open; one that were would stop holding the testing kit's clock
    after its ``max_hold``.
    """

    def __init__(self, observer: IoObserver) -> None:
        self._observer = observer
        self._tokens: dict[tuple[Any, int], int] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self._tokens[(event.connection_id, event.request_id)] = self._observer.hold_io()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._end(event.connection_id, event.request_id)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._end(event.connection_id, event.request_id)

    def _end(self, connection: Any, request_id: int) -> None:
        token = self._tokens.pop((connection, request_id), None)
        if token is not None:
            self._observer.release_io(token)
