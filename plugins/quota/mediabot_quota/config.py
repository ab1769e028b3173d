"""Settings of ``[plugins.quota]``."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from mediabot import ConfigError
from mediabot_quota.days import load_zone
from mediabot_quota.plans import Plans

__all__ = ["QuotaConfig"]


class QuotaConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings of ``[plugins.quota]``.

    :param plans: daily file limit per plan name, e.g. ``{ free = 50, premium = 500 }``; admins give a plan with ``/grant USER 30d PLAN``.
    :param default_plan: the plan of a user without an active grant (one of ``plans``).
    :param timezone: IANA time zone whose midnight starts a new quota day (never the server's local time), e.g. ``Europe/Berlin``.
    :param lease_seconds: a reservation neither settled nor advanced within this time is taken back by the reaper (the process died mid-delivery); files that may have been sent stay charged.
    :param partial: a request for more files than are left: ``grant_what_is_left`` sends what is left, ``refuse`` sends nothing.
    :param admins_unlimited: admins and the owner receive files without limit (still counted).
    :param timeout: seconds a quota database call may take; slower means the delivery is refused (quota fails closed).
    :param reap_interval: seconds between two passes of the lease reaper (every process runs one; each lease is released once).
    """

    plans: dict[str, int] = msgspec.field(default_factory=lambda: {"free": 50, "premium": 500})
    default_plan: str = "free"
    timezone: str = "UTC"
    lease_seconds: Annotated[float, msgspec.Meta(ge=1, le=86_400)] = 600.0
    partial: Literal["grant_what_is_left", "refuse"] = "grant_what_is_left"
    admins_unlimited: bool = True
    timeout: Annotated[float, msgspec.Meta(ge=0.01, le=300)] = 5.0
    reap_interval: Annotated[float, msgspec.Meta(ge=0.01, le=86_400)] = 60.0

    def validate(self) -> None:
        try:
            Plans(self.plans, self.default_plan)
        except ValueError as exc:
            key = "default_plan" if self.default_plan not in self.plans else "plans"
            raise ConfigError(str(exc), key=key, fix="e.g. plans = { free = 50, premium = 500 } and "
                              'default_plan = "free"') from None
        try:
            load_zone(self.timezone)
        except ValueError as exc:
            raise ConfigError(str(exc), key="timezone", fix='an IANA zone name such as "UTC" or '
                              '"Asia/Kolkata"') from None
