"""Delivery: the one way a catalogue file reaches a user (``app.delivery``).

``await app.delivery.send(user, files)``:

1. **gate** ``deliver`` (``app.gates``): a refusal is shown to the user, nothing is sent;
2. **reserve** through ``mediabot_delivery_reserve`` (``firstresult``): no
   answer means unlimited; an implementation that raises means refused
   (fail closed: a broken quota never means unlimited);
3. **send** the granted files, in order, through the gateway (``send_media``
   by ``file_id``, caption from ``[delivery] caption``, ``protect_content``
   from the call or ``[delivery] protect_content``);
   a file Telegram no longer has is marked dead in the catalogue and
   skipped; a user who blocked the bot, or a send that cannot go on
   (FloodWait too long, network), ends the batch;
   before each send, the reserving plugin hears ``mediabot_delivery_progress``
   (so a crash mid-batch never refunds a file that may have arrived);
4. **schedule their deletion** when ``[delivery] auto_delete`` is set (and the
   call did not say ``auto_delete=False``): the file messages that arrived go
   into the shared schedule (:mod:`mediabot.core.autodelete`), also when the
   task is cancelled mid-batch, and the user gets the notice ("These files
   will be deleted in 10 min: save them elsewhere.");
5. **settle** with exactly how many arrived (``mediabot_delivery_settle``, in
   the plugin that reserved), also when the task is cancelled mid-batch;
6. **count** each delivered file in the catalogue (search ranks by it), and
   tell the user why fewer files came than asked, when a plugin said so.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from mediabot.catalog.models import MediaFile
from mediabot.core.autodelete import AutoDelete, deletion_notice
from mediabot.core.host import PluginHookFailed
from mediabot.core.labels import safe_text
from mediabot.core.telegram.exceptions import FloodWaitTooLong, PermanentTelegramError, TransientTelegramError
from mediabot.core.telegram.text import MAX_CAPTION, cut_text
from mediabot.core.types import Reservation, User

if TYPE_CHECKING:
    from mediabot.core.app import App

__all__ = ["Delivery", "DeliveryReport", "human_size", "render_caption"]

log = logging.getLogger("mediabot.delivery")

_FIELD = re.compile(r"\{(name|size|caption|caption_or_name|bot)\}")


class DeliveryReport(msgspec.Struct, kw_only=True):
    """What :meth:`Delivery.send` did.

    :param asked: files asked for.
    :param granted: files the reservation allowed (``asked`` when unlimited).
    :param delivered: catalogue ids of the files that reached the user, in order.
    :param failed: catalogue ids granted but not delivered (a send failed or the batch stopped).
    :param gone: catalogue ids Telegram no longer has (marked dead; also in ``failed``).
    :param refused: why nothing was sent (a gate's text, or the refusal text), else ``None``.
    :param limited: the reservation's message when fewer than asked were granted.
    :param stopped: why the batch ended early (``blocked``, ``deactivated``,
        ``flood``, ``network``, ``forbidden``, ``cancelled``, ``progress`` —
        the reserving plugin could not record a send), else ``None``.
    :param messages: ``(chat_id, message_id)`` of each file message sent, in order.
    :param deletes_in: seconds after which auto-delete deletes ``messages``
        (``[delivery] auto_delete``); ``None`` when they stay.
    :param notice: ``(chat_id, message_id)`` of the deletion notice under the
        files, else ``None`` (no deletion, ``notify=False``, or it could not be
        sent). The hook point for a button under it ("Get it again"):
        ``await app.telegram.edit_keyboard(*report.notice, keyboard)``; the
        files it is about are ``delivered``.
    """

    asked: int
    granted: int = 0
    delivered: list[str] = []
    failed: list[str] = []
    gone: list[str] = []
    refused: str | None = None
    limited: str | None = None
    stopped: str | None = None
    messages: list[tuple[int, int]] = []
    deletes_in: float | None = None
    notice: tuple[int, int] | None = None


def human_size(size: int | None) -> str:
    """``1.4 GB``, ``700 MB``, ``12 KB``; ``""`` when unknown."""
    if not size or size < 0:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB") or value >= 100 else f"{value:.1f} {unit}"
        value /= 1024
    return ""  # pragma: no cover - the loop always returns


def render_caption(template: str, file: MediaFile, bot: str) -> str:
    """``template`` with its fields replaced; nothing else is read.

    ``{name}`` (the file name), ``{size}``, ``{caption}`` (the channel post's
    caption), ``{caption_or_name}`` (the caption when the post had one, else
    the name) and ``{bot}``. No ``str.format``: an attribute lookup in a
    template (``{name.__class__}``) stays plain text. The name and caption
    lose control and bidi characters (:func:`mediabot.safe_text`; a caption
    keeps its line breaks), and the result is cut to Telegram's limit,
    counted in UTF-16 units, at a word where possible, with an ellipsis.
    """
    name = safe_text(file.file_name)
    caption = safe_text(file.caption, lines=True)
    values = {"name": name, "size": human_size(file.size), "caption": caption,
              "caption_or_name": caption or name, "bot": bot}
    return cut_text(_FIELD.sub(lambda m: values[m.group(1)], template).strip(), MAX_CAPTION)


class Delivery:
    """Sends catalogue files to users under gates and reservations (see the module docstring)."""

    def __init__(self, app: App) -> None:
        self._app = app
        m = app.metrics
        self._files = m.counter("mediabot_delivery_files_total", "Files handed to delivery, by outcome",
                                ["outcome"])
        self._refused = m.counter("mediabot_delivery_refused_total", "Deliveries refused before sending",
                                  ["reason"])
        after = app.section("delivery").auto_delete
        #: the deletion schedule of ``[delivery] auto_delete``; ``None`` when delivered files stay
        self.auto_delete: AutoDelete | None = AutoDelete(app, after=after) if after > 0 else None

    async def send(self, user: User | int, files: Sequence[MediaFile], *, chat_id: int | None = None,
                   notify: bool = True, on_granted: Callable[[int], Awaitable[None]] | None = None,
                   protect_content: bool | None = None, auto_delete: bool | None = None) -> DeliveryReport:
        """Deliver ``files`` to ``user`` (in their private chat, or ``chat_id``).

        :param user: the receiver (a :class:`mediabot.User` or an id).
        :param files: catalogue files, in the order to send them.
        :param chat_id: where to send (default: the user's private chat).
        :param notify: tell the user, in that chat, why fewer files came than
            asked (or none); ``False`` leaves it to the caller (``report.refused``
            and ``report.limited``).
        :param on_granted: awaited with the number of files that will be sent,
            once the reservation is known and before the first send (e.g. to
            answer a button with "Sending 3 files…" rather than the number
            asked); not called when nothing will be sent.
        :param protect_content: the files cannot be forwarded or saved;
            ``None``: ``[delivery] protect_content``.
        :param auto_delete: ``False``: these files stay whatever the
            deployment says; ``None`` or ``True``: deleted after ``[delivery]
            auto_delete`` seconds, with a notice (``notify=False`` leaves the
            notice to the caller: ``report.deletes_in``).
        :raises ValueError: ``auto_delete=True`` while ``[delivery] auto_delete`` is 0
            (there is no time to delete them at), before anything is sent.
        """
        if auto_delete and self.auto_delete is None:
            raise ValueError("auto_delete=True, but [delivery] auto_delete is 0: set it to the seconds files stay")
        app = self._app
        uid = user if isinstance(user, int) else user.id
        target = uid if chat_id is None else chat_id
        report = DeliveryReport(asked=len(files))
        if not files:
            return report
        refusal = await app.gates.check(user, "deliver")
        if refusal is not None:
            self._refused.labels(reason="gate").inc()
            report.refused = refusal.text
            if notify:
                await self._say(target, refusal.text, keyboard=refusal.keyboard)
            return report
        try:
            answer = await app.host.first_strict("mediabot_delivery_reserve", app=app, user_id=uid,
                                                 count=len(files))
        except PluginHookFailed:
            self._refused.labels(reason="reserve_failed").inc()
            report.refused = app.section("delivery").refused_text
            if notify:
                await self._say(target, report.refused)
            return report
        owner, reservation = (None, Reservation(granted=len(files))) if answer is None else answer
        if not isinstance(reservation, Reservation):
            log.error("plugin %s answered mediabot_delivery_reserve with %s, not a Reservation: refused",
                      owner, type(reservation).__name__)
            self._refused.labels(reason="reserve_failed").inc()
            report.refused = app.section("delivery").refused_text
            if notify:
                await self._say(target, report.refused)
            return report
        report.granted = min(reservation.granted, len(files))
        if report.granted < len(files):
            report.limited = reservation.message or app.section("delivery").limit_text
        try:
            if on_granted is not None and report.granted > 0:
                await on_granted(report.granted)
            protect = app.section("delivery").protect_content if protect_content is None else protect_content
            deleting = self.auto_delete if auto_delete is not False else None
            await self._send_granted(target, uid, list(files[:report.granted]), report, owner, reservation,
                                     protect=protect, auto_delete=deleting)
        finally:
            # Settled whatever happened, cancellation included: what was not
            # delivered goes back at once instead of waiting for the lease.
            if owner is not None:
                await self._settle(owner, reservation, len(report.delivered))
        if report.deletes_in is not None and notify:
            await self._notice(target, report)
        if report.limited and notify and report.stopped is None:
            await self._say(target, report.limited)
        return report

    async def _send_granted(self, target: int, uid: int, files: list[MediaFile], report: DeliveryReport,
                            owner: str | None, reservation: Reservation, *, protect: bool,
                            auto_delete: AutoDelete | None) -> None:
        app = self._app
        cfg = app.section("delivery")
        bot = app.section("bot").name
        try:
            for i, f in enumerate(files):
                # Counted as on its way before the send: after a crash it is never refunded.
                if owner is not None and not await self._progress(owner, reservation, len(report.delivered) + 1):
                    report.stopped = "progress"
                    report.failed += [g.id for g in files[i:]]
                    break
                try:
                    sent = await app.telegram.send_media(target, f.file_id,
                                                         caption=render_caption(cfg.caption, f, bot),
                                                         protect_content=protect)
                except PermanentTelegramError as exc:
                    if exc.reason == "file_gone":
                        report.gone.append(f.id)
                        report.failed.append(f.id)
                        self._files.labels(outcome="gone").inc()
                        continue
                    report.stopped = exc.reason
                    report.failed += [g.id for g in files[i:]]
                    await self._user_gone(uid, exc.reason)
                    break
                except (FloodWaitTooLong, TransientTelegramError) as exc:
                    report.stopped = "flood" if isinstance(exc, FloodWaitTooLong) else "network"
                    report.failed += [g.id for g in files[i:]]
                    log.warning("delivery to %d stopped after %d of %d files: %s", uid, i, len(files), exc)
                    break
                report.delivered.append(f.id)
                report.messages.append((sent.chat.id, sent.id))
                self._files.labels(outcome="delivered").inc()
        except asyncio.CancelledError:
            report.stopped = "cancelled"
            done = set(report.delivered) | set(report.failed)
            report.failed += [g.id for g in files if g.id not in done]
            raise
        finally:
            if report.failed:
                self._files.labels(outcome="failed").inc(len(report.failed) - len(report.gone))
            # Cancelled mid-batch too: a file that arrived is deleted on time like the others.
            if auto_delete is not None and report.messages:
                await self._schedule_deletion(auto_delete, report)
            await self._after(report)

    async def _schedule_deletion(self, auto_delete: AutoDelete, report: DeliveryReport) -> None:
        try:
            await auto_delete.schedule(report.messages)  # never fails for Redis: held in memory
        except Exception as exc:  # noqa: BLE001 - the files arrived; only the notice would now be wrong
            log.error("auto-delete: could not schedule %d delivered messages: %s: %s", len(report.messages),
                      type(exc).__name__, exc)
            return
        report.deletes_in = auto_delete.after

    async def _notice(self, chat_id: int, report: DeliveryReport) -> None:
        """The deletion notice under the files; its id goes into the report (a plugin may add a button)."""
        assert report.deletes_in is not None
        try:
            sent = await self._app.telegram.send_text(chat_id, deletion_notice(report.deletes_in,
                                                                               len(report.messages)))
        except Exception as exc:  # noqa: BLE001 - e.g. the user blocked the bot meanwhile
            log.warning("could not tell chat %d its files will be deleted: %s: %s", chat_id,
                        type(exc).__name__, exc)
            return
        report.notice = (sent.chat.id, sent.id)

    async def _after(self, report: DeliveryReport) -> None:
        """Catalogue bookkeeping; never fails a delivery that happened."""
        files = getattr(self._app, "files", None)
        if files is None:
            return
        try:
            if report.gone:
                await files.mark_dead(report.gone)
            if report.delivered:
                await files.count_delivered(report.delivered)
        except Exception as exc:  # noqa: BLE001 - the user has the files; counts are best effort
            log.warning("could not record a delivery in the catalogue: %s: %s", type(exc).__name__, exc)

    async def _progress(self, owner: str, reservation: Reservation, sent: int) -> bool:
        """Tell the reserving plugin the ``sent``-th file is about to go; ``False``: it could not record it.

        Recorded *before* the send: after a crash, a file that may have
        reached the user is never refunded (the user cannot exceed a limit).
        """
        if not self._app.host.implementers("mediabot_delivery_progress"):
            return True
        try:
            await self._app.host.call_one(owner, "mediabot_delivery_progress", app=self._app,
                                          reservation=reservation, sent=sent)
        except PluginHookFailed:
            return False
        return True

    async def _settle(self, owner: str, reservation: Reservation, delivered: int) -> None:
        try:
            await self._app.host.call_one(owner, "mediabot_delivery_settle", app=self._app,
                                          reservation=reservation, delivered=delivered)
        except PluginHookFailed:
            pass  # logged and counted by the host; the plugin's lease settles it later

    async def _user_gone(self, uid: int, reason: str) -> None:
        users = getattr(self._app, "users", None)
        if users is None or reason not in ("blocked", "deactivated"):
            return
        try:
            await (users.mark_blocked(uid) if reason == "blocked" else users.mark_deactivated(uid))
        except Exception as exc:  # noqa: BLE001
            log.warning("could not record user %d as %s: %s", uid, reason, exc)

    async def _say(self, chat_id: int, text: str, *, keyboard: Any = None) -> None:
        try:
            await self._app.telegram.send_text(chat_id, text, keyboard=keyboard)
        except Exception as exc:  # noqa: BLE001 - e.g. the user blocked the bot meanwhile
            log.warning("could not tell chat %d about a delivery: %s: %s", chat_id, type(exc).__name__, exc)
