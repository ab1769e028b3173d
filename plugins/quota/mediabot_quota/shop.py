"""Plans sold for Telegram Stars: /plans, Buy, pre-checkout, the payment, the receipt, refunds, plan ends.

The flow (Telegram's): ``/plans`` -> Buy (a signed button) -> a Stars
invoice whose payload is the offer as it is now -> the user pays ->
a pre-checkout query, answered at once (refused when the offer is gone, its
price or days changed, or another plan is running) -> the payment message:
recorded first (:class:`~mediabot_quota.payments.PaymentBook`, one record per
charge id), then granted idempotently
(:class:`~mediabot_quota.paidplans.PlanGrants`), then the receipt, sent by
the one process that moves the record to ``granted``. A pass every
``plan_check_interval`` (and at start) finishes payments recorded by a
process that stopped before granting, and tells users their plan ends in a
day, then that it ended.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from mediabot import (
    Callback,
    CallbackContext,
    Command,
    CommandContext,
    Handler,
    Message,
    PermanentTelegramError,
    PluginContext,
    PreCheckoutQuery,
    TelegramError,
    UpdateContext,
    UsageError,
)
from mediabot_quota.config import QuotaConfig
from mediabot_quota.days import load_zone
from mediabot_quota.durations import format_remaining
from mediabot_quota.models import QuotaUnavailable
from mediabot_quota.offers import OfferTerms, invoice_payload, parse_payload
from mediabot_quota.paidplans import ActivePlan, PlanGrants
from mediabot_quota.payments import PaymentBook, PaymentRecord
from mediabot_quota.plans import Plans

__all__ = ["StarsShop"]

BUY = "quota.buy"
# Telegram waits 10 s for a pre-checkout answer; the plan lookup must leave time to send it.
CHECKOUT_LOOKUP_TIMEOUT = 4.0
MAX_CHARGE_ID = 256
# Recording a payment is retried for about 12 minutes (1, 2, 4 ... 60 s) while the database is away.
RECORD_ATTEMPTS = 16


def is_payment(message: Any) -> bool:
    return isinstance(message, Message) and message.payment is not None


class StarsShop:
    """The selling half of the quota plugin (see the module docstring)."""

    def __init__(self, ctx: PluginContext[QuotaConfig], *, plans: Plans) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.offers = ctx.config.offers
        self.plans = plans
        self._grants: PlanGrants | None = None
        self._book: PaymentBook | None = None
        self.zone = load_zone(ctx.config.timezone)
        counter = ctx.app.metrics.counter
        self._paid = counter("mediabot_quota_payments_total", "Stars payments granted", ["offer"])
        self._stars = counter("mediabot_quota_payment_stars_total", "Stars received for granted payments",
                              ["offer"])
        self._refunds = counter("mediabot_quota_refunds_total", "Stars payments refunded by the owner", ["offer"])
        self._refused = counter("mediabot_quota_checkouts_refused_total", "Pre-checkout queries refused",
                                ["reason"])

    def open(self, grants: PlanGrants, book: PaymentBook) -> None:
        """At startup, once the plugin's collections are there."""
        self._grants = grants
        self._book = book

    @property
    def grants(self) -> PlanGrants:
        assert self._grants is not None, "the quota plugin is not started"
        return self._grants

    @property
    def book(self) -> PaymentBook:
        assert self._book is not None, "the quota plugin is not started"
        return self._book

    # -- what the plugin declares ------------------------------------------------------
    def commands(self) -> list[Command]:
        return [
            Command(name="plans", description="Plans, prices and your plan", handler=self.show_plans),
            Command(name="paysupport", description="Help with a payment", handler=self.paysupport),
            Command(name="terms", description="Terms of the paid plans", handler=self.terms),
            Command(name="refund", description="Refund a Stars payment", usage="CHARGE_ID", role="owner",
                    handler=self.refund),
            Command(name="payments", description="Recent payments and totals", role="admin",
                    handler=self.payments),
        ]

    def callbacks(self) -> list[Callback]:
        return [Callback(BUY, self.buy)]

    def handlers(self) -> list[Handler]:
        return [
            Handler(name="pre_checkout", handler=self.pre_checkout, updates=("pre_checkout",), order=10),
            Handler(name="payment", handler=self.payment, content="any", chats=("private", "group"),
                    when=is_payment, order=10),
        ]

    # -- words ---------------------------------------------------------------------------
    def when(self, instant: datetime) -> str:
        local = instant.astimezone(self.zone)
        zone = "UTC" if self.zone.key == "UTC" else f"({self.zone.key})"
        return f"{local:%Y-%m-%d %H:%M} {zone}"

    def _blocked_by(self, active: ActivePlan | None, plan: str) -> str | None:
        """Why ``plan`` cannot be bought while ``active`` runs; ``None`` when it can."""
        if active is None or active.plan == self.plans.default or (active.plan == plan and active.until is not None):
            return None
        ends = f"ends {self.when(active.until)}" if active.until is not None else "has no end"
        return f"You have the {active.plan} plan, which {ends}. You can buy the {plan} plan once it has ended."

    # -- /plans and Buy ------------------------------------------------------------------
    async def show_plans(self, ctx: CommandContext) -> None:
        active = await self.grants.active(ctx.user.id, self.ctx.clock.wall())
        lines = ["Plans:"]
        for name in [self.plans.default, *sorted(self.plans.others())]:
            line = f"• {name}: {self.plans.limit(name)} files a day"
            offer = self.offers.get(name)
            if offer is not None:
                line += f" — {offer.stars} Stars for {offer.days} days"
            elif name == self.plans.default:
                line += " (everyone)"
            lines.append(line)
        if active is not None and active.plan != self.plans.default:
            ends = f"until {self.when(active.until)}" if active.until is not None else "without end"
            lines.append(f"\nYour plan: {active.plan}, {ends}.")
        else:
            lines.append(f"\nYour plan: {self.plans.default}.")
        if active is not None and active.override is not None:
            lines.append(f"An admin set your daily limit to {active.override} files; a paid plan replaces it "
                         "with the plan's.")
        keyboard = []
        for name, offer in sorted(self.offers.items()):
            verb = "Extend" if active is not None and active.plan == name else "Buy"
            keyboard.append([ctx.button(f"{verb} {name} — {offer.stars} ⭐", BUY, name)])
        if not keyboard:
            lines.append("No plan is on sale here.")
        await ctx.reply("\n".join(lines), keyboard=keyboard or None)

    async def buy(self, ctx: CallbackContext) -> None:
        plan = ctx.args[0] if ctx.args else ""
        offer = self.offers.get(plan)
        if offer is None:
            await ctx.answer("This plan is no longer on sale: /plans shows what is.", alert=True)
            return
        active = await self.grants.active(ctx.user.id, self.ctx.clock.wall())
        blocked = self._blocked_by(active, plan)
        if blocked is not None:
            await ctx.answer(blocked, alert=True)
            return
        description = f"{self.plans.limit(plan)} files a day for {offer.days} days"
        if active is not None and active.plan == plan and active.until is not None:
            description += f", added to your plan's end ({self.when(active.until)})"
        if active is not None and active.override is not None:
            description += f"; replaces the daily limit of {active.override} an admin set for you"
        await self.ctx.app.telegram.send_invoice(
            ctx.user.id, title=f"{plan.capitalize()} plan"[:32], description=description[:255],
            payload=invoice_payload(plan, offer), prices=[(f"{offer.days} days", offer.stars)])
        await ctx.answer()

    # -- pre-checkout ------------------------------------------------------------------
    async def pre_checkout(self, ctx: UpdateContext) -> bool | None:
        query = ctx.update
        assert isinstance(query, PreCheckoutQuery)
        terms = parse_payload(query.invoice_payload)
        if terms is None:
            return False  # not an invoice of this plugin
        error, reason = await self._checkout_error(query, terms)
        if error is None:
            await self.ctx.app.telegram.answer_pre_checkout(query.id, ok=True)
        else:
            self._refused.labels(reason=reason).inc()
            self.ctx.log.info("refused a checkout of %s by %d: %s", terms.plan, query.from_user.id, reason)
            await self.ctx.app.telegram.answer_pre_checkout(query.id, ok=False, error=error)
        return None

    async def _checkout_error(self, query: PreCheckoutQuery, terms: OfferTerms) -> tuple[str | None, str]:
        offer = self.offers.get(terms.plan)
        if offer is None:
            return f"The {terms.plan} plan is no longer on sale. Nothing was charged; /plans shows what is.", "gone"
        if (offer.stars, offer.days) != (terms.stars, terms.days) or query.currency != "XTR" \
                or query.total_amount != terms.stars:
            return (f"This invoice is out of date: the {terms.plan} plan is now {offer.stars} Stars for "
                    f"{offer.days} days. Nothing was charged; /plans sends a new invoice."), "price"
        try:
            active = await self.grants.active(query.from_user.id, self.ctx.clock.wall(),
                                              timeout=min(CHECKOUT_LOOKUP_TIMEOUT, self.config.timeout))
        except QuotaUnavailable as exc:
            self.ctx.log.warning("pre-checkout: %s", exc)
            return "Payments are unavailable right now. Nothing was charged; please try again in a minute.", \
                "unavailable"
        blocked = self._blocked_by(active, terms.plan)
        return (None, "") if blocked is None else (blocked + " Nothing was charged.", "other_plan")

    # -- the payment -------------------------------------------------------------------
    async def payment(self, ctx: UpdateContext) -> bool | None:
        message = ctx.message
        assert message is not None and message.payment is not None
        paid = message.payment
        terms = parse_payload(paid.invoice_payload)
        if terms is None:
            return False  # another plugin's invoice
        payer = message.from_user.id if message.from_user is not None else ctx.user.id
        record = PaymentRecord(charge_id=paid.telegram_payment_charge_id, user_id=payer, offer=terms.plan,
                               stars=paid.total_amount, days=terms.days, paid_at=self.ctx.clock.wall())
        if not await self._record(record):
            return None
        try:
            await self.finish(record)
        except QuotaUnavailable as exc:  # recorded: the next pass grants it
            self.ctx.log.warning("payment %s recorded, grant postponed: %s", record.charge_id, exc)
            await self._tell(payer, self._received(record))
        return None

    def _received(self, record: PaymentRecord) -> str:
        return (f"Your payment of {record.stars} Stars for the {record.offer} plan arrived (charge "
                f"{record.charge_id}). The plan is applied in a few minutes; your receipt follows.")

    async def _record(self, record: PaymentRecord) -> bool:
        """Record a payment, retrying while the database is away: Telegram delivers it only once.

        :returns: True when the caller should go on to grant it (recorded now, or recorded earlier and
            not finished); False when it was finished already or could not be recorded.
        """
        told = False
        for attempt in range(RECORD_ATTEMPTS):
            try:
                if await self.book.record(record):
                    self.ctx.log.info("payment %s: %d paid %d Stars for %s", record.charge_id, record.user_id,
                                      record.stars, record.offer)
                    return True
                stored = await self.book.get(record.charge_id)
                return stored is not None and stored.state == "recorded"
            except QuotaUnavailable as exc:
                self.ctx.log.warning("payment %s not recorded yet (attempt %d): %s", record.charge_id,
                                     attempt + 1, exc)
                if not told:
                    told = True
                    await self._tell(record.user_id, self._received(record))
                await self.ctx.clock.sleep(min(60.0, 2.0 ** attempt))
        # Nothing else knows of this payment: the owner must grant or refund it by hand.
        self.ctx.log.error("payment %s of user %d (%d Stars, %s) could not be recorded", record.charge_id,
                           record.user_id, record.stars, record.offer)
        await self.ctx.app.notices.tell(
            f"quota:payment:{record.charge_id}", f"A payment could not be recorded (database unavailable): user "
            f"{record.user_id} paid {record.stars} Stars for {record.offer}, charge {record.charge_id}. Give "
            f"the plan with /grant {record.user_id} {record.days}d {record.offer}.",
            interval=0, level=logging.ERROR, source="quota")
        return False

    async def finish(self, record: PaymentRecord) -> None:
        """Grant a recorded payment and send its receipt; nothing for one finished already."""
        if record.state == "refused" and not record.refunded:
            await self._give_back(record, None, None)  # a process stopped while giving it back
        if record.state != "recorded":
            return
        applied = await self.grants.apply(record.user_id, plan=record.offer, days=record.days,
                                          paid_at=record.paid_at, charge_id=record.charge_id)
        if applied.outcome == "conflict":
            await self._give_back(record, applied.plan or "", applied.until)
            return
        if not await self.book.settle(record.charge_id, "granted", applied.until):
            return  # another process (or delivery) finished it and sent the receipt
        self._paid.labels(offer=record.offer).inc()
        self._stars.labels(offer=record.offer).inc(record.stars)
        until = f"until {self.when(applied.until)}" if applied.until is not None else "without end"
        lines = [f"Thank you! You paid {record.stars} Stars for the {record.offer} plan: "
                 f"{self.plans.limit(record.offer)} files a day {until}."]
        if applied.cleared is not None:
            lines.append(f"The daily limit of {applied.cleared} an admin had set for you no longer applies.")
        lines.append(f"Receipt: charge {record.charge_id}. Help: /paysupport, terms: /terms.")
        await self._tell(record.user_id, "\n".join(lines))

    async def _give_back(self, record: PaymentRecord, plan: str | None, until: datetime | None) -> None:
        """Another plan was running when the payment came (two invoices paid at once): refund it.

        Marked ``refused`` first, so that no later pass grants it; refunded
        next; the pass finishes a refund a stopped process did not make.
        """
        if record.state == "recorded" and not await self.book.settle(record.charge_id, "refused", None):
            return
        try:
            await self.ctx.app.telegram.refund_stars(record.user_id, record.charge_id)
        except PermanentTelegramError as exc:
            if getattr(exc.original, "ID", "") != "CHARGE_ALREADY_REFUNDED":
                raise
        if not await self.book.mark_refunded(record.charge_id, self.ctx.clock.wall()):
            return  # another process gave it back and told the user
        ends = f", which ends {self.when(until)}" if until is not None else ""
        running = f"the {plan} plan{ends}" if plan else "another plan"
        await self._tell(record.user_id, f"Your {record.stars} Stars for the {record.offer} plan were given back: "
                                         f"you already have {running}.")

    async def _tell(self, user_id: int, text: str) -> None:
        try:
            await self.ctx.app.telegram.send_text(user_id, text)
        except TelegramError as exc:  # blocked the bot, or gone: the record stays right
            self.ctx.log.info("could not tell user %d: %s", user_id, exc)

    # -- refunds and reports ---------------------------------------------------------------
    async def refund(self, ctx: CommandContext) -> None:
        if len(ctx.argv) != 1:
            raise UsageError()
        charge_id = ctx.argv[0]
        if len(charge_id) > MAX_CHARGE_ID or not charge_id.isprintable():
            raise UsageError("CHARGE_ID is the charge id of a receipt or of /payments.")
        record = await self.book.get(charge_id)
        if record is None:
            await ctx.reply(f"No payment has the charge id {charge_id}: /payments lists them.")
            return
        if record.refunded:
            at = f" on {self.when(record.refunded_at)}" if record.refunded_at is not None else ""
            await ctx.reply(f"Payment {charge_id} was refunded already{at}; nothing more to do.")
            return
        try:
            await self.ctx.app.telegram.refund_stars(record.user_id, charge_id)
        except PermanentTelegramError as exc:
            # Refunded before (another process, or a refund that stopped before it was recorded): finish it.
            if getattr(exc.original, "ID", "") != "CHARGE_ALREADY_REFUNDED":
                await ctx.reply(f"Telegram refused to refund {charge_id}: {exc}.")
                return
        now = self.ctx.clock.wall()
        revoked = await self.grants.revoke(record.user_id, plan=record.offer, days=record.days,
                                           charge_id=charge_id, now=now)
        if await self.book.mark_refunded(charge_id, now):
            self._refunds.labels(offer=record.offer).inc()
        self.ctx.log.info("owner %d refunded %s (%d Stars of %d)", ctx.user.id, charge_id, record.stars,
                          record.user_id)
        if revoked.outcome == "taken" and revoked.until is not None and revoked.until > now:
            plan_now = f"their {record.offer} plan now ends {self.when(revoked.until)}"
            user_plan = f"Your {record.offer} plan now ends {self.when(revoked.until)}."
        elif revoked.outcome == "taken":
            plan_now = f"their {record.offer} plan has ended"
            user_plan = f"Your {record.offer} plan has ended; you are back on the {self.plans.default} plan."
        else:
            plan_now = "nothing of that payment's plan remained"
            user_plan = ""
        await self._tell(record.user_id, f"Your payment of {record.stars} Stars (charge {charge_id}) was "
                                         f"refunded. {user_plan}".strip())
        await ctx.reply(f"Refunded {record.stars} Stars to user {record.user_id}; {plan_now}.")

    async def payments(self, ctx: CommandContext) -> None:
        recent = await self.book.recent(10)
        totals = await self.book.totals()
        if not recent:
            await ctx.reply("No payments yet.")
            return
        lines = ["Totals per offer:"]
        for t in totals:
            lines.append(f"• {t.offer}: {t.count} payments, {t.stars} Stars; refunded {t.refunded} "
                         f"({t.refunded_stars} Stars)")
        lines.append("\nRecent payments:")
        for r in recent:
            state = "refunded" if r.refunded else {"recorded": "being granted", "refused": "given back"}.get(
                r.state, f"until {self.when(r.granted_until)}" if r.granted_until else "granted")
            lines.append(f"• {self.when(r.paid_at)} user {r.user_id}: {r.offer}, {r.stars} Stars, "
                         f"{r.charge_id}, {state}")
        await ctx.reply("\n".join(lines))

    async def paysupport(self, ctx: CommandContext) -> None:
        await ctx.reply(self.config.paysupport_text)

    async def terms(self, ctx: CommandContext) -> None:
        await ctx.reply(self.config.terms_text)

    # -- the periodic pass -----------------------------------------------------------------
    async def check_forever(self) -> None:
        """Finish unfinished payments and send plan-end notices now, then every ``plan_check_interval``."""
        while True:
            try:
                await self.check_once()
            except QuotaUnavailable as exc:  # the database is away: the next pass retries
                self.ctx.log.warning("plan check failed: %s", exc)
            await self.ctx.clock.sleep(self.config.plan_check_interval)

    async def check_once(self) -> None:
        for record in await self.book.pending():
            self.ctx.log.info("finishing payment %s, recorded but not granted", record.charge_id)
            await self.finish(record)
        now = self.ctx.clock.wall()
        for doc in await self.grants.due_notices("warn", now + timedelta(days=1)):
            if await self.grants.take_notice(doc, "warn") and doc["plan_until"] > now:
                left = format_remaining(doc["plan_until"] - now)
                await self._tell(doc["_id"], f"Your {doc['plan']} plan ends in {left}, at "
                                             f"{self.when(doc['plan_until'])}. /plans to extend it.")
        for doc in await self.grants.due_notices("end", now):
            if await self.grants.take_notice(doc, "end"):
                default = self.plans.default
                await self._tell(doc["_id"], f"Your {doc['plan']} plan has ended: you are back on the {default} "
                                             f"plan ({self.plans.limit(default)} files a day). /plans to buy "
                                             "it again.")
