"""mediabot-quota: per-user daily delivery quotas."""

from __future__ import annotations

import msgspec

from mediabot import PluginContext, PluginMeta


class QuotaConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings of ``[plugins.quota]``.

    :param daily_limit: files a user on the default plan may receive per day.
    :param plans: extra plans by name, each a daily limit (e.g. ``{ premium = 500 }``).
    :param timezone: IANA time zone whose midnight starts a new quota day (never the server's local time).
    :param lease_seconds: a reservation not confirmed within this time is released, so a crash cannot leak quota.
    """

    daily_limit: int = 50
    plans: dict[str, int] = {}
    timezone: str = "UTC"
    lease_seconds: float = 600.0


class QuotaPlugin:
    meta = PluginMeta(
        name="quota",
        description="Per-user daily delivery quotas with atomic reservation and crash-safe leases.",
        config=QuotaConfig,
        needs=("redis",),
    )

    def __init__(self, ctx: PluginContext) -> None:
        self.config: QuotaConfig = ctx.config
