"""The gateway's methods for payments in Telegram Stars: invoices, pre-checkout answers, refunds.

A mixin of :class:`~mediabot.core.telegram.gateway.Gateway`. The flow:
``send_invoice`` (currency ``XTR``, one price), the user pays and the bot
receives a :class:`~mediabot.PreCheckoutQuery`, ``answer_pre_checkout``
within 10 seconds, then a :class:`~mediabot.Message` whose ``payment``
holds the charge id ``refund_stars`` takes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pyrogram import types as pt

from mediabot.core.telegram.convert import keyboard_to_pyrogram
from mediabot.core.types import Keyboard, Message

if TYPE_CHECKING:
    from mediabot.core.telegram.pacing import Priority

__all__ = ["StarsPayments"]

T = TypeVar("T")


class StarsPayments:
    """Invoices, pre-checkout answers and refunds, for :class:`~mediabot.core.telegram.gateway.Gateway`."""

    if TYPE_CHECKING:
        client: Any

        async def _call(self, domain: str, method: str, fn: Callable[[], Awaitable[T]], *,
                        chat_id: int | None = None, priority: Priority = "reply", weight: int = 1) -> T: ...

        @staticmethod
        def _message(result: Any, method: str) -> Message: ...

    async def send_invoice(self, chat_id: int, *, title: str, description: str, payload: str,
                           prices: Sequence[tuple[str, int]], currency: str = "XTR",
                           keyboard: Keyboard | None = None, protect_content: bool = False,
                           silent: bool = False, priority: Priority = "reply") -> Message:
        """Send an invoice; in Telegram Stars (``XTR``, the default) no payment provider is needed.

        :param payload: handed back in the :class:`~mediabot.PreCheckoutQuery`
            and the :class:`~mediabot.Payment` (1-128 bytes; the user never sees it).
        :param prices: ``(label, amount)`` pairs; Stars take exactly one, in whole Stars.
        :param keyboard: its first button must be the pay button (Telegram's rule); default: Telegram's own.
        """
        labeled = [pt.LabeledPrice(label=label, amount=amount) for label, amount in prices]
        markup = keyboard_to_pyrogram(keyboard)
        result = await self._call("send", "send_invoice", lambda: self.client.send_invoice(
            chat_id=chat_id, title=title, description=description, payload=payload, currency=currency,
            prices=labeled, protect_content=protect_content or None, reply_markup=markup,
            disable_notification=silent or None), chat_id=chat_id, priority=priority)
        return self._message(result, "send_invoice")

    async def answer_pre_checkout(self, query_id: str, *, ok: bool = True, error: str | None = None) -> None:
        """Accept a :class:`~mediabot.PreCheckoutQuery` (``ok=True``) or refuse it with ``error``, which the user sees.

        Telegram waits 10 seconds for the answer; after an ok, the payment
        arrives as a :class:`~mediabot.Message` with a :class:`~mediabot.Payment`.
        """
        if not ok and not error:
            raise ValueError("answer_pre_checkout(ok=False) needs the error the user is shown")
        await self._call("edit", "answer_pre_checkout_query", lambda: self.client.answer_pre_checkout_query(
            pre_checkout_query_id=query_id, ok=ok, error_message=None if ok else error))

    async def refund_stars(self, user_id: int, charge_id: str) -> None:
        """Give a Telegram Stars payment back: ``charge_id`` is the :attr:`~mediabot.Payment.telegram_payment_charge_id`.

        :raises mediabot.PermanentTelegramError: ``bad_request`` for an unknown
            charge or one already refunded (``original`` says which).
        """
        await self._call("edit", "refund_star_payment", lambda: self.client.refund_star_payment(
            user_id=user_id, telegram_payment_charge_id=charge_id))
