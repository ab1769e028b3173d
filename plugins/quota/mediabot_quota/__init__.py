"""mediabot-quota: per-user daily delivery quotas.

Implements the kernel's delivery hooks over a :class:`~mediabot_quota.ledger.QuotaLedger`
in the plugin's storage on the home database (quota is money-like: it must
survive a Redis flush):

- ``mediabot_delivery_reserve``: one atomic reservation before anything is
  sent (a database that does not answer raises: the delivery is refused);
- ``mediabot_delivery_progress``: before each send, so a crash never refunds
  a file that may have arrived;
- ``mediabot_delivery_settle``: exactly what was delivered; the rest returns;
- a reaper loop returns what a dead process reserved and never settled.

Commands: ``/quota`` (yours; admins: ``/quota USER``), and for admins
``/setlimit USER N|default``, ``/grant USER DURATION [PLAN]``, ``/revoke USER``.

Plans on sale (``offers``) are bought with Telegram Stars: ``/plans``, Buy,
the pre-checkout and payment handlers, ``/refund`` and ``/payments``
(:mod:`mediabot_quota.shop`), ``/paysupport`` and ``/terms``.
"""

from __future__ import annotations

from typing import Any

from mediabot import (
    Callback,
    Command,
    CommandContext,
    Handler,
    HealthReport,
    PluginContext,
    PluginMeta,
    Reservation,
    UsageError,
    hookimpl,
    parse_duration,
    parse_int,
    parse_user_id,
)
from mediabot_quota.config import QuotaConfig
from mediabot_quota.durations import MAX_COUNT, MAX_DURATION, MIN_DURATION, format_remaining
from mediabot_quota.ledger import LEDGER_INDEXES, QuotaLedger
from mediabot_quota.models import Grant, QuotaStatus
from mediabot_quota.paidplans import PlanGrants
from mediabot_quota.payments import PAYMENT_INDEXES, PaymentBook
from mediabot_quota.plans import Plans
from mediabot_quota.shop import StarsShop

__all__ = ["QuotaConfig", "QuotaPlugin"]


class QuotaPlugin:
    meta = PluginMeta(
        name="quota",
        description="Per-user daily delivery quotas: plans, atomic reservation, crash-safe leases.",
        config=QuotaConfig,
        needs=("mongo",),
    )

    def __init__(self, ctx: PluginContext[QuotaConfig]) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.ledger: QuotaLedger | None = None
        self._reaped_ok: float | None = None
        self.shop = StarsShop(ctx, plans=Plans(ctx.config.plans, ctx.config.default_plan))
        for name, (keys, options) in LEDGER_INDEXES.items():
            ctx.storage.declare_index("ledger", keys, name=name, **options)
        for name, (keys, options) in PAYMENT_INDEXES.items():
            ctx.storage.declare_index("payments", keys, name=name, **options)
        counter = ctx.app.metrics.counter
        self._metrics = {name: counter(f"mediabot_quota_{name}_total", doc) for name, doc in (
            ("reservations", "Quota reservations made"), ("granted", "Files granted by reservations"),
            ("refused", "Files asked for and refused by quota"), ("released", "Reserved files given back"),
            ("expired", "Reservations taken back by the lease reaper"))}

    # -- lifecycle -------------------------------------------------------------------
    @hookimpl
    def mediabot_startup(self) -> None:
        cfg = self.config
        self.ledger = QuotaLedger(self.ctx.storage.collection("ledger"), clock=self.ctx.clock, plans=cfg.plans,
                                  default_plan=cfg.default_plan, timezone=cfg.timezone,
                                  lease_seconds=cfg.lease_seconds, partial=cfg.partial, timeout=cfg.timeout,
                                  metrics=self._count)
        self.ctx.spawn_loop(self._reap_forever, name="quota.reaper")
        self.shop.open(PlanGrants(self.ctx.storage.collection("ledger"), plans=self.ledger.plans, timeout=cfg.timeout),
                       PaymentBook(self.ctx.storage.collection("payments"), timeout=cfg.timeout))
        self.ctx.spawn_loop(self.shop.check_forever, name="quota.plans")

    def _count(self, name: str, amount: int) -> None:
        metric = self._metrics.get(name)
        if metric is not None and amount:
            metric.inc(amount)

    async def _reap_forever(self) -> None:
        assert self.ledger is not None
        while True:
            await self.ctx.clock.sleep(self.config.reap_interval)
            try:
                released = await self.ledger.reap()
            except Exception as exc:  # noqa: BLE001 - the database is away: the next pass retries
                self.ctx.log.warning("lease reaper pass failed: %s: %s", type(exc).__name__, exc)
                continue
            self._reaped_ok = self.ctx.clock.now()
            if released:
                self.ctx.log.info("returned %d files of %d unsettled reservations",
                                  sum(r.released for r in released), len(released))

    @hookimpl
    def mediabot_health(self) -> list[HealthReport]:
        if self._reaped_ok is None:
            return [HealthReport(component="quota", status="ok", detail="reaper not run yet")]
        age = self.ctx.clock.now() - self._reaped_ok
        status = "ok" if age < 3 * self.config.reap_interval + 30 else "degraded"
        return [HealthReport(component="quota", status=status, detail=f"leases reaped {age:.0f}s ago")]

    # -- delivery hooks ----------------------------------------------------------------
    @hookimpl
    async def mediabot_delivery_reserve(self, app: Any, user_id: int, count: int) -> Reservation:
        assert self.ledger is not None
        unlimited = self.config.admins_unlimited and app.role_of(user_id) != "user"
        # QuotaUnavailable propagates: the kernel refuses the delivery (fail closed).
        grant = await self.ledger.reserve(user_id, count, unlimited=unlimited)
        return Reservation(granted=grant.granted, message=self._why(grant), id=grant.reservation_id or "",
                           lease_expires=grant.lease_expires)

    def _why(self, grant: Grant) -> str | None:
        if grant.granted >= grant.requested:
            return None
        resets = format_remaining(grant.resets_at - self.ctx.clock.wall())
        if grant.granted == 0:
            return (f"You have received your {grant.limit} files for today. "
                    f"Your quota resets in {resets} (/quota).")
        return (f"Sent {grant.granted} of {grant.requested}: that was what was left of today's "
                f"{grant.limit} files. Your quota resets in {resets} (/quota).")

    @hookimpl
    async def mediabot_delivery_progress(self, reservation: Reservation, sent: int) -> None:
        if reservation.id and self.ledger is not None:
            await self.ledger.progress(reservation.id, sent)  # LeaseLost: the batch stops

    @hookimpl
    async def mediabot_delivery_settle(self, reservation: Reservation, delivered: int) -> None:
        if reservation.id and self.ledger is not None:
            await self.ledger.settle(reservation.id, delivered)

    # -- commands --------------------------------------------------------------------
    @hookimpl
    def mediabot_callbacks(self) -> list[Callback]:
        return self.shop.callbacks()

    @hookimpl
    def mediabot_handlers(self) -> list[Handler]:
        return self.shop.handlers()

    @hookimpl
    def mediabot_commands(self) -> list[Command]:
        return [*self._admin_commands(), *self.shop.commands()]

    def _admin_commands(self) -> list[Command]:
        return [
            Command(name="quota", description="Files left today", usage="[USER_ID]", handler=self.quota),
            Command(name="setlimit", description="Set a user's daily limit", usage="USER_ID N|default",
                    role="admin", handler=self.setlimit),
            Command(name="grant", description="Give a user a plan for a while", usage="USER_ID DURATION [PLAN]",
                    role="admin", handler=self.grant),
            Command(name="revoke", description="End a user's granted plan", usage="USER_ID", role="admin",
                    handler=self.revoke),
        ]

    async def quota(self, ctx: CommandContext) -> None:
        assert self.ledger is not None
        if ctx.argv and ctx.role == "user":
            raise UsageError("Only admins can see another user's quota.")
        user_id = parse_user_id(ctx.argv[0]) if ctx.argv else ctx.user.id
        await ctx.reply(self._describe(await self.ledger.status(user_id), own=not ctx.argv,
                                       unlimited=self.config.admins_unlimited and
                                       ctx.app.role_of(user_id) != "user"))

    def _describe(self, status: QuotaStatus, *, own: bool, unlimited: bool) -> str:
        who = "You have" if own else f"User {status.user_id} has"
        resets = format_remaining(status.resets_at - self.ctx.clock.wall())
        plan = status.plan + (f" until {status.plan_until:%Y-%m-%d %H:%M} UTC" if status.plan_until else "")
        limit = f"{status.limit} files a day" + (" (set by an admin)" if status.override is not None else "")
        lines = [f"{who} {status.left} of {status.limit} files left today." if not unlimited
                 else f"{who} no limit (admin); {status.used} files received today.",
                 f"Plan: {plan}, {limit}.", f"Resets in {resets}."]
        if status.reserved:
            lines.append(f"{status.reserved} files are being sent right now.")
        return "\n".join(lines)

    async def setlimit(self, ctx: CommandContext) -> None:
        assert self.ledger is not None
        if len(ctx.argv) != 2:
            raise UsageError()
        user_id = parse_user_id(ctx.argv[0])
        limit = None if ctx.argv[1].lower() == "default" else parse_int(ctx.argv[1], "N", minimum=0,
                                                                        maximum=MAX_COUNT)
        await self.ledger.set_limit(user_id, limit)
        self.ctx.log.info("admin %d set the daily limit of %d to %s", ctx.user.id, user_id, limit)
        await ctx.reply(f"User {user_id} now gets the daily limit of their plan." if limit is None
                        else f"User {user_id} may now receive {limit} files a day.")

    async def grant(self, ctx: CommandContext) -> None:
        assert self.ledger is not None
        if len(ctx.argv) not in (2, 3):
            raise UsageError()
        user_id = parse_user_id(ctx.argv[0])
        duration = parse_duration(ctx.argv[1], minimum=MIN_DURATION, maximum=MAX_DURATION)
        others = self.ledger.plans.others()
        plan = ctx.argv[2] if len(ctx.argv) == 3 else ("premium" if "premium" in others else next(iter(others), ""))
        if plan not in others:
            names = ", ".join(sorted(others)) or "none: configure more than one plan"
            raise UsageError(f"PLAN is one of: {names}.")
        until = self.ctx.clock.wall() + duration
        await self.ledger.grant(user_id, plan, until)
        self.ctx.log.info("admin %d granted %s to %d until %s", ctx.user.id, plan, user_id, until)
        # Said as /quota will say it: an admin's /setlimit wins over any plan's limit.
        status = await self.ledger.status(user_id)
        until_text = f"until {until:%Y-%m-%d %H:%M} UTC"
        if status.override is not None:
            await ctx.reply(f"User {user_id} has the {plan} plan {until_text}, but still gets {status.override} "
                            f"files a day: the limit an admin set wins over the plan's "
                            f"{self.ledger.plans.limit(plan)}. /setlimit {user_id} default gives them the plan's.")
        else:
            text = f"User {user_id} has the {plan} plan ({status.limit} files a day) {until_text}."
            if self.config.admins_unlimited and ctx.app.role_of(user_id) != "user":
                text += " As an admin they have no limit anyway."
            await ctx.reply(text)

    async def revoke(self, ctx: CommandContext) -> None:
        assert self.ledger is not None
        if len(ctx.argv) != 1:
            raise UsageError()
        user_id = parse_user_id(ctx.argv[0])
        ended = await self.ledger.revoke(user_id)
        await ctx.reply(f"User {user_id} is back on the {self.ledger.plans.default} plan." if ended
                        else f"User {user_id} had no granted plan.")

