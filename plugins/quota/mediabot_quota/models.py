"""What the ledger hands back, and the errors it raises."""

from __future__ import annotations

from datetime import datetime

import msgspec

__all__ = ["Grant", "LeaseLost", "QuotaStatus", "QuotaUnavailable", "Release"]


class QuotaUnavailable(RuntimeError):
    """The quota database did not answer in time (down, paused, unreachable).

    A delivery must not go ahead: quota fails closed. Whatever the failed
    call may still have charged is undone (see :meth:`QuotaLedger.reserve`).
    """


class LeaseLost(RuntimeError):
    """The reservation is no longer open (settled, or expired and reaped): send nothing more under it."""


class Grant(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of :meth:`QuotaLedger.reserve`.

    :param reservation_id: settle (and report progress) under this id; ``None`` when nothing was granted.
    :param user_id: whose quota.
    :param requested: how many files were asked for.
    :param granted: how many may be sent now (0 to ``requested``).
    :param left: files left today after this grant.
    :param limit: the user's daily limit at the time of the reservation.
    :param plan: the plan that gave that limit (a per-user override still reports the plan).
    :param resets_at: when the quota day ends (timezone-aware, UTC).
    :param lease_expires: unless settled or extended by then, the unsent rest returns to the user (``None`` when nothing was granted).
    """

    reservation_id: str | None
    user_id: int
    requested: int
    granted: int
    left: int
    limit: int
    plan: str
    resets_at: datetime
    lease_expires: datetime | None


class QuotaStatus(msgspec.Struct, frozen=True, kw_only=True):
    """A user's quota today, for ``/quota``.

    :param used: files charged today: delivered, plus held by open reservations (``reserved``).
    :param reserved: of ``used``, files held by reservations not settled yet.
    :param left: ``limit - used``, never below 0.
    :param override: the per-user limit set by an admin, if any (it wins over the plan's).
    :param plan_until: when the user's granted plan ends (``None``: default plan, or a grant without end).
    """

    user_id: int
    used: int
    reserved: int
    left: int
    limit: int
    plan: str
    plan_until: datetime | None
    override: int | None
    day: str
    resets_at: datetime


class Release(msgspec.Struct, frozen=True, kw_only=True):
    """A lease the reaper closed: ``released`` files went back to the user (0 if its day is over)."""

    user_id: int
    reservation_id: str
    released: int
