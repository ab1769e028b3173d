"""Plans sold for Telegram Stars: /plans, Buy, pre-checkout, exactly-once grants, extension, expiry, refunds."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import msgspec
from mediabot_quota import QuotaPlugin
from mediabot_quota.offers import Offer

from mediabot import Message
from mediabot.testing import FakeClock, eventually
from mediabot.testing.payments import FakeCharge

ANN, BOB, OWNER = 5001, 5002, 1

CONFIG = """
[catalog]
ban_refresh = 3600.0
[plugins.quota]
plans = { free = 3, premium = 10, gold = 20 }
timezone = "Asia/Kolkata"
reap_interval = 3600.0
offers = { premium = { stars = 100, days = 30 }, gold = { stars = 250, days = 30 } }
"""


async def shop_bot(make_bot, config: str = CONFIG, **kw):
    kw.setdefault("clock", FakeClock())
    return await make_bot(plugins=[QuotaPlugin], config=config, owner=OWNER, **kw)


def payments(bot):
    return bot.app.storage("quota").collection("payments")


def button_text(bot, message: Message, start: str) -> str:
    current = bot.fake.message(message.chat.id, message.id) or message
    return next(b.text for row in current.keyboard or [] for b in row if b.text.startswith(start))


async def invoice_for(bot, user: int, plan: str = "premium", verb: str = "Buy") -> Message:
    shown = (await bot.send("/plans", user=user)).last
    pressed = await bot.press(shown, button_text(bot, shown, f"{verb} {plan} "), user=user)
    invoice = pressed.last
    assert invoice.invoice is not None, pressed.texts
    return invoice


async def buy(bot, user: int, plan: str = "premium", verb: str = "Buy") -> str:
    """``user`` buys ``plan``; returns the charge id."""
    invoice = await invoice_for(bot, user, plan, verb)
    before = set(bot.fake.charges)
    await bot.fake.pay(user, invoice.id)
    await bot.settle()
    (charge,) = set(bot.fake.charges) - before
    return charge


def payment_message(bot, user: int, charge_id: str) -> Message:
    return next(m for m in bot.fake.history(user)
                if m.payment is not None and m.payment.telegram_payment_charge_id == charge_id)


def receipts(bot, user: int) -> list[str]:
    return [m.text for m in bot.replies_to(user) if m.text and m.text.startswith("Thank you!")]


async def plan_until(bot, user: int):
    return (await bot.app.storage("quota").collection("ledger").find_one({"_id": user}))["plan_until"]


async def test_plans_lists_prices_and_buy_sends_a_stars_invoice(make_bot):
    bot = await shop_bot(make_bot)
    shown = (await bot.send("/plans", user=ANN)).last
    assert shown.text == ("Plans:\n• free: 3 files a day (everyone)\n• gold: 20 files a day — 250 Stars for 30 days\n"
                          "• premium: 10 files a day — 100 Stars for 30 days\n\nYour plan: free.")
    assert [b.text for row in shown.keyboard for b in row] == ["Buy gold — 250 ⭐", "Buy premium — 100 ⭐"]
    invoice = (await bot.press(shown, "Buy premium — 100 ⭐", user=ANN)).last
    assert (invoice.invoice.currency, invoice.invoice.total_amount) == ("XTR", 100)
    assert invoice.invoice.title == "Premium plan"
    assert invoice.invoice.description == "10 files a day for 30 days"


async def test_a_paid_invoice_grants_the_plan_with_a_receipt_and_a_record(make_bot):
    bot = await shop_bot(make_bot)
    charge = await buy(bot, ANN)
    (answer,) = bot.fake.pre_checkout_answers.values()
    assert answer.ok
    record = await payments(bot).find_one({"_id": charge})
    until = record["paid_at"] + timedelta(days=30)
    assert (record["user_id"], record["offer"], record["stars"], record["state"], record["refunded"]) == (
        ANN, "premium", 100, "granted", False)
    assert record["granted_until"] == until == await plan_until(bot, ANN)
    local = until.astimezone(bot.plugin("quota").shop.zone)
    assert receipts(bot, ANN) == [
        f"Thank you! You paid 100 Stars for the premium plan: 10 files a day until {local:%Y-%m-%d %H:%M} "
        f"(Asia/Kolkata).\nReceipt: charge {charge}. Help: /paysupport, terms: /terms."]
    assert (await bot.send("/quota", user=ANN)).texts[0].split("\n")[1].startswith("Plan: premium until ")
    assert bot.app.metrics.value("mediabot_quota_payments_total", {"offer": "premium"}) == 1
    assert bot.app.metrics.value("mediabot_quota_payment_stars_total", {"offer": "premium"}) == 100


async def test_the_same_payment_delivered_again_is_granted_once(make_bot):
    bot = await shop_bot(make_bot)
    charge = await buy(bot, ANN)
    until = await plan_until(bot, ANN)
    again = payment_message(bot, ANN, charge)
    bot.app.submit(again)
    bot.app.submit(again)
    await bot.settle()
    assert await plan_until(bot, ANN) == until
    assert len(receipts(bot, ANN)) == 1
    assert await payments(bot).count_documents({}) == 1


async def test_one_payment_delivered_to_two_processes_is_granted_once(make_bot):
    clock = FakeClock()
    first = await shop_bot(make_bot, clock=clock)
    second = await shop_bot(make_bot, clock=clock)
    await second.send("/start", user=ANN)
    charge = await buy(first, ANN)
    until = await plan_until(first, ANN)
    # Another payment of the same invoice reaches both processes at once.
    paid = payment_message(first, ANN, charge)
    twin = msgspec.structs.replace(paid, payment=msgspec.structs.replace(
        paid.payment, telegram_payment_charge_id="stxtwin0001"))
    first.app.submit(twin)
    second.app.submit(twin)
    await asyncio.gather(first.settle(), second.settle())
    assert await plan_until(first, ANN) == until + timedelta(days=30)
    assert len(receipts(first, ANN)) + len(receipts(second, ANN)) == 2
    assert await payments(first).count_documents({}) == 2


async def test_a_process_killed_between_record_and_grant_grants_once_after_restart(make_bot):
    clock = FakeClock()
    config = CONFIG.replace("[catalog]", "[runtime]\nshutdown_deadline = 1.0\n[catalog]")
    dying = await shop_bot(make_bot, config=config, clock=clock)
    frozen = asyncio.Event()

    async def hang(*args, **kwargs):
        frozen.set()
        await asyncio.Event().wait()  # the process dies here: recorded, never granted

    dying.plugin("quota").shop.grants.apply = hang
    invoice = await invoice_for(dying, ANN)
    await dying.fake.pay(ANN, invoice.id)
    await eventually(frozen.is_set, what="the payment handler reached the grant")
    (charge,) = dying.fake.charges
    assert (await payments(dying).find_one({"_id": charge}))["state"] == "recorded"
    paid = payment_message(dying, ANN, charge)
    await dying.stop()
    assert receipts(dying, ANN) == []

    restarted = await shop_bot(make_bot, clock=clock)
    record = await eventually(lambda: payments(restarted).find_one({"_id": charge}),
                              lambda r: r["state"] == "granted", what="the restart finished the payment")
    assert await plan_until(restarted, ANN) == record["paid_at"] + timedelta(days=30)
    assert len(receipts(restarted, ANN)) == 1
    restarted.app.submit(paid)  # Telegram delivers the update again after the restart
    await restarted.settle()
    assert await plan_until(restarted, ANN) == record["paid_at"] + timedelta(days=30)
    assert len(receipts(restarted, ANN)) == 1


async def test_a_price_changed_after_the_invoice_is_refused_at_checkout(make_bot):
    bot = await shop_bot(make_bot)
    invoice = await invoice_for(bot, ANN)
    # The owner raises the price (a process started with the new plugins.toml answers the checkout).
    bot.plugin("quota").shop.offers["premium"] = Offer(stars=150, days=30)
    query = await bot.fake.pay(ANN, invoice.id)
    await bot.settle()
    answer = bot.fake.pre_checkout_answers[query]
    assert not answer.ok
    assert answer.error == ("This invoice is out of date: the premium plan is now 150 Stars for 30 days. "
                            "Nothing was charged; /plans sends a new invoice.")
    assert bot.fake.charges == {}
    assert bot.app.metrics.value("mediabot_quota_checkouts_refused_total", {"reason": "price"}) == 1


async def test_an_offer_withdrawn_after_the_invoice_is_refused_at_checkout(make_bot):
    bot = await shop_bot(make_bot)
    invoice = await invoice_for(bot, ANN, "gold")
    del bot.plugin("quota").shop.offers["gold"]
    query = await bot.fake.pay(ANN, invoice.id)
    await bot.settle()
    assert bot.fake.pre_checkout_answers[query].error == (
        "The gold plan is no longer on sale. Nothing was charged; /plans shows what is.")
    assert bot.fake.charges == {}


async def test_buying_the_same_plan_again_adds_its_days(make_bot):
    bot = await shop_bot(make_bot)
    first = await buy(bot, ANN)
    paid_at = (await payments(bot).find_one({"_id": first}))["paid_at"]
    shown = (await bot.send("/plans", user=ANN)).last
    assert "\nYour plan: premium, until " in shown.text
    second = await buy(bot, ANN, verb="Extend")
    assert await plan_until(bot, ANN) == paid_at + timedelta(days=60)
    assert (await payments(bot).find_one({"_id": second}))["granted_until"] == paid_at + timedelta(days=60)
    assert len(receipts(bot, ANN)) == 2


async def test_another_plan_while_one_runs_is_refused_naming_its_end(make_bot):
    bot = await shop_bot(make_bot)
    gold_invoice = await invoice_for(bot, ANN, "gold")  # sent before premium was bought
    await buy(bot, ANN)
    local = (await plan_until(bot, ANN)).astimezone(bot.plugin("quota").shop.zone)
    refusal = (f"You have the premium plan, which ends {local:%Y-%m-%d %H:%M} (Asia/Kolkata). "
               "You can buy the gold plan once it has ended.")
    shown = (await bot.send("/plans", user=ANN)).last
    pressed = await bot.press(shown, "Buy gold — 250 ⭐", user=ANN)
    assert pressed.answer.text == refusal and pressed.answer.alert
    query = await bot.fake.pay(ANN, gold_invoice.id)
    await bot.settle()
    assert bot.fake.pre_checkout_answers[query].error == refusal + " Nothing was charged."
    assert len(bot.fake.charges) == 1


async def test_a_paid_plan_clears_an_admins_limit(make_bot):
    bot = await shop_bot(make_bot)
    await bot.send(f"/setlimit {ANN} 1", user=OWNER)
    shown = (await bot.send("/plans", user=ANN)).last
    assert "An admin set your daily limit to 1 files; a paid plan replaces it with the plan's." in shown.text
    await buy(bot, ANN)
    assert "The daily limit of 1 an admin had set for you no longer applies." in receipts(bot, ANN)[0]
    assert (await bot.send("/quota", user=ANN)).texts[0].startswith("You have 10 of 10 files left today.")


async def test_a_plan_ends_on_time_with_a_notice_a_day_before_and_one_at_the_end(make_bot):
    config = CONFIG.replace("premium = { stars = 100, days = 30 }", "premium = { stars = 100, days = 2 }")
    bot = await shop_bot(make_bot, config=config + "plan_check_interval = 600.0\n")
    charge = await buy(bot, ANN)
    until = (await payments(bot).find_one({"_id": charge}))["granted_until"]
    seen: dict[str, object] = {}

    def notices():
        for m in bot.replies_to(ANN):
            for key, start in (("warn", "Your premium plan ends in "), ("end", "Your premium plan has ended")):
                if m.text and m.text.startswith(start) and key not in seen:
                    seen[key] = (m.text, bot.clock.wall())
        return seen

    await eventually(notices, lambda s: "end" in s, deadline=60, what="the plan-end notices")
    warn_text, warned_at = seen["warn"]
    end_text, ended_at = seen["end"]
    # The first pass (every 600 s) within a day of the end warns: between 23 h 50 min and 24 h before it.
    local = until.astimezone(bot.plugin("quota").shop.zone)
    assert re.fullmatch(rf"Your premium plan ends in (1 d|23 h 5\d min), at {local:%Y-%m-%d %H:%M} "
                        r"\(Asia/Kolkata\)\. /plans to extend it\.", warn_text), warn_text
    assert warned_at < until <= ended_at  # never early
    assert end_text == ("Your premium plan has ended: you are back on the free plan (3 files a day). "
                        "/plans to buy it again.")
    assert (await bot.send("/quota", user=ANN)).texts[0].startswith("You have 3 of 3 files left today.\nPlan: free")
    assert sum(1 for m in bot.replies_to(ANN) if m.text and m.text.startswith("Your premium plan")) == 2


async def test_a_refund_gives_the_stars_back_and_takes_that_payments_days_off(make_bot):
    bot = await shop_bot(make_bot)
    first = await buy(bot, ANN)
    await buy(bot, ANN, verb="Extend")
    until = await plan_until(bot, ANN)
    reply = (await bot.send(f"/refund {first}", user=OWNER)).texts[0]
    shortened = until - timedelta(days=30)
    local = shortened.astimezone(bot.plugin("quota").shop.zone)
    assert reply == (f"Refunded 100 Stars to user {ANN}; their premium plan now ends "
                     f"{local:%Y-%m-%d %H:%M} (Asia/Kolkata).")
    assert bot.fake.charges[first].refunded
    assert await plan_until(bot, ANN) == shortened
    assert bot.replies_to(ANN)[-1].text == (f"Your payment of 100 Stars (charge {first}) was refunded. Your premium "
                                            f"plan now ends {local:%Y-%m-%d %H:%M} (Asia/Kolkata).")
    again = (await bot.send(f"/refund {first}", user=OWNER)).texts[0]
    assert again.startswith(f"Payment {first} was refunded already on ") and again.endswith("nothing more to do.")
    assert await plan_until(bot, ANN) == shortened
    assert bot.app.metrics.value("mediabot_quota_refunds_total", {"offer": "premium"}) == 1


async def test_refunding_the_only_payment_ends_the_plan_now(make_bot):
    bot = await shop_bot(make_bot)
    charge = await buy(bot, ANN)
    reply = (await bot.send(f"/refund {charge}", user=OWNER)).texts[0]
    assert reply == f"Refunded 100 Stars to user {ANN}; their premium plan has ended."
    assert (await bot.send("/quota", user=ANN)).texts[0].startswith("You have 3 of 3 files left today.\nPlan: free")
    record = await payments(bot).find_one({"_id": charge})
    assert record["refunded"] and record["refunded_at"] is not None


async def test_a_refund_telegram_made_already_still_revokes_once(make_bot):
    bot = await shop_bot(make_bot)
    charge = await buy(bot, ANN)
    await bot.app.telegram.refund_stars(ANN, charge)  # a refund whose process stopped before recording it
    reply = (await bot.send(f"/refund {charge}", user=OWNER)).texts[0]
    assert reply == f"Refunded 100 Stars to user {ANN}; their premium plan has ended."


async def test_refund_is_the_owners_and_names_unknown_charges(make_bot):
    bot = await shop_bot(make_bot, admins=[BOB])
    await buy(bot, ANN)
    assert (await bot.send("/refund stxfake00000001", user=BOB)).texts == ["This command is for the bot owner only."]
    assert not bot.fake.charges["stxfake00000001"].refunded
    assert (await bot.send("/refund stxnope", user=OWNER)).texts == [
        "No payment has the charge id stxnope: /payments lists them."]
    assert (await bot.send("/refund", user=OWNER)).texts[0].startswith("Usage: /refund CHARGE_ID")


async def test_payments_shows_recent_payments_totals_and_refunds(make_bot):
    bot = await shop_bot(make_bot, admins=[BOB])
    first = await buy(bot, ANN)
    await buy(bot, ANN, verb="Extend")
    await bot.send(f"/refund {first}", user=OWNER)
    text = (await bot.send("/payments", user=BOB)).texts[0]
    assert text.startswith("Totals per offer:\n• premium: 2 payments, 200 Stars; refunded 1 (100 Stars)\n\n"
                           "Recent payments:\n")
    assert f"user {ANN}: premium, 100 Stars, {first}, refunded" in text
    assert (await bot.send("/payments", user=ANN)).texts == ["This command is for admins only."]


async def test_paysupport_and_terms_answer_with_the_configured_texts(make_bot):
    config = CONFIG + 'paysupport_text = "Write to @shop_help."\nterms_text = "No refunds after 7 days."\n'
    bot = await shop_bot(make_bot, config=config)
    assert (await bot.send("/paysupport", user=ANN)).texts == ["Write to @shop_help."]
    assert (await bot.send("/terms", user=ANN)).texts == ["No refunds after 7 days."]


async def test_a_payment_for_another_plan_that_raced_past_checkout_is_given_back(make_bot):
    bot = await shop_bot(make_bot)
    charge = await buy(bot, ANN)
    until = await plan_until(bot, ANN)
    # Two invoices paid at the same moment: both checkouts passed, the gold payment lands second.
    paid = payment_message(bot, ANN, charge)
    payload = "q1:gold:250:30"
    bot.fake.charges["stxrace0001"] = FakeCharge(ANN, "XTR", 250, payload)
    raced = msgspec.structs.replace(paid, payment=msgspec.structs.replace(
        paid.payment, total_amount=250, invoice_payload=payload, telegram_payment_charge_id="stxrace0001"))
    bot.app.submit(raced)
    await bot.settle()
    assert bot.fake.charges["stxrace0001"].refunded
    assert await plan_until(bot, ANN) == until
    record = await payments(bot).find_one({"_id": "stxrace0001"})
    assert (record["state"], record["refunded"]) == ("refused", True)
    assert bot.replies_to(ANN)[-1].text.startswith(
        "Your 250 Stars for the gold plan were given back: you already have the premium plan, which ends ")


async def test_a_plan_given_with_grant_gets_the_end_notice_too(make_bot):
    bot = await shop_bot(make_bot, config=CONFIG + "plan_check_interval = 600.0\n")
    await bot.send(f"/grant {ANN} 2h premium", user=OWNER)
    await eventually(lambda: [m.text for m in bot.replies_to(ANN) if m.text and "plan has ended" in m.text],
                     deadline=30, what="the end notice of a granted plan")
    assert [m.text.split(" in ")[0] for m in bot.replies_to(ANN) if m.text.startswith("Your premium plan ends")] == [
        "Your premium plan ends"]


async def test_without_offers_plans_lists_the_plans_and_sells_nothing(make_bot):
    bot = await make_bot(plugins=[QuotaPlugin], config="[plugins.quota]\nplans = { free = 3, premium = 10 }\n")
    shown = (await bot.send("/plans", user=ANN)).last
    assert shown.text == ("Plans:\n• free: 3 files a day (everyone)\n• premium: 10 files a day\n\n"
                          "Your plan: free.\nNo plan is on sale here.")
    assert not shown.keyboard
