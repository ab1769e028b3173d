"""Kernel plugin ``kernel.catalog``: the catalogue on the app, and the admin commands for users.

Active only when the app has a database (``app.database``, from
``MEDIABOT_MONGO_URI`` or a provider plugin such as ``dbrouter``). At startup
it creates the indexes, loads the banned ids and sets:

- ``app.files``: the :class:`~mediabot.catalog.files.FileRepository`;
- ``app.users``: the :class:`~mediabot.catalog.users.UserDirectory` the
  dispatcher asks ``is_banned`` (in memory) and tells ``touch``;
- ``app.changes``: the :class:`~mediabot.catalog.changes.ChangeFeed` (the
  catalogue's change stream; ``None`` without Redis). Every write of
  ``app.files`` calls the ``mediabot_files_*`` hooks in this process and
  publishes to the stream (see :mod:`mediabot.catalog.changes`).

Both are ``None`` without a database. Commands (admins): ``/ban USER [reason]``,
``/unban USER``, ``/banned``, ``/users``. A banned user is told so once a day
(``[bot] banned_text``), then ignored.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Literal

from mediabot.catalog.changes import CatalogChange, ChangeFeed, ChangeNotifier, ChangeOp, Outbox
from mediabot.catalog.files import FileRepository
from mediabot.catalog.models import MediaFile, utcnow
from mediabot.catalog.placement import placement_of
from mediabot.catalog.users import UserDirectory
from mediabot.core.args import parse_user_id
from mediabot.core.chat_events import who
from mediabot.core.clock import MonotonicClock
from mediabot.core.commands import Command
from mediabot.core.context import CommandContext, UsageError
from mediabot.core.plugin import hookimpl
from mediabot.core.types import HealthReport, User

if TYPE_CHECKING:
    from mediabot.core.app import App

log = logging.getLogger("mediabot.catalog")
OWNER = "kernel.catalog"


# Stateless; its sleep() also stops a loop whose cancel a driver call swallowed (Python 3.11).
_REAL_TIME = MonotonicClock()

class CatalogPlugin:
    """Creates ``app.files`` and ``app.users`` and keeps the ban list fresh.

    Settings come from the ``[catalog]`` section; keyword arguments override them.

    :param ban_refresh: seconds between reloads of the banned ids (other
        deployments' bans and unbans arrive within this delay).
    :param flush_interval: seconds between writes of recorded sightings.
    :param touch_interval: seconds between two recorded sightings of one user.
    """

    name = "catalog"

    def __init__(self, app: App, *, ban_refresh: float | None = None, flush_interval: float | None = None,
                 touch_interval: float | None = None) -> None:
        self.app = app
        cfg = self.settings = app.section("catalog")  # [catalog] in plugins.toml; arguments win (tests)
        self.feed: ChangeFeed | None = None
        self.outbox: Outbox | None = None
        app.changes = None
        self.ban_refresh = cfg.ban_refresh if ban_refresh is None else ban_refresh
        self.flush_interval = cfg.flush_interval if flush_interval is None else flush_interval
        self.touch_interval = cfg.touch_interval if touch_interval is None else touch_interval
        self.files: FileRepository | None = None
        self.users: UserDirectory | None = None
        self._bans_loaded_at: float | None = None
        self._users_ready = False
        # Declared on App; None until a database is there (a restarted app starts without them).
        app.users = None
        app.files = None

    # -- lifecycle -----------------------------------------------------------------
    @hookimpl
    async def mediabot_startup(self, app: App) -> None:
        if app.database is None:
            log.info("no database configured: catalogue, user directory and bans are off")
            return
        self.files = FileRepository(app.database, changes=self._changes(app))
        # Without the unique index a database could store a file twice: not
        # starting beats starting wrong. (A multi-database provider prepares
        # the databases it can reach and the others when they come back.)
        await self.files.ensure_indexes()
        self.users = UserDirectory(self.files.placement.home_database(), role_of=app.role_of,
                                   touch_interval=self.touch_interval, on_new=self._new_users)
        await self._prepare_users()
        app.files = self.files
        app.users = self.users
        app.supervisor.spawn_loop(self._refresh_loop, name="catalog.bans", owner=OWNER)
        app.supervisor.spawn_loop(self._flush_loop, name="catalog.sightings", owner=OWNER)
        if self.outbox is not None:
            try:
                await self.outbox.ensure_indexes()
            except Exception as exc:  # noqa: BLE001 - the loop works without the index, only slower
                log.warning("could not index the catalogue outbox: %s: %s", type(exc).__name__, exc)
            app.supervisor.spawn_loop(self._outbox_loop, name="catalog.outbox", owner=OWNER)

    def _changes(self, app: App) -> ChangeNotifier:
        """Hooks always; the change stream and its outbox when the app has Redis."""
        self.feed = None if app.redis is None else ChangeFeed(
            app.redis, f"{app.section('redis').key_prefix}:{{catalog}}:changes",
            max_length=self.settings.change_stream_length)
        placement = placement_of(app.database)
        # Real wall-clock time, not the app's clock: an intent's age is compared
        # across processes, and a test's virtual clock (which jumps while a
        # write waits on the database) must not make a write in flight look abandoned.
        self.outbox = None if self.feed is None else Outbox(placement.home_database(), now=utcnow)
        app.changes = self.feed
        published = app.metrics.counter("mediabot_catalog_changes_unpublished_total",
                                        "Catalogue changes the stream could not take at once (left in the outbox)")
        return ChangeNotifier(notify=lambda hook, files: app.hooks.notify(hook, app=app, files=files),
                              feed=self.feed, outbox=self.outbox, now=app.clock.wall,
                              on_publish_error=lambda _exc: published.inc())

    async def _outbox_loop(self) -> None:
        assert self.outbox is not None
        grace = self.settings.outbox_grace
        while True:
            await _REAL_TIME.sleep(min(grace, 10.0))
            try:
                n = await self.outbox.recover(grace, self._republish)
            except Exception as exc:  # noqa: BLE001 - database or Redis away: the next pass retries
                log.warning("catalogue outbox pass failed: %s: %s", type(exc).__name__, exc)
                continue
            if n:
                log.info("published %d catalogue change(s) left behind by an interrupted write", n)

    async def _republish(self, op: ChangeOp, ids: list[str], files: list[MediaFile] | None) -> None:
        """Publish an interrupted write as the catalogue is now (raises if the stream cannot take it)."""
        assert self.feed is not None and self.files is not None
        if op == "remove":
            current = files or []
        else:
            current = [f for f in (await self.files.by_ids(ids)).values() if not f.dead]
        if current:
            await self.feed.publish(CatalogChange(op=op, files=current, at=self.app.clock.wall()))

    async def _prepare_users(self) -> bool:
        assert self.users is not None
        try:
            if not self._users_ready:
                await self.users.ensure_indexes()
                self._users_ready = True
            await self.users.refresh_bans()
        except Exception as exc:  # noqa: BLE001 - the bot serves; health shows the problem
            log.warning("could not load the ban list (retrying every %.0fs): %s: %s",
                        self.ban_refresh, type(exc).__name__, exc)
            return False
        self._bans_loaded_at = time.monotonic()
        return True

    # The kernel's own upkeep loops sleep in real time, not on the app's clock:
    # a test's virtual clock jumps whenever the loop waits on the database, and
    # these loops would then run back to back against the test server.
    async def _refresh_loop(self) -> None:
        while True:
            await _REAL_TIME.sleep(self.ban_refresh)
            await self._prepare_users()

    async def _flush_loop(self) -> None:
        assert self.users is not None
        while True:
            await _REAL_TIME.sleep(self.flush_interval)
            try:
                await self.users.flush()
            except Exception:  # noqa: BLE001 - flush logged it; the next one retries
                pass

    @hookimpl
    async def mediabot_shutdown(self) -> None:
        if self.users is not None and self.users.pending:
            try:
                await self.users.flush()
            except Exception:  # noqa: BLE001 - logged by flush; shutdown goes on
                pass

    @hookimpl
    async def mediabot_health(self) -> list[HealthReport]:
        if self.users is None:
            return []
        if self._bans_loaded_at is None:
            return [HealthReport(component="catalog.bans", status="degraded",
                                 detail="ban list not loaded yet: banned users are not filtered")]
        age = time.monotonic() - self._bans_loaded_at
        status: Literal["ok", "degraded"] = "ok" if age < 3 * self.ban_refresh + 5 else "degraded"
        return [HealthReport(component="catalog.bans", status=status,
                             detail=f"{self.users.banned_count} banned, list loaded {age:.0f}s ago")]

    # -- commands ------------------------------------------------------------------
    @hookimpl
    def mediabot_commands(self) -> list[Command]:
        if self.users is None:
            return []
        return [
            Command(name="ban", description="Ignore a user's messages", handler=self.ban,
                    usage="USER_ID [reason]", role="admin"),
            Command(name="unban", description="Lift a ban", handler=self.unban, usage="USER_ID",
                    role="admin"),
            Command(name="users", description="User counts by status", handler=self.user_counts,
                    role="admin"),
            Command(name="banned", description="The banned users, latest first", handler=self.banned,
                    role="admin"),
        ]

    async def ban(self, ctx: CommandContext) -> None:
        assert self.users is not None
        user_id = _user_id(ctx.argv)
        if ctx.app.role_of(user_id) != "user":
            await ctx.reply(f"User {user_id} is an admin and cannot be banned.")
            return
        reason = " ".join(ctx.argv[1:]) or None
        await self.users.ban(user_id, reason=reason, by=ctx.user.id)
        log.info("user %d banned by admin %d", user_id, ctx.user.id)
        await ctx.reply(f"User {user_id} is banned" + (f": {reason}" if reason else "."))

    async def unban(self, ctx: CommandContext) -> None:
        assert self.users is not None
        if len(ctx.argv) != 1:
            raise UsageError()
        user_id = _user_id(ctx.argv)
        lifted = await self.users.unban(user_id)
        log.info("user %d unbanned by admin %d", user_id, ctx.user.id)
        await ctx.reply(f"User {user_id} is no longer banned." if lifted else f"User {user_id} was not banned.")

    def _new_users(self, users: list[User]) -> None:
        """``[bot] log_events`` ``new_users``: one notice per flush, naming who wrote for the first time."""
        notices = self.app.notices
        if not notices.logs("new_users"):
            return
        names = [who(u) for u in users[:NEW_USERS_NAMED]]
        more = f" and {len(users) - len(names)} more" if len(users) > len(names) else ""
        head = "New user" if len(users) == 1 else f"{len(users)} new users"
        notices.notify(f"users:new:{users[0].id}", f"{head}: {', '.join(names)}{more}", interval=0,
                       level=logging.INFO, private=False)

    async def banned(self, ctx: CommandContext) -> None:
        assert self.users is not None
        shown, total = await self.users.banned_users(limit=BANNED_SHOWN)
        if not total:
            await ctx.reply("Nobody is banned.")
            return
        lines = [f"Banned users: {total}"]
        for u in shown:
            when = f" on {u.banned_at:%Y-%m-%d}" if u.banned_at else ""
            by = f" by {u.banned_by}" if u.banned_by is not None else ""
            reason = f": {' '.join(u.ban_reason.split())}" if u.ban_reason else ""
            lines.append(f"{u.id}{reason} (banned{by}{when})")
        if total > len(shown):
            lines.append(f"…and {total - len(shown)} more.")
        lines.append("/unban USER_ID lifts a ban.")
        await ctx.reply("\n".join(lines))

    async def user_counts(self, ctx: CommandContext) -> None:
        assert self.users is not None
        await ctx.reply(format_counts(await self.users.counts()))


BANNED_SHOWN = 50
NEW_USERS_NAMED = 20



def _user_id(argv: list[str]) -> int:
    """A user id, or the id of a chat messages are sent as (a channel, a group's anonymous admins)."""
    if not argv:
        raise UsageError()
    # Negative ids are chats: a channel posting in groups as itself is banned by its -100… id.
    return parse_user_id(argv[0], chats=True)


def format_counts(counts: dict[str, Any]) -> str:
    return (f"Users: {counts['total']}\n"
            f"active {counts['active']} · blocked {counts['blocked']} · "
            f"deactivated {counts['deactivated']} · banned {counts['banned']}\n"
            f"seen in the last 24 h: {counts['recent']}")
