"""Stars payments while MongoDB stops answering: the checkout is refused in time, a payment is kept."""

from __future__ import annotations

import time

import msgspec
from mediabot_quota import QuotaPlugin

from mediabot.testing import FakeClock, eventually
from mediabot.testing.payments import FakeCharge

ANN, OWNER = 5001, 1

CONFIG = """
[plugins.quota]
plans = { free = 3, premium = 10 }
offers = { premium = { stars = 100, days = 30 } }
timeout = 1.0
reap_interval = 3600.0
"""


async def own_database_bot(make_bot, mongo_factory, mongo_db_name):
    server = mongo_factory()
    bot = await make_bot(plugins=[QuotaPlugin], config=CONFIG, owner=OWNER, clock=FakeClock(),
                         env={"MEDIABOT_MONGO_URI": server.uri})
    return bot, server


async def invoice_for(bot, user: int):
    shown = (await bot.send("/plans", user=user)).last
    return (await bot.press(shown, "Buy premium — 100 ⭐", user=user)).last


async def test_a_checkout_while_the_database_is_paused_is_refused_within_telegrams_time(
        make_bot, mongo_factory, mongo_db_name):
    bot, server = await own_database_bot(make_bot, mongo_factory, mongo_db_name)
    invoice = await invoice_for(bot, ANN)
    server.pause()
    try:
        started = time.monotonic()
        query = await bot.fake.pay(ANN, invoice.id)
        answer = await eventually(lambda: bot.fake.pre_checkout_answers.get(query), what="the checkout answer")
        assert time.monotonic() - started < 10
    finally:
        server.resume()
    assert answer.error == "Payments are unavailable right now. Nothing was charged; please try again in a minute."
    assert bot.fake.charges == {}


async def test_a_payment_arriving_while_the_database_is_paused_is_granted_once_it_is_back(
        make_bot, mongo_factory, mongo_db_name):
    bot, server = await own_database_bot(make_bot, mongo_factory, mongo_db_name)
    invoice = await invoice_for(bot, ANN)
    await bot.fake.pay(ANN, invoice.id)
    await bot.settle()
    (charge,) = bot.fake.charges
    paid = next(m for m in bot.fake.history(ANN) if m.payment is not None)
    # A second payment (its checkout passed) reaches the bot while the database is paused.
    bot.fake.charges["stxlate0001"] = FakeCharge(ANN, "XTR", 100, paid.payment.invoice_payload)
    late = msgspec.structs.replace(paid, payment=msgspec.structs.replace(
        paid.payment, telegram_payment_charge_id="stxlate0001"))
    server.pause()
    try:
        bot.app.submit(late)
        await eventually(lambda: [m for m in bot.replies_to(ANN) if m.text and "stxlate0001" in m.text],
                         what="the user is told the payment arrived")
    finally:
        server.resume()
    assert [m.text for m in bot.replies_to(ANN) if m.text and "stxlate0001" in m.text] == [
        "Your payment of 100 Stars for the premium plan arrived (charge stxlate0001). The plan is applied in a "
        "few minutes; your receipt follows."]
    await eventually(lambda: [m for m in bot.replies_to(ANN) if m.text and m.text.startswith("Thank you!")],
                     lambda receipts: len(receipts) == 2, deadline=30, what="the receipt once the database is back")
    store = bot.app.storage("quota").collection("payments")
    first, second = await store.find_one({"_id": charge}), await store.find_one({"_id": "stxlate0001"})
    assert second["state"] == "granted"
    assert second["granted_until"] == first["granted_until"] + (first["granted_until"] - first["paid_at"])
