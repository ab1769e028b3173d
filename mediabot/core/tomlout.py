"""A small TOML writer for ``mediabot config show`` (the stdlib only reads TOML)."""

from __future__ import annotations

import json
import re
from typing import Any

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    return json.dumps(str(v))


def dumps(data: dict[str, Any], prefix: str = "") -> str:
    """Tables become ``[a.b]`` headers; lists of tables become ``[[a.b]]``."""
    lines: list[str] = []
    scalars = {k: v for k, v in data.items() if not _is_table(v) and not _is_table_list(v)}
    for k, v in scalars.items():
        # TOML has no null: show an unset optional as a comment.
        lines.append(f"# {_key(k)} = (unset)" if v is None else f"{_key(k)} = {_value(v)}")
    for k, v in data.items():
        name = f"{prefix}.{_key(k)}" if prefix else _key(k)
        if _is_table(v):
            if not v or not all(_is_table(x) for x in v.values()):
                lines.append(f"\n[{name}]")
                lines.append(dumps(v, name).rstrip("\n"))
            else:  # a table of tables needs no header of its own
                lines.append("\n" + dumps(v, name).rstrip("\n"))
        elif _is_table_list(v):
            for item in v:
                lines.append(f"\n[[{name}]]")
                lines.append(dumps(item, name))
    return "\n".join(line for line in lines if line != "").strip("\n") + "\n"


def _is_table(v: Any) -> bool:
    return isinstance(v, dict)


def _is_table_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)
