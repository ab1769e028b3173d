"""``mediabot db status``: the databases as seen from the operator's machine, now."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Mapping

import click

from mediabot import ConfigError
from mediabot_dbrouter.build import build_router
from mediabot_dbrouter.config import DbRouterConfig
from mediabot_dbrouter.homes import MoveReport, move_home
from mediabot_dbrouter.member import Member, MemberUnavailable
from mediabot_dbrouter.router import DatabaseRouter
from mediabot_dbrouter.status import format_status
from mediabot_dbrouter.views import format_views, read_views, running

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
    router.evaluate()
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

    @db.command("move-home")
    @click.argument("name")
    @click.option("--force", is_flag=True, help="Copy even while a deployment reports (it may write meanwhile).")
    def move_home_command(name: str, force: bool) -> None:
        """Move users, bans, the file registry and the pin from the home database to NAME.

        Stop every deployment first. The copy can be run again if it is
        interrupted. plugins.toml must name NAME as the home (home = NAME, or
        role = "home" on it) before the deployments start again: a bot refuses
        to start while the file and the data disagree.
        """

        async def run() -> MoveReport:
            logging.getLogger("mediabot.plugin.dbrouter").setLevel(logging.ERROR)
            router = build_router(config, env)

            async def fresh(source: Member) -> list[str]:
                return running(await read_views(router, source), now=time.time())

            try:
                return await move_home(router, name, force=force, fresh_views=fresh, echo=click.echo)
            finally:
                await router.close()

        try:
            report = asyncio.run(run())
        except ConfigError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except MemberUnavailable as exc:
            click.echo(f"error: {exc}. Run it again once `mediabot db status` shows {exc.member} answering "
                       f"(the home stays where it is until a copy completes).", err=True)
            sys.exit(1)
        if report.source != report.target:
            click.echo(f"Moved the home from {report.source} to {report.target}. Make sure plugins.toml says so "
                       f'(home = "{report.target}", or role = "home" on it if it holds no files), then start '
                       f"the deployments.")

    return db
