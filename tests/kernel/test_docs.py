"""The configuration reference is generated from the schemas and must be current."""

from __future__ import annotations

from pathlib import Path

import msgspec

from mediabot.core import docgen
from mediabot.core.config import KERNEL_SECTIONS, struct_field_docs
from mediabot.core.discovery import discover

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_reference_is_current():
    committed = (ROOT / "docs" / "configuration.md").read_text()
    assert committed == docgen.generate(), (
        "docs/configuration.md is stale: run "
        "`uv run python -m mediabot.core.docgen > docs/configuration.md`")


def _schemas():
    yield from KERNEL_SECTIONS.values()
    for cand in discover().values():
        if cand.builtin:
            yield cand.load()[1].config


def _all_structs(schema, seen=None):
    seen = seen if seen is not None else set()
    if schema in seen:
        return
    seen.add(schema)
    yield schema
    for f in msgspec.inspect.type_info(schema).fields:
        t = f.type
        if isinstance(t, msgspec.inspect.ListType):
            t = t.item_type
        if isinstance(t, msgspec.inspect.StructType):
            yield from _all_structs(t.cls, seen)


def test_every_config_key_is_documented():
    for schema in _schemas():
        for struct in _all_structs(schema):
            docs = struct_field_docs(struct)
            for f in msgspec.inspect.type_info(struct).fields:
                assert docs.get(f.name), f"{struct.__name__}.{f.name} has no ':param {f.name}:' line"


def test_plugin_guide_shows_the_example_plugin_verbatim():
    guide = (ROOT / "docs" / "plugins.md").read_text()
    for rel in ("examples/hello/pyproject.toml", "examples/hello/mediabot_hello/__init__.py",
                "examples/hello/tests/test_hello.py"):
        body = (ROOT / rel).read_text().rstrip()
        assert f"`{rel}`" in guide, f"docs/plugins.md does not name {rel}"
        assert body in guide, f"docs/plugins.md shows an outdated copy of {rel}"


def test_plugin_guide_hook_reference_is_current():
    guide = (ROOT / "docs" / "plugins.md").read_text()
    assert docgen.splice_hooks(guide) == guide, (
        "the hook reference in docs/plugins.md is stale: run "
        "`uv run python -m mediabot.core.docgen --hooks`")
