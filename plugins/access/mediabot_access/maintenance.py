"""Maintenance mode: one flag for the whole deployment, in MongoDB, read by each process every few seconds.

``/maintenance on [MESSAGE]`` writes ``{_id: "maintenance", on, message, by, since}``
to ``access.state``; every process keeps its own copy and reads the document
again every ``maintenance_poll`` seconds (the process that changed it knows
at once). So checking the flag on an update costs nothing, the flag survives
a restart of Redis and of every process, and a process that cannot read
MongoDB keeps the last state it knew (health says so).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import msgspec

from mediabot import App, PluginStorage

__all__ = ["DEFAULT_MESSAGE", "Maintenance", "MaintenanceState"]

log = logging.getLogger("mediabot.plugin.access")
DEFAULT_MESSAGE = "The bot is down for maintenance. Please come back in a little while."
_ID = "maintenance"


class MaintenanceState(msgspec.Struct, frozen=True, kw_only=True):
    on: bool = False
    message: str = DEFAULT_MESSAGE
    by: int | None = None
    since: datetime | None = None


class Maintenance:
    """This process's copy of the maintenance flag, refreshed by :meth:`run`."""

    def __init__(self, app: App, storage: PluginStorage, poll: float) -> None:
        self.app = app
        self.storage = storage
        self.poll = poll
        self.state = MaintenanceState()
        #: the last read failure (``None``: the copy is current)
        self.error: str | None = None
        self._gauge = app.metrics.gauge("mediabot_access_maintenance", "1 while maintenance mode is on")

    @property
    def on(self) -> bool:
        return self.state.on

    async def set(self, on: bool, *, message: str | None, by: int) -> MaintenanceState:
        """Switch it for every process; returns the new state."""
        state = MaintenanceState(on=on, message=message or DEFAULT_MESSAGE, by=by, since=self.app.clock.wall())
        doc = {"on": state.on, "message": state.message, "by": state.by, "since": state.since}
        await self.storage.collection("state").replace_one({"_id": _ID}, doc, upsert=True)
        self._apply(state)
        return state

    async def refresh(self) -> None:
        try:
            doc: dict[str, Any] | None = await self.storage.collection("state").find_one({"_id": _ID})
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - MongoDB down: keep the last known state
            self.error = f"{type(exc).__name__}: {exc}"[:200]
            return
        self.error = None
        if doc is None:
            self._apply(MaintenanceState())
            return
        self._apply(MaintenanceState(on=bool(doc.get("on")), message=str(doc.get("message") or DEFAULT_MESSAGE),
                                     by=doc.get("by"), since=doc.get("since")))

    def _apply(self, state: MaintenanceState) -> None:
        if state.on != self.state.on:
            log.warning("maintenance mode %s", "on" if state.on else "off")
        self.state = state
        self._gauge.set(1 if state.on else 0)

    async def run(self) -> None:
        """Read the flag again every ``poll`` seconds, for the app's lifetime (startup read it first)."""
        while True:
            await self.app.clock.sleep(self.poll)
            await self.refresh()
