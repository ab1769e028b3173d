"""``mediabot db status``: the databases as seen from the operator's machine, now."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Mapping

import click

from mediabot_dbrouter.build import build_router
from mediabot_dbrouter.config import DbRouterConfig
from mediabot_dbrouter.member import Member, MemberUnavailable
from mediabot_dbrouter.router import DatabaseRouter
from mediabot_dbrouter.status import format_status
from mediabot_dbrouter.views import format_views, read_views

__all__ = ["db_group", "probe"]


async def probe(router: DatabaseRouter) -> bool:
    """Ping and measure every database once (no index creation, no writes); True if all answered."""

    async def one(m: Member) -> bool:
        try:
            await m.run(lambda: m.db.command("ping"))
        except MemberUnavailable:
            m.breaker.trip()  # one probe is the whole story here: show it as unavailable
            return False
        m.prepared = True  # reachable; a running bot creates the indexes, not this command
        await router.refresh_capacity(m)
        return True

    results = await asyncio.gather(*(one(m) for m in router.members))
    await router.pins.sync()  # an admin's /dbswitch pin, shared through the home database
    router.active()
    return all(results)


def db_group(config: DbRouterConfig, env: Mapping[str, str]) -> click.Group:
    @click.group("db")
    def db() -> None:
        """The catalogue's databases (dbrouter)."""

    @db.command("status")
    def status() -> None:
        """Per database: reachable, size against quota, documents, latency, which one would take writes.

        Then what each running deployment reported: its breakers and where it writes.
        Exit code 0 when every database answers, 1 otherwise.
        """

        async def run() -> tuple[str, bool]:
            # The table says it all; the router's own notices would repeat it on stderr.
            logging.getLogger("mediabot.plugin.dbrouter").setLevel(logging.CRITICAL)
            router = build_router(config, env)
            try:
                ok = await probe(router)
                text = format_status(router.status(), title="Databases (probed from this machine now)", live=False)
                views = await read_views(router) if router.home.readable else []
                return f"{text}\n\n{format_views(views, now=time.time())}", ok
            finally:
                await router.close()

        text, ok = asyncio.run(run())
        click.echo(text)
        if not ok:
            sys.exit(1)

    return db
