"""Every hook is documented the way plugin authors need it."""

from __future__ import annotations

import inspect

import mediabot
from mediabot import hookspecs


def all_hooks():
    return [getattr(hookspecs, n) for n in hookspecs.__all__]


def test_every_hook_is_listed_and_documented():
    defined = {n for n, f in vars(hookspecs).items() if n.startswith("mediabot_") and callable(f)}
    assert defined == set(hookspecs.__all__)
    for hook in all_hooks():
        doc = inspect.getdoc(hook) or ""
        assert len(doc.splitlines()[0]) > 10, hook.__name__
        for param in inspect.signature(hook).parameters:
            assert f":param {param}:" in doc, f"{hook.__name__} does not document {param}"
        assert "Called" in doc, f"{hook.__name__} does not say when it is called"


def test_public_api_is_small_and_importable():
    for name in mediabot.__all__:
        assert getattr(mediabot, name) is not None
    assert "core" not in mediabot.__all__
