"""What a refused user asked for, kept so that Try again can finish it without retyping.

The refusal stores the refused update itself (a kernel type: the file button
they pressed, the ``/start`` link they opened, the text they searched) in
the user's session under a short random key; the Try again button carries
that key. When the user has joined, Try again takes the update out (once:
a second press finds nothing) and hands it to ``app.dispatch``, so it goes
through the whole pipeline again — bans, rates, gates, the plugin that owns
it — as if the user had just sent it.
"""

from __future__ import annotations

import asyncio
import secrets

import msgspec

from mediabot import App, Update

__all__ = ["PendingActions"]

SESSION = "access.retry"
#: Refused actions kept per user: the buttons of the last few refusals keep working.
KEEP = 5


class Pending(msgspec.Struct, kw_only=True):
    key: str
    update: Update


class PendingList(msgspec.Struct, kw_only=True):
    items: list[Pending] = []


class PendingActions:
    def __init__(self, app: App, ttl: float) -> None:
        self.app = app
        self.ttl = ttl
        # One take at a time per process: two quick presses of one button finish the action once.
        self._lock = asyncio.Lock()

    async def keep(self, user_id: int, update: Update) -> str:
        """Store ``update`` for ``user_id``; returns its key (for the Try again button)."""
        store = self.app.sessions.namespace(SESSION, ttl=self.ttl)
        current = await store.get(user_id, PendingList) or PendingList()
        key = secrets.token_hex(4)
        current.items = [Pending(key=key, update=update), *current.items][:KEEP]
        await store.set(user_id, current, self.ttl)
        return key

    async def take(self, user_id: int, key: str) -> Update | None:
        """The update stored under ``key``, removed; ``None`` when it is gone (taken, expired, unknown)."""
        async with self._lock:
            store = self.app.sessions.namespace(SESSION, ttl=self.ttl)
            current = await store.get(user_id, PendingList)
            if current is None:
                return None
            found = next((p for p in current.items if p.key == key), None)
            if found is None:
                return None
            current.items = [p for p in current.items if p.key != key]
            if current.items:
                await store.set(user_id, current, self.ttl)
            else:
                await store.delete(user_id)
            return found.update
