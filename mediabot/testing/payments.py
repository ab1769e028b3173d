"""The fake Telegram's payments in Telegram Stars: invoices, pre-checkout queries, charges, refunds.

A mixin of :class:`~mediabot.testing.FakeTelegram`. The flow is Telegram's:

1. the bot sends an invoice (``send_invoice``; Stars: currency ``XTR``, one price);
2. a test has the user pay it: ``await fake.pay(user_id, message_id)`` sends
   the bot a ``PreCheckoutQuery`` and returns its id;
3. the bot answers it (``answer_pre_checkout_query``); after an ok, Telegram
   charges the user and the bot receives the successful-payment service
   message (``fake.charges`` keeps the charge); after an error, nothing is paid;
4. the bot may refund a charge once (``refund_star_payment``).

Refusals are the real ``pyrogram.errors``: ``StarsInvoiceInvalid`` (not one
price), ``InvoicePayloadInvalid`` (payload not 1-128 bytes),
``PaymentProviderInvalid`` (another currency without a provider),
``QueryIdInvalid`` (a query answered twice or unknown), ``ChargeNotFound``
(not this user's charge), ``ChargeAlreadyRefunded``.
"""

from __future__ import annotations

import itertools
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyrogram import enums
from pyrogram import types as pt
from pyrogram.errors import (
    ChargeAlreadyRefunded,
    ChargeNotFound,
    InvoicePayloadInvalid,
    PaymentProviderInvalid,
    QueryIdInvalid,
    StarsInvoiceInvalid,
)
from pyrogram.handlers import MessageHandler, PreCheckoutQueryHandler

from mediabot.testing.chats import now_ts

if TYPE_CHECKING:
    from mediabot.testing.chats import ChatStore
    from mediabot.testing.limits import TelegramLimits
    from mediabot.testing.records import Call
    from mediabot.testing.tl import TLWorld

__all__ = ["FakeCharge", "PaymentsSide", "PreCheckoutAnswer"]


@dataclass
class _Invoice:
    chat_id: int
    message_id: int
    payload: bytes
    currency: str
    total_amount: int


@dataclass
class _Checkout:
    user_id: int
    invoice: _Invoice


@dataclass(frozen=True)
class PreCheckoutAnswer:
    """How the bot answered a pre-checkout query."""

    ok: bool
    error: str | None


@dataclass
class FakeCharge:
    """A payment Telegram took from a user for the bot (``fake.charges[charge_id]``)."""

    user_id: int
    currency: str
    total_amount: int
    payload: str
    refunded: bool = False


class PaymentsSide:
    """Invoices, pre-checkout queries, charges and refunds of :class:`~mediabot.testing.FakeTelegram`."""

    if TYPE_CHECKING:
        world: TLWorld
        chats: ChatStore
        limits: TelegramLimits | None

        def _call(self, method: str, **params: Any) -> AbstractAsyncContextManager[Call]: ...

        async def _dispatch(self, handler_type: type, update: Any) -> None: ...

        async def _markup(self, markup: Any) -> Any: ...

        def _take_send(self, chat_id: int) -> None: ...

        def _note_silent(self, chat_id: int, message_id: int, disable_notification: bool | None,
                         protect_content: bool | None = None) -> None: ...

    def _init_payments(self) -> None:
        self._invoices: dict[tuple[int, int], _Invoice] = {}
        self._checkouts: dict[str, _Checkout] = {}
        #: query id -> the bot's answer to that pre-checkout query
        self.pre_checkout_answers: dict[str, PreCheckoutAnswer] = {}
        #: telegram_payment_charge_id -> the payment
        self.charges: dict[str, FakeCharge] = {}
        self._charge_ids = itertools.count(1)

    # == test controls ================================================================
    async def pay(self, user_id: int, message_id: int, *, chat_id: int | None = None) -> str:
        """``user_id`` pays the invoice ``message_id`` the bot sent (in their private chat by default).

        The bot receives a ``PreCheckoutQuery``; its id is returned. The charge
        and the successful-payment message follow when the bot answers ok.
        """
        invoice = self._invoices.get((user_id if chat_id is None else chat_id, message_id))
        if invoice is None:
            raise ValueError(f"message {message_id} is no invoice the bot sent there")
        self.world.user(user_id)
        query = await self.world.pre_checkout(user_id, payload=invoice.payload, currency=invoice.currency,
                                              total_amount=invoice.total_amount)
        self._checkouts[str(query.id)] = _Checkout(user_id, invoice)
        await self._dispatch(PreCheckoutQueryHandler, query)
        return str(query.id)

    # == pyrogram.Client ==============================================================
    async def send_invoice(self, chat_id: int | str, title: str, description: str, payload: str | bytes,
                           currency: str, prices: list[pt.LabeledPrice], provider_token: str | None = None,
                           disable_notification: bool | None = None, protect_content: bool | None = None,
                           reply_parameters: pt.ReplyParameters | None = None,
                           reply_markup: Any = None) -> pt.Message | None:
        async with self._call("send_invoice", chat_id=chat_id, title=title, description=description,
                              payload=payload, currency=currency, prices=prices, provider_token=provider_token,
                              protect_content=protect_content, reply_markup=reply_markup,
                              disable_notification=disable_notification) as call:
            target = self.chats.writable(chat_id)
            data = payload.encode() if isinstance(payload, str) else payload
            if not 1 <= len(data) <= 128:
                raise InvoicePayloadInvalid()
            if currency != "XTR" and not provider_token:
                raise PaymentProviderInvalid()
            if currency == "XTR" and (len(prices) != 1 or prices[0].amount <= 0):
                raise StarsInvoiceInvalid()
            total = sum(p.amount for p in prices)
            self._take_send(target)
            media = self.world.invoice_media(title=title, description=description, currency=currency,
                                             total_amount=total)
            stored = await self.chats.add(target, from_id=self.world.bot_id, out=True, text="", media=media,
                                          markup=await self._markup(reply_markup),
                                          reply_to=reply_parameters.message_id if reply_parameters else None)
            self._note_silent(target, stored.parsed.id, disable_notification, protect_content)
            self._invoices[(target, stored.parsed.id)] = _Invoice(target, stored.parsed.id, data, currency, total)
            call.result = stored.parsed
        return call.result

    async def answer_pre_checkout_query(self, pre_checkout_query_id: str, ok: bool | None = None,
                                        error_message: str | None = None) -> bool:
        async with self._call("answer_pre_checkout_query", pre_checkout_query_id=pre_checkout_query_id, ok=ok,
                              error_message=error_message) as call:
            checkout = self._checkouts.pop(pre_checkout_query_id, None)
            if checkout is None:
                raise QueryIdInvalid()
            self.pre_checkout_answers[pre_checkout_query_id] = PreCheckoutAnswer(bool(ok), error_message)
            call.result = True
        if ok:
            await self._charge(checkout)
        return True

    async def refund_star_payment(self, user_id: int | str, telegram_payment_charge_id: str) -> bool:
        async with self._call("refund_star_payment", user_id=user_id,
                              telegram_payment_charge_id=telegram_payment_charge_id) as call:
            charge = self.charges.get(telegram_payment_charge_id)
            if charge is None or charge.user_id != int(user_id):
                raise ChargeNotFound()
            if charge.refunded:
                raise ChargeAlreadyRefunded()
            charge.refunded = True
            call.result = True
        return True

    # == internals ====================================================================
    async def _charge(self, checkout: _Checkout) -> None:
        """Telegram takes the payment and tells the bot with a service message in the user's chat."""
        invoice = checkout.invoice
        charge_id = f"stxfake{next(self._charge_ids):08d}"
        payload = invoice.payload.decode("utf-8", "replace")
        self.charges[charge_id] = FakeCharge(checkout.user_id, invoice.currency, invoice.total_amount, payload)
        chat_id = checkout.user_id if invoice.chat_id > 0 else invoice.chat_id
        self.chats.ensure(chat_id)
        stored = await self.chats.add_raw(chat_id, lambda message_id: self.world.payment_message(
            chat_id, message_id, from_id=checkout.user_id, currency=invoice.currency,
            total_amount=invoice.total_amount, payload=invoice.payload, charge_id=charge_id, date=now_ts()),
            out=False)
        assert stored.parsed.service == enums.MessageServiceType.SUCCESSFUL_PAYMENT
        await self._dispatch(MessageHandler, stored.parsed)
