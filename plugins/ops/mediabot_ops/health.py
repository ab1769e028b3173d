"""One view of the deployment's health, shared by ``/health``, ``/readyz`` and ``mediabot health``.

The reports come from every plugin's ``mediabot_health`` (``app.health()``);
ops adds its own there for what no plugin owns (Telegram, the kernel's
MongoDB client). This module refreshes Redis first, bounds the whole check
in time, and sorts and judges the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, Literal

import msgspec

from mediabot import App, HealthReport

__all__ = ["Snapshot", "collect", "exit_code", "own_reports", "render_lines"]

Status = Literal["ok", "degraded", "down"]
_RANK: dict[str, int] = {"down": 0, "degraded": 1, "ok": 2}
_ICON = {"down": "🔴", "degraded": "🟡", "ok": "🟢"}
# Components that must be fully ok before the process takes traffic: degraded
# Redis keeps the bot alive (in-process fallbacks) but is not "reachable".
_MUST_BE_OK = ("redis", "telegram")


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The health of one process at one moment, worst component first.

    :param components: one report per component, ``down`` first, then ``degraded``, then ``ok``.
    :param status: the worst status (``ok`` with no components).
    :param not_ready: the components that keep ``/readyz`` at 503.
    """

    components: list[HealthReport]
    status: Status
    not_ready: list[HealthReport]

    @property
    def ready(self) -> bool:
        return not self.not_ready


async def collect(app: App, *, timeout: float) -> Snapshot:
    """Refresh Redis reachability, ask every plugin for its health, sort and judge.

    A check that does not finish within ``timeout`` seconds is itself a
    ``down`` component: a hung plugin must not hang a readiness probe.
    """
    try:
        async with asyncio.timeout(timeout):
            redis_health = getattr(app, "redis_health", None)
            if redis_health is not None:
                # The kernel's probe loop runs every few seconds; a probe asked for
                # answers for this very moment (and updates what the services see).
                await redis_health.probe()
            reports = await app.health()
    except TimeoutError:
        reports = [HealthReport(component="health", status="down",
                                detail=f"health checks did not finish within {timeout:g}s")]
    if app.state != "running":
        reports.append(HealthReport(component="app", status="down", detail=f"the app is {app.state}"))
    return judge(reports)


def judge(reports: Iterable[HealthReport]) -> Snapshot:
    ordered = sorted(reports, key=lambda r: (_RANK.get(r.status, 0), r.component))
    status: Status = ordered[0].status if ordered else "ok"
    not_ready = [r for r in ordered if r.status == "down" or (r.component in _MUST_BE_OK and r.status != "ok")]
    return Snapshot(components=ordered, status=status, not_ready=not_ready)


async def own_reports(app: App, *, timeout: float) -> list[HealthReport]:
    """What ops reports in ``mediabot_health``: Telegram and the kernel's MongoDB client.

    Redis is the kernel's (``kernel.services``) and each plugin reports what it
    owns; Telegram and the default MongoDB client have no other reporter.
    """
    out: list[HealthReport] = []
    gateway = app.gateway
    if gateway is not None:
        me = getattr(gateway, "me", None)
        if me is not None and app.state == "running":
            out.append(HealthReport(component="telegram", status="ok", detail=f"connected as @{me.username}"))
        else:
            out.append(HealthReport(component="telegram", status="down", detail="not connected"))
    if app.mongo is not None:
        out.append(await _ping_mongo(app.mongo, timeout))
    return out


async def _ping_mongo(client: Any, timeout: float) -> HealthReport:
    try:
        async with asyncio.timeout(timeout):
            await client.admin.command("ping")
    except Exception as exc:  # noqa: BLE001 - any failure to answer a ping means down
        reason = "no answer" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        return HealthReport(component="mongo", status="down", detail=_one_line(reason))
    return HealthReport(component="mongo", status="ok")


def render_lines(snapshot: Snapshot, *, icons: bool = True) -> list[str]:
    """One line per component, worst first: ``🔴 mongo: down — no answer``."""
    lines = []
    for r in snapshot.components:
        tail = f" — {r.detail}" if r.detail else ""
        if icons:
            lines.append(f"{_ICON.get(r.status, '?')} {r.component}: {r.status}{tail}")
        else:
            lines.append(f"{r.status:<9} {r.component}{tail}")
    return lines


def exit_code(status: str) -> int:
    """``mediabot health``'s exit code: 0 ok, 1 degraded, 3 down (2 is a configuration error)."""
    return {"ok": 0, "degraded": 1}.get(status, 3)


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
