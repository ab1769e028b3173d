"""``/stats``: users, catalogue, uptime, updates and errors, and what other plugins add."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

from prometheus_client import CollectorRegistry

from mediabot import App

__all__ = ["format_duration", "gather_stats", "totals"]

log = logging.getLogger("mediabot.plugin.ops")
T = TypeVar("T")


def totals(registry: CollectorRegistry, sample: str, label: str | None = None) -> dict[str, float]:
    """Sum of the ``sample`` values (as exposed, e.g. ``x_total``) by one label (``""`` when ``None``)."""
    out: dict[str, float] = {}
    for family in registry.collect():
        for s in family.samples:
            if s.name == sample:
                key = s.labels.get(label, "") if label else ""
                out[key] = out.get(key, 0.0) + s.value
    return out


def format_duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"


async def gather_stats(app: App, *, uptime: float | None, timeout: float) -> str:
    """The ``/stats`` text. Each database question is bounded by ``timeout``; ``uptime=None`` leaves it out."""
    lines = [] if uptime is None else [f"Uptime: {format_duration(uptime)}"]
    users = getattr(app, "users", None)
    if users is not None:
        counts = await _bounded(users.counts(), timeout)
        if isinstance(counts, dict):
            lines.append(f"Users: {counts['total']:,} (active {counts['active']:,} · blocked {counts['blocked']:,}"
                         f" · deactivated {counts['deactivated']:,} · banned {counts['banned']:,});"
                         f" seen in 24 h: {counts['recent']:,}")
        else:
            lines.append(f"Users: unavailable ({counts})")
    files = getattr(app, "files", None)
    if files is not None:
        size = await _bounded(files.count(), timeout)
        lines.append(f"Catalogue: {size:,} files" if isinstance(size, int) else f"Catalogue: unavailable ({size})")
    registry = app.metrics.registry
    updates = totals(registry, "mediabot_updates_total", "kind")
    detail = ", ".join(f"{k} {int(v):,}" for k, v in sorted(updates.items()) if v)
    lines.append(f"Updates handled: {int(sum(updates.values())):,}" + (f" ({detail})" if detail else ""))
    errors = {k: v for k, v in totals(registry, "mediabot_plugin_errors_total", "plugin").items() if v}
    if errors:
        worst = sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))
        lines.append("Errors by plugin: " + ", ".join(f"{p} {int(n):,}" for p, n in worst))
    else:
        lines.append("Errors by plugin: none")
    if app.hooks.published("ops_stats"):
        contributed = await _bounded(app.hooks.collect("ops_stats", app=app), timeout)
        if isinstance(contributed, str):
            lines.append(f"(plugins' own lines: {contributed})")
        else:
            for _plugin, extra in sorted(contributed, key=lambda pr: pr[0]):
                lines.extend(str(line) for line in extra or ())
    return "\n".join(lines)


async def _bounded(aw: Awaitable[T], timeout: float) -> T | str:
    """The result, or a short reason it could not be had in time."""
    try:
        async with asyncio.timeout(timeout):
            return await aw
    except TimeoutError:
        return f"no answer within {timeout:g}s"
    except Exception as exc:  # noqa: BLE001 - /stats shows what it can
        log.warning("/stats: %s: %s", type(exc).__name__, exc)
        return type(exc).__name__
