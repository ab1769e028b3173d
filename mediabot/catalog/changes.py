"""The catalogue's change stream: every insert, update and removal, for every process.

The process that writes calls the ``mediabot_files_added`` /
``mediabot_files_updated`` / ``mediabot_files_removed`` hooks; every process
(itself included) can also read the same changes from a Redis Stream,
``<key_prefix>:{catalog}:changes``, bounded to ``[catalog]
change_stream_length`` entries (one entry per write, not per file).

Nothing is lost when a process dies between the database write and the
publish: before writing, the catalogue records an *intent* in the home
database (``catalog_outbox``: the operation and the catalogue ids). The
intent is deleted once its change is in the stream. Intents older than
``[catalog] outbox_grace`` are found by a loop in every process; one process
claims each (compare-and-set on a lease), reads the files' current state
and publishes it. A change may therefore be published twice (the writer was
only slow), never zero times: readers apply changes idempotently (by
catalogue id).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec

from mediabot.catalog.models import MediaFile

__all__ = ["CatalogChange", "ChangeFeed", "ChangeOp", "Outbox"]

log = logging.getLogger("mediabot.catalog.changes")

ChangeOp = Literal["add", "update", "remove"]
OUTBOX = "catalog_outbox"


class CatalogChange(msgspec.Struct, kw_only=True):
    """One write to the catalogue, as the change stream carries it.

    :param op: ``add`` (new files), ``update`` (caption, tokens... changed; the
        files as they are now) or ``remove`` (deleted, or marked dead: the
        files as they were).
    :param files: the files concerned.
    :param at: when the change was published (UTC).
    """

    op: ChangeOp
    files: list[MediaFile]
    at: datetime | None = None


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(CatalogChange)


class ChangeFeed:
    """Publish to and read the catalogue's change stream (``app.changes``).

    :param redis: the app's ``redis.asyncio.Redis``.
    :param key: the stream's key.
    :param max_length: about how many entries the stream keeps (``MAXLEN ~``).
    """

    def __init__(self, redis: Any, key: str, *, max_length: int) -> None:
        self.redis = redis
        self.key = key
        self.max_length = max_length

    async def publish(self, change: CatalogChange) -> str:
        """Append ``change``; returns its stream id. Raises what Redis raises."""
        entry_id = await self.redis.xadd(self.key, {"c": _encoder.encode(change)},
                                         maxlen=self.max_length, approximate=True)
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    async def read(self, after: str = "0-0", *, count: int = 100,
                   block: float | None = None) -> list[tuple[str, CatalogChange]]:
        """Changes after stream id ``after`` (``"0-0"``: from the oldest kept), oldest first.

        :param count: at most this many entries.
        :param block: seconds to wait for one when there is none yet (``None``: answer at once).
        """
        reply = await self.redis.xread({self.key: after}, count=count,
                                       block=None if block is None else max(1, int(block * 1000)))
        out: list[tuple[str, CatalogChange]] = []
        for _stream, entries in reply or ():
            for entry_id, fields in entries:
                ident = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
                raw = fields.get(b"c", fields.get("c"))
                try:
                    out.append((ident, _decoder.decode(raw)))
                except (msgspec.DecodeError, TypeError):
                    # Written by an incompatible version: skipped, not fatal.
                    log.warning("skipping an unreadable catalogue change %s", ident)
        return out

    async def bounds(self) -> tuple[str | None, str | None]:
        """The ids of the oldest and newest entries kept (``None, None`` when empty or missing).

        A reader whose checkpoint is older than the oldest entry has missed
        changes (trimmed away) and must rebuild from the catalogue.
        """
        first = await self.redis.xrange(self.key, count=1)
        last = await self.redis.xrevrange(self.key, count=1)
        if not first or not last:
            return None, None

        def ident(entries: list[Any]) -> str:
            raw = entries[0][0]
            return raw.decode() if isinstance(raw, bytes) else str(raw)

        return ident(first), ident(last)


def stream_id_before(a: str, b: str) -> bool:
    """Whether stream id ``a`` comes before ``b`` (``ms-seq`` compared as numbers)."""
    def parts(x: str) -> tuple[int, int]:
        ms, _, seq = x.partition("-")
        return int(ms), int(seq or 0)

    return parts(a) < parts(b)


class Outbox:
    """Intents of catalogue writes not yet in the change stream (see the module docstring).

    :param database: the home ``AsyncDatabase``.
    :param now: wall-clock UTC (the app's ``clock.wall``).
    """

    def __init__(self, database: Any, *, now: Callable[[], datetime]) -> None:
        self.collection = database[OUTBOX]
        self.now = now

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("at", 1)], name="at")

    async def record(self, op: ChangeOp, ids: list[str], files: list[MediaFile] | None = None) -> str:
        """Record an intent before the write; returns its token.

        :param ids: catalogue ids the write concerns.
        :param files: for a removal, the files as they were (they will be gone).
        """
        token = secrets.token_hex(12)
        doc: dict[str, Any] = {"_id": token, "op": op, "ids": ids, "at": self.now()}
        if files is not None:
            doc["files"] = [msgspec.to_builtins(f, builtin_types=(datetime,)) for f in files]
        await self.collection.insert_one(doc)
        return token

    async def done(self, token: str) -> None:
        await self.collection.delete_one({"_id": token})

    async def recover(self, grace: float, publish: Callable[[ChangeOp, list[str], list[MediaFile] | None],
                                                          Awaitable[None]]) -> int:
        """Publish the intents older than ``grace`` seconds, each by one process; returns how many.

        An intent is claimed by moving its ``at`` forward (compare-and-set on
        the ``at`` read): a second process that read the same intent finds it
        changed and leaves it. A process that dies after claiming leaves it to
        be claimed again ``grace`` seconds later.
        """
        cutoff = self.now() - timedelta(seconds=grace)
        count = 0
        async for doc in self.collection.find({"at": {"$lt": cutoff}}).sort("at", 1).limit(100):
            claimed = await self.collection.find_one_and_update(
                {"_id": doc["_id"], "at": doc["at"]}, {"$set": {"at": self.now()}})
            if claimed is None:
                continue  # another process took it
            files = None
            if doc.get("files") is not None:
                files = [msgspec.convert(f, MediaFile, builtin_types=(datetime,)) for f in doc["files"]]
            await publish(doc["op"], list(doc.get("ids", [])), files)
            await self.done(doc["_id"])
            count += 1
        return count


_HOOKS: dict[ChangeOp, str] = {"add": "mediabot_files_added", "update": "mediabot_files_updated",
                               "remove": "mediabot_files_removed"}


class ChangeNotifier:
    """What the catalogue calls around each write: the intent, then the hooks and the stream.

    :param notify: calls a hook in this process (``app.hooks.notify``), with ``files=``.
    :param feed: the change stream (``None`` without Redis: hooks only).
    :param outbox: the intents (``None`` without a stream: nothing to recover).
    :param now: wall-clock UTC.
    :param on_publish_error: told when the stream could not take a change
        (the intent stays; the outbox loop publishes it later).
    """

    def __init__(self, *, notify: Callable[..., Awaitable[None]], feed: ChangeFeed | None,
                 outbox: Outbox | None, now: Callable[[], datetime],
                 on_publish_error: Callable[[BaseException], None] | None = None) -> None:
        self._notify = notify
        self.feed = feed
        self.outbox = outbox
        self._now = now
        self._on_publish_error = on_publish_error

    async def intent(self, op: ChangeOp, ids: list[str], files: list[MediaFile] | None = None) -> str | None:
        """Record the intent of a write (before it); ``None`` when there is nothing to record it in.

        An outbox that cannot be written (home database down while a router
        keeps writing elsewhere) does not stop the write: the change is then
        published directly, without the crash guarantee for that one write.
        """
        if self.outbox is None or not ids:
            return None
        try:
            return await self.outbox.record(op, ids, files)
        except Exception as exc:  # noqa: BLE001 - the write goes on; logged for the operator
            log.warning("could not record a catalogue change intent (%s): %s: %s", op, type(exc).__name__, exc)
            return None

    async def committed(self, token: str | None, op: ChangeOp, files: list[MediaFile]) -> None:
        """The write is done: call the hooks, publish, forget the intent (once it is published)."""
        if files:
            await self._notify(_HOOKS[op], files=files)
        published = await self.publish(op, files)
        if token is not None and published and self.outbox is not None:
            try:
                await self.outbox.done(token)
            except Exception as exc:  # noqa: BLE001 - a leftover intent is only published twice
                log.warning("could not clear a catalogue change intent: %s: %s", type(exc).__name__, exc)

    async def publish(self, op: ChangeOp, files: list[MediaFile]) -> bool:
        """Put one change in the stream; ``True`` when it is there (or there is no stream / nothing to say)."""
        if self.feed is None or not files:
            return True
        try:
            await self.feed.publish(CatalogChange(op=op, files=files, at=self._now()))
        except Exception as exc:  # noqa: BLE001 - Redis down: the intent stays for the outbox loop
            log.warning("could not publish a catalogue change (%s, %d files): %s: %s", op, len(files),
                        type(exc).__name__, exc)
            if self._on_publish_error is not None:
                self._on_publish_error(exc)
            return False
        return True
