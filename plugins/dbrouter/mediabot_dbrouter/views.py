"""Each running deployment's view of the databases, for ``mediabot db status``.

A running router knows what a one-off probe from the operator's shell
cannot: its breakers (open, half-open, how many failures), where it writes
and whether that is pinned. Every ``interval`` seconds (on its monitor pass)
it stores that view in the home database (``dbrouter_state``, ``_id:
"view:<deployment>"``); ``mediabot db status`` prints the views under its own
probe, marking stale ones. A router that stops deletes its view; views
older than a day (a process that was killed) are deleted by the others.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec

from mediabot_dbrouter.member import Member, MemberUnavailable
from mediabot_dbrouter.naming import STATE_COLLECTION
from mediabot_dbrouter.status import MemberStatus

if TYPE_CHECKING:
    from mediabot_dbrouter.router import DatabaseRouter

__all__ = ["DeploymentView", "ViewPublisher", "deployment_name", "format_views", "read_views", "running"]

log = logging.getLogger("mediabot.plugin.dbrouter")
PREFIX = "view:"
KIND = "view"
FORGET_AFTER = 86400.0


def deployment_name(bot_name: str) -> str:
    """``<bot name>@<host>:<pid>``: tells two processes of one bot apart."""
    return f"{bot_name}@{socket.gethostname()}:{os.getpid()}"


class DeploymentView(msgspec.Struct, kw_only=True):
    """What one running deployment saw at ``at`` (Unix time).

    :param deployment: see :func:`deployment_name`.
    :param at: when it was stored.
    :param interval: how often it is stored (a view older than three of them is stale).
    :param databases: per database, as in ``/dbstatus``.
    """

    deployment: str
    at: float
    interval: float
    databases: list[MemberStatus]


class ViewPublisher:
    """Stores a router's view in its home database, at most every ``interval`` seconds.

    :param router: the router whose view it stores.
    :param deployment: the name shown for it.
    :param interval: seconds between two stores.
    :param clock: wall clock (views are compared across machines).
    """

    def __init__(self, router: DatabaseRouter, deployment: str, *, interval: float = 10.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.router = router
        self.deployment = deployment
        self.interval = interval
        self.clock = clock
        self._last: float | None = None

    async def publish_if_due(self) -> None:
        now = self.clock()
        if self._last is not None and now - self._last < self.interval:
            return
        home = self.router.home
        if not home.readable:
            return
        view = DeploymentView(deployment=self.deployment, at=now, interval=self.interval,
                              databases=self.router.status())
        state = home.db[STATE_COLLECTION]
        doc = {**msgspec.to_builtins(view), "kind": KIND}
        try:
            await home.run(lambda: state.replace_one({"_id": PREFIX + self.deployment}, doc, upsert=True))
            await home.run(lambda: state.delete_many({"kind": KIND, "at": {"$lt": now - FORGET_AFTER}}))
        except MemberUnavailable:
            return
        self._last = now

    async def withdraw(self) -> None:
        """Delete this deployment's view (it is stopping)."""
        home = self.router.home
        try:
            await home.run(lambda: home.db[STATE_COLLECTION].delete_one({"_id": PREFIX + self.deployment}))
        except MemberUnavailable as exc:
            log.info("could not withdraw this deployment's database view: %s", exc)


async def read_views(router: DatabaseRouter, home: Member | None = None) -> list[DeploymentView]:
    """The views stored in ``router``'s home database (or ``home``), newest first (empty if it does not answer)."""
    home = home or router.home
    try:
        docs = await home.run(lambda: home.db[STATE_COLLECTION].find({"kind": KIND}).to_list(None))
    except MemberUnavailable:
        return []
    views = []
    for doc in docs:
        try:
            views.append(msgspec.convert({k: v for k, v in doc.items() if k not in ("_id", "kind")}, DeploymentView,
                                         strict=False))
        except msgspec.ValidationError as exc:  # written by another release: skip, do not fail the command
            log.info("unreadable database view %s: %s", doc.get("_id"), exc)
    return sorted(views, key=lambda v: -v.at)


def running(views: list[DeploymentView], *, now: float) -> list[str]:
    """Deployments whose last view is not stale."""
    return [v.deployment for v in views if now - v.at <= 3 * v.interval]


def format_views(views: list[DeploymentView], *, now: float) -> str:
    """One line per deployment: how old, where it writes, each database's breaker."""
    if not views:
        return "Running deployments: none has reported (no bot with dbrouter running, or the home did not answer)"
    lines = ["Running deployments (their own breakers, as last reported):"]
    for v in views:
        age = max(0.0, now - v.at)
        stale = "" if v.deployment in running([v], now=now) else " STALE"
        writer = next((s for s in v.databases if s.takes_writes), None)
        writes = "NONE" if writer is None else writer.name + (" (pinned)" if writer.pinned else "")
        states = " · ".join(f"{s.name} {_short(s)}" for s in v.databases)
        lines.append(f"- {v.deployment}, {age:.0f}s ago{stale}: writes → {writes}; {states}")
    return "\n".join(lines)


def _short(s: MemberStatus) -> str:
    if s.state == "open":
        return f"OPEN ({s.failures} failures)"
    if s.state == "half_open":
        return "HALF-OPEN"
    return "closed"
