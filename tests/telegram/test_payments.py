"""Telegram Stars through the gateway: an invoice, the user pays, the bot confirms, is paid, and may refund once."""

from __future__ import annotations

import pytest
from pyrogram.errors import ChargeAlreadyRefunded, ChargeNotFound, QueryIdInvalid, StarsInvoiceInvalid

from mediabot import Message, PreCheckoutQuery
from mediabot.core.telegram import PermanentTelegramError

ANN, BOB = 5001, 5002


async def invoice(gateway, amount: int = 50) -> Message:
    return await gateway.send_invoice(ANN, title="Premium", description="30 days of premium",
                                      payload="premium:30d", prices=[("30 days", amount)])


async def test_an_invoice_paid_and_confirmed_becomes_a_payment(gateway, fake, received):
    sent = await invoice(gateway)
    assert sent.invoice is not None and (sent.invoice.currency, sent.invoice.total_amount) == ("XTR", 50)
    assert sent.invoice.title == "Premium"
    query_id = await fake.pay(ANN, sent.id)
    (query,) = received.of(PreCheckoutQuery)
    assert (query.id, query.from_user.id, query.currency, query.total_amount, query.invoice_payload) == (
        query_id, ANN, "XTR", 50, "premium:30d")
    await gateway.answer_pre_checkout(query.id, ok=True)
    (paid,) = [m for m in received.of(Message) if m.payment is not None]
    assert paid.chat.id == ANN and paid.from_user is not None and paid.from_user.id == ANN
    assert (paid.payment.currency, paid.payment.total_amount, paid.payment.invoice_payload) == (
        "XTR", 50, "premium:30d")
    charge = fake.charges[paid.payment.telegram_payment_charge_id]
    assert (charge.user_id, charge.total_amount, charge.refunded) == (ANN, 50, False)


async def test_a_refused_checkout_charges_nothing(gateway, fake, received):
    sent = await invoice(gateway)
    query_id = await fake.pay(ANN, sent.id)
    await gateway.answer_pre_checkout(query_id, ok=False, error="Sold out, sorry")
    assert fake.pre_checkout_answers[query_id].error == "Sold out, sorry"
    assert fake.charges == {} and [m for m in received.of(Message) if m.payment] == []
    with pytest.raises(PermanentTelegramError) as raised:  # answered already
        await gateway.answer_pre_checkout(query_id, ok=True)
    assert isinstance(raised.value.original, QueryIdInvalid)


async def test_a_refusal_needs_its_reason(gateway):
    with pytest.raises(ValueError, match="error"):
        await gateway.answer_pre_checkout("1", ok=False)


async def test_a_payment_is_refunded_once_and_only_to_its_payer(gateway, fake, received):
    sent = await invoice(gateway)
    await gateway.answer_pre_checkout(await fake.pay(ANN, sent.id), ok=True)
    (paid,) = [m for m in received.of(Message) if m.payment is not None]
    charge_id = paid.payment.telegram_payment_charge_id
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.refund_stars(BOB, charge_id)
    assert isinstance(raised.value.original, ChargeNotFound)
    await gateway.refund_stars(ANN, charge_id)
    assert fake.charges[charge_id].refunded
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.refund_stars(ANN, charge_id)
    assert isinstance(raised.value.original, ChargeAlreadyRefunded)
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.refund_stars(ANN, "stxnosuchcharge")
    assert isinstance(raised.value.original, ChargeNotFound)


async def test_a_stars_invoice_has_exactly_one_price(gateway, fake):
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.send_invoice(ANN, title="Two", description="two prices", payload="p",
                                   prices=[("a", 1), ("b", 2)])
    assert isinstance(raised.value.original, StarsInvoiceInvalid)
    assert fake.sent_to(ANN) == []


async def test_an_invoice_can_be_protected_and_silent(gateway, fake):
    sent = await gateway.send_invoice(ANN, title="Premium", description="d", payload="p", prices=[("x", 1)],
                                      protect_content=True, silent=True)
    assert (ANN, sent.id) in fake.protected and (ANN, sent.id) in fake.silent
