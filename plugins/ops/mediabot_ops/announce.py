"""Telling the owner who ran ``/update`` or ``/rollback`` how it ended.

The updater runs as its own process and restarts the bot, so the process
that took the command is usually gone by the time the outcome is known. The
updater ends with an audit line ``done`` holding the summary the CLI prints;
every process of the bot looks at the audit log every :data:`EVERY` seconds
(when it changed), and the one that claims a line first (Redis ``SET NX``)
sends the summary to the user in the line's ``by`` (``telegram:<id>``). Lines
older than :data:`MAX_AGE` are never sent: a bot started after a long stop
does not replay old news. Operations started from the CLI (``by`` ``cli``)
are the operator's own terminal's business.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path
from typing import Any

from mediabot import PluginStorage, TelegramError
from mediabot_ops.releases import AuditEntry, AuditLog

__all__ = ["EVERY", "MAX_AGE", "Announcer"]

log = logging.getLogger("mediabot.plugin.ops")

EVERY = 5.0
MAX_AGE = dt.timedelta(days=1)
# A claimed line stays claimed longer than it can be announced.
_CLAIM_SECONDS = int(2 * MAX_AGE.total_seconds())


class Announcer:
    """Sends each finished update's or rollback's summary to the user who asked, once per deployment.

    :param app: the bot (``telegram``, ``clock``).
    :param storage: the ops plugin's storage (its Redis keys).
    :param audit: the audit log's path.
    """

    def __init__(self, app: Any, storage: PluginStorage, audit: Path) -> None:
        self._app = app
        self._storage = storage
        self._audit = AuditLog(audit)
        self._path = audit
        self._seen: tuple[int, int] | None = None
        #: summaries this process sent (for tests and logs)
        self.sent = 0

    async def run(self) -> None:
        """The loop (``ctx.spawn_loop``)."""
        while True:
            await self.once()
            await self._app.clock.sleep(EVERY)

    async def once(self) -> int:
        """Announce what is new in the audit log; returns how many summaries this call sent."""
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            return 0
        mark = (stat.st_mtime_ns, stat.st_size)
        if mark == self._seen:
            return 0
        entries = await asyncio.to_thread(self._audit.entries)
        sent = 0
        for entry in entries:
            if _announceable(entry) and await self._claim(entry):
                sent += await self._send(entry)
        self._seen = mark  # only once every line was handled: a failed claim (Redis away) is tried again
        return sent

    async def _claim(self, entry: AuditEntry) -> bool:
        key = self._storage.key("announced", entry.time, entry.action, entry.tag or "-")
        return bool(await self._storage.redis.set(key, entry.by, nx=True, ex=_CLAIM_SECONDS))

    async def _send(self, entry: AuditEntry) -> int:
        user = int(entry.by.removeprefix("telegram:"))
        command = f"/update {entry.tag}" if entry.action == "update" else "/rollback"
        try:
            await self._app.telegram.send_text(user, f"{command}: {entry.detail}")
        except TelegramError as exc:  # claimed all the same: /releases still shows it
            log.warning("could not tell user %d how %s ended: %s", user, command, exc)
            return 0
        self.sent += 1
        return 1


def _announceable(entry: AuditEntry) -> bool:
    if entry.step != "done" or not entry.by.startswith("telegram:"):
        return False
    if not entry.by.removeprefix("telegram:").lstrip("-").isdigit():
        return False
    try:
        when = dt.datetime.fromisoformat(entry.time)
    except ValueError:
        return False
    # Audit times are the updater's real clock, not the app's (a test's is virtual).
    return dt.datetime.now(dt.UTC) - when <= MAX_AGE
