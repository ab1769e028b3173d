"""``[plugins.quota] offers``: what cannot be sold fails the config check naming the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from mediabot_quota.config import QuotaConfig
from mediabot_quota.offers import Offer, invoice_payload, parse_payload

from mediabot import ConfigError
from mediabot.core.config import RawConfig, validate_table

PLANS = {"free": 3, "premium": 10}


def check(table: dict) -> QuotaConfig:
    return validate_table(RawConfig(path=Path("plugins.toml"), data={}), {"plans": PLANS, **table}, QuotaConfig,
                          "plugins.quota")


@pytest.mark.parametrize("offers, key, message", [
    ({"free": {"stars": 10, "days": 30}}, "plugins.quota.offers.free", "offer 'free' is not a plan that can be granted"),
    ({"gold": {"stars": 10, "days": 30}}, "plugins.quota.offers.gold", "offer 'gold' is not a plan that can be granted"),
])
def test_an_offer_of_the_default_or_an_unknown_plan_fails_the_check(offers, key, message) -> None:
    with pytest.raises(ConfigError) as caught:
        check({"offers": offers})
    assert caught.value.key == key and str(caught.value).find(message) >= 0, str(caught.value)


@pytest.mark.parametrize("offer", [{"stars": 0, "days": 30}, {"stars": 10, "days": 0}, {"stars": 10},
                                   {"stars": 10, "days": 30, "price": 3}])
def test_an_offer_needs_whole_stars_and_days(offer) -> None:
    with pytest.raises(ConfigError) as caught:
        check({"offers": {"premium": offer}})
    assert caught.value.key.startswith("plugins.quota.offers"), caught.value.key


def test_an_invoice_payload_names_its_offer_and_nothing_else_parses_as_one() -> None:
    payload = invoice_payload("premium", Offer(stars=100, days=30))
    assert payload == "q1:premium:100:30" and parse_payload(payload) is not None
    assert (parse_payload(payload).plan, parse_payload(payload).stars, parse_payload(payload).days) == (
        "premium", 100, 30)
    for other in ("premium", "q1:premium:100", "q1::1:1", "q1:premium:x:30", "q2:premium:100:30", "q1:p:١:30"):
        assert parse_payload(other) is None, other


def test_no_offers_sells_nothing() -> None:
    assert check({}).offers == {}
