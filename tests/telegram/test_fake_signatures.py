"""The fake Telegram can stand in for the real ``pyrogram.Client``: same methods, same parameters.

If Kurigram renames or removes a parameter the gateway relies on, these fail
before production does.
"""

from __future__ import annotations

import inspect

import pyrogram
import pytest

from mediabot.testing import FakeTelegram

CLIENT_METHODS = FakeTelegram.CLIENT_METHODS


def _real(name: str):
    # pyrogram wraps its async methods for sync use; the original is __wrapped__.
    return inspect.unwrap(getattr(pyrogram.Client, name))


def _params(fn) -> dict[str, inspect.Parameter]:
    return {n: p for n, p in inspect.signature(fn).parameters.items() if n != "self"}


@pytest.mark.parametrize("name", CLIENT_METHODS)
def test_the_fake_method_exists_on_the_real_client(name):
    assert hasattr(pyrogram.Client, name), f"pyrogram.Client has no {name}()"


@pytest.mark.parametrize("name", CLIENT_METHODS)
def test_fake_parameters_are_a_subset_of_the_real_ones(name):
    real, fake = _params(_real(name)), _params(getattr(FakeTelegram, name))
    extra = set(fake) - set(real)
    assert not extra, f"{name}: the fake takes {sorted(extra)}, which pyrogram.Client.{name} does not"
    for pname, p in fake.items():
        assert p.kind == real[pname].kind, f"{name}({pname}): {p.kind} in the fake, {real[pname].kind} for real"


@pytest.mark.parametrize("name", CLIENT_METHODS)
def test_required_parameters_match(name):
    def required(params):
        return [n for n, p in params.items() if p.default is inspect.Parameter.empty
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    real, fake = _params(_real(name)), _params(getattr(FakeTelegram, name))
    assert required(fake) == required(real)
    # Positional order matters to callers that pass positionally.
    positional = [n for n, p in fake.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    real_positional = [n for n, p in real.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == [n for n in real_positional if n in positional]


@pytest.mark.parametrize("name", CLIENT_METHODS)
def test_async_where_the_real_one_is_async(name):
    assert inspect.iscoroutinefunction(getattr(FakeTelegram, name)) == \
        inspect.iscoroutinefunction(_real(name))


def test_no_other_fake_method_shadows_a_client_method():
    # Test helpers (user_message, block, inject...) must not look like Client
    # methods with different meanings.
    # The fake's own class and its mixins (members, payments).
    public = {n for cls in FakeTelegram.__mro__[:-1] for n in vars(cls)
              if not n.startswith("_") and callable(getattr(FakeTelegram, n))}
    shadowing = {n for n in public - set(CLIENT_METHODS) if hasattr(pyrogram.Client, n)}
    assert not shadowing


def test_every_client_method_the_gateway_calls_is_faked():
    import ast

    from mediabot.core.telegram import chat_admin, gateway, stars

    # The gateway and its mixins (groups and channels, Stars payments).
    trees = [ast.parse(inspect.getsource(module)) for module in (gateway, chat_admin, stars)]
    called = {node.attr for tree in trees for node in ast.walk(tree)
              if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
              and node.value.attr == "client"}
    assert called, "found no self.client.<method> calls: has the gateway changed shape?"
    assert called <= set(CLIENT_METHODS), f"not faked: {sorted(called - set(CLIENT_METHODS))}"
