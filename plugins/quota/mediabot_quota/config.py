"""Settings of ``[plugins.quota]``."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from mediabot import ConfigError
from mediabot_quota.days import load_zone
from mediabot_quota.offers import Offer
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
    :param offers: plans users can buy with Telegram Stars (``/plans``), e.g. ``{ premium = { stars = 100, days = 30 } }``: each key a plan of ``plans`` other than the default; empty: nothing is sold.
    :param plan_check_interval: seconds between two passes that tell users their plan ends within a day or has ended, and finish payments a stopped process recorded but did not grant.
    :param paysupport_text: the answer to ``/paysupport`` (Telegram requires bots that sell in Stars to answer it).
    :param terms_text: the answer to ``/terms``.
    """

    plans: dict[str, int] = msgspec.field(default_factory=lambda: {"free": 50, "premium": 500})
    default_plan: str = "free"
    timezone: str = "UTC"
    lease_seconds: Annotated[float, msgspec.Meta(ge=1, le=86_400)] = 600.0
    partial: Literal["grant_what_is_left", "refuse"] = "grant_what_is_left"
    admins_unlimited: bool = True
    timeout: Annotated[float, msgspec.Meta(ge=0.01, le=300)] = 5.0
    reap_interval: Annotated[float, msgspec.Meta(ge=0.01, le=86_400)] = 60.0
    offers: dict[str, Offer] = msgspec.field(default_factory=dict)
    plan_check_interval: Annotated[float, msgspec.Meta(ge=1, le=86_400)] = 300.0
    paysupport_text: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)] = (
        "For help with a payment, write to the owner of this bot and give the charge id from your receipt. "
        "/terms says what a plan gives and how refunds work.")
    terms_text: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)] = (
        "Plans are paid in Telegram Stars and start at once. A plan lasts the days shown on its invoice; "
        "buying the same plan again adds its days. The owner may refund a payment: its days are then "
        "taken off the plan. Questions: /paysupport.")

    def validate(self) -> None:
        try:
            Plans(self.plans, self.default_plan)
        except ValueError as exc:
            key = "default_plan" if self.default_plan not in self.plans else "plans"
            raise ConfigError(str(exc), key=key, fix="e.g. plans = { free = 50, premium = 500 } and "
                              'default_plan = "free"') from None
        for name in self.offers:
            if name == self.default_plan or name not in self.plans:
                sellable = ", ".join(sorted(set(self.plans) - {self.default_plan})) or "none"
                raise ConfigError(f"offer {name!r} is not a plan that can be granted (those are: {sellable})",
                                  key=f"offers.{name}", fix="name a plan of `plans` other than default_plan")
            if ":" in name or len(name) > 64:
                raise ConfigError(f"offer {name!r}: a plan on sale needs a name without ':' of at most 64 "
                                  "characters", key=f"offers.{name}", fix="rename the plan")
        try:
            load_zone(self.timezone)
        except ValueError as exc:
            raise ConfigError(str(exc), key="timezone", fix='an IANA zone name such as "UTC" or '
                              '"Asia/Kolkata"') from None
