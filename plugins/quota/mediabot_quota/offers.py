"""Offers: the plans a user can buy, their price in Telegram Stars and their length in days.

An invoice carries its offer as it was when the invoice was sent, in its
payload (``q1:<plan>:<stars>:<days>``): Telegram hands the payload back in the
pre-checkout query and the payment, so an invoice sent before the owner
changed a price (or withdrew the offer) is recognised and refused at
pre-checkout instead of granting what is no longer sold. Only Telegram can
deliver a payload, and only one of an invoice the bot sent.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ["PAYLOAD_PREFIX", "Offer", "OfferTerms", "invoice_payload", "parse_payload"]

PAYLOAD_PREFIX = "q1"


class Offer(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """One plan on sale: ``premium = { stars = 100, days = 30 }``.

    :param stars: the price in Telegram Stars (whole Stars).
    :param days: how long the plan lasts from the purchase (days of 24 h); buying it again adds as many.
    """

    stars: Annotated[int, msgspec.Meta(ge=1, le=100_000)]
    days: Annotated[int, msgspec.Meta(ge=1, le=3650)]


class OfferTerms(msgspec.Struct, frozen=True):
    """What an invoice said: the plan, its price and its days at the time it was sent."""

    plan: str
    stars: int
    days: int


def invoice_payload(plan: str, offer: Offer) -> str:
    """The payload of an invoice for ``offer`` of ``plan`` (at most 128 bytes, Telegram's limit)."""
    return f"{PAYLOAD_PREFIX}:{plan}:{offer.stars}:{offer.days}"


def parse_payload(payload: str) -> OfferTerms | None:
    """The offer an invoice of this plugin carried; ``None`` for a payload that is not one (another plugin's)."""
    parts = payload.split(":")
    if len(parts) != 4 or parts[0] != PAYLOAD_PREFIX or not parts[1]:
        return None
    stars, days = parts[2], parts[3]
    if not (stars.isascii() and stars.isdigit() and days.isascii() and days.isdigit()):
        return None
    return OfferTerms(parts[1], int(stars), int(days))
