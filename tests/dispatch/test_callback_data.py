"""Signed callback data: what a forger, a copier and a slow presser get."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediabot import CallbackDataTooLong
from mediabot.core.callbacks import MAX_DATA_BYTES, CallbackSigner, InvalidCallback

SECRET = b"0123456789abcdef0123456789abcdef"


class Clock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def signer(clock: Clock | None = None, secret: bytes = SECRET, ttl: float = 3600) -> CallbackSigner:
    return CallbackSigner(secret, ttl=ttl, clock=clock or Clock())


def refused(s: CallbackSigner, data: str, user_id: int = 7) -> str:
    with pytest.raises(InvalidCallback) as err:
        s.verify(data, user_id)
    return err.value.reason


def test_a_signed_button_round_trips_its_action_and_arguments():
    s = signer()
    data = s.sign("search.page", ["cats, dogs | 100%", 3], user_id=7)
    assert len(data.encode()) <= MAX_DATA_BYTES
    verified = s.verify(data, 7)
    assert (verified.action, verified.args, verified.bound) == ("search.page", ("cats, dogs | 100%", "3"), True)


def test_tampered_data_is_refused():
    s = signer()
    data = s.sign("page", ["2"], user_id=7)
    assert refused(s, data.replace("|2|", "|9|")) == "forged"
    assert refused(s, data.replace("|page|", "|drop|")) == "forged"


def test_truncated_data_is_refused():
    s = signer()
    data = s.sign("page", ["2"], user_id=7)
    for cut in (1, 5, len(data) // 2, len(data) - 1):
        assert refused(s, data[:cut]) in ("forged", "malformed")


def test_data_replayed_by_another_user_is_refused():
    s = signer()
    data = s.sign("get", ["file42"], user_id=7)
    assert refused(s, data, user_id=8) == "forged"
    assert s.verify(data, 7).args == ("file42",)


def test_an_unbound_button_works_for_anyone():
    s = signer()
    data = s.sign("vote", ["yes"])
    assert s.verify(data, 1).args == s.verify(data, 2).args == ("yes",)


def test_data_signed_with_another_secret_is_refused():
    data = signer(secret=b"another secret, another bot....").sign("page", ["2"], user_id=7)
    assert refused(signer(), data) == "forged"


def test_a_button_older_than_its_ttl_is_expired():
    clock = Clock()
    s = signer(clock, ttl=3600)
    data = s.sign("page", ["2"], user_id=7)
    clock.now += 3500
    assert s.verify(data, 7).args == ("2",)
    clock.now += 200
    assert refused(s, data) == "expired"


def test_an_unknown_version_and_garbage_are_refused():
    s = signer()
    data = s.sign("page", ["2"], user_id=7)
    assert refused(s, "v2" + data[2:]) == "version"
    for junk in ("", "hello", "|||||", "v1|page||u|x", "v1|page||zzz|" + data[-12:]):
        assert refused(s, junk) in ("malformed", "forged")


def test_data_over_64_bytes_is_refused_when_the_button_is_made():
    s = signer()
    with pytest.raises(CallbackDataTooLong, match="64"):
        s.sign("search.page", ["a very long query that will not fit in a button"], user_id=7)
    # Multi-byte characters count in bytes, as Telegram counts them.
    with pytest.raises(CallbackDataTooLong):
        s.sign("q", ["ж" * 20], user_id=7)


def test_the_format_leaves_room_for_an_action_and_arguments():
    data = signer().sign("a", [], user_id=123456789)
    assert len(data.encode()) == 25  # 24 bytes of framing: 40 of the 64 are left for action and arguments


@given(st.lists(st.text(max_size=8), max_size=4), st.integers(min_value=1, max_value=2**40))
def test_any_arguments_that_fit_round_trip(args, user_id):
    s = signer()
    try:
        data = s.sign("act", args, user_id=user_id)
    except CallbackDataTooLong:
        return
    # A lone empty argument is indistinguishable from none (documented).
    expected = tuple(args) if args != [""] else ()
    assert s.verify(data, user_id).args == expected


@settings(max_examples=2000, deadline=None)
@given(data=st.one_of(st.text(), st.binary().map(lambda b: b.decode("utf-8", "replace")),
                      st.builds(lambda a, s: f"v1|{a}|x|a0|{s}", st.text(max_size=8), st.text(max_size=16))))
def test_any_data_is_refused_as_invalid_never_raised(data):
    signer = CallbackSigner(b"k" * 32)
    try:
        signer.verify(data, 1)
    except InvalidCallback:
        pass


@settings(max_examples=1000, deadline=None)
@given(payload=st.text(max_size=80))
def test_any_start_payload_is_refused_as_invalid_never_raised(payload):
    signer = CallbackSigner(b"k" * 32)
    try:
        signer.verify_link(payload)
    except InvalidCallback:
        pass
