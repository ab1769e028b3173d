"""``mediabot health`` and ``mediabot ops ...``: the deployment from the command line, without Telegram.

It opens what the configured deployment uses (Redis, MongoDB, the database
provider, the catalogue) with :func:`mediabot.open_app`, asks every
plugin's ``mediabot_health`` and ops' own probes, prints one line per
component, worst first, and exits 0 (ok), 1 (degraded) or 3 (down); 2 stays
"configuration error", as for every ``mediabot`` command. No plugin's
startup hook runs, so no loop starts and nothing is sent.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import click
import msgspec

from mediabot import HealthReport, PluginStartupError, open_app
from mediabot_ops.health import Snapshot, collect, exit_code, judge, render_lines

__all__ = ["health_command", "ops_group"]


def health_command(config: Any, default_timeout: float) -> click.Command:
    @click.command("health")
    @click.option("--timeout", type=float, default=default_timeout, show_default=True,
                  help="Seconds the checks may take before what has not answered counts as down.")
    @click.option("--json", "as_json", is_flag=True, help="Print the components as JSON.")
    def health(timeout: float, as_json: bool) -> None:
        """Probe Redis, MongoDB and every plugin's health; exit 0 ok, 1 degraded, 3 down."""
        snapshot = asyncio.run(_probe(config, timeout))
        if as_json:
            click.echo(msgspec.json.encode({"status": snapshot.status, "components": snapshot.components}).decode())
        else:
            for line in render_lines(snapshot, icons=False):
                click.echo(line)
            click.echo(f"overall: {snapshot.status}")
        sys.exit(exit_code(snapshot.status))

    return health


class _OneLine(logging.Formatter):
    """Warnings on stderr as one line each: the command's own output already says what is down."""

    def formatException(self, ei: Any) -> str:
        return ""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = ""
        return super().format(record).rstrip()


async def _probe(config: Any, timeout: float) -> Snapshot:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(_OneLine("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("mediabot")
    logger.addHandler(handler)
    try:
        return await _open_and_collect(config, timeout)
    finally:
        logger.removeHandler(handler)


async def _open_and_collect(config: Any, timeout: float) -> Snapshot:
    try:
        async with open_app(config) as app:
            return await collect(app, timeout=timeout)
    except PluginStartupError as exc:
        # The kernel could not open the deployment (MongoDB unreachable, a database
        # provider failing): that is the answer, not a crash.
        return judge([HealthReport(component=exc.plugin, status="down",
                                   detail=f"could not open: {type(exc.cause).__name__}: {_first_line(exc.cause)}")])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""


def ops_group(config: Any, app: Any, ops_config: Any, token: str | None) -> click.Group:
    """``mediabot ops ...``: the admin commands' equivalents, and the updater itself.

    :param config: the raw configuration the CLI hook received (for :func:`mediabot.open_app`).
    :param app: the app the CLI built to call the hook (paths: data directory, ``plugins.toml``).
    :param ops_config: ``[plugins.ops]``.
    :param token: ``MEDIABOT_OPS_TOKEN`` (for ``/readyz``), when set.
    """
    from mediabot_ops.commands import releases_lines, render_cache_report, stale_patterns
    from mediabot_ops.composition import composition_lines
    from mediabot_ops.deploy import update_settings
    from mediabot_ops.updater import UpdateError, Updater

    @click.group("ops")
    def ops() -> None:
        """Stats, composition, cache, and signed update and rollback of this deployment."""

    @ops.command("stats")
    def stats() -> None:
        """Users, catalogue, and what plugins add to /stats."""
        from mediabot_ops.stats import gather_stats

        async def run() -> str:
            async with open_app(config) as opened:
                return await gather_stats(opened, uptime=None, timeout=ops_config.probe_timeout)

        click.echo(asyncio.run(run()))

    @ops.command("plugins")
    def plugins() -> None:
        """Enabled plugins in start order: distribution, version, builtin or third-party, entry point."""
        for line in composition_lines(app):
            click.echo(line)

    @ops.command("cache-analyze")
    def cache_analyze() -> None:
        """Keys and estimated memory per namespace (bounded SCAN batches, MEMORY USAGE samples)."""

        async def run() -> str:
            async with open_app(config) as opened:
                if opened.redis is None:
                    return "This deployment has no Redis."
                report = await _inspector(opened, ops_config).analyze()
                return render_cache_report(report, enabled=set(opened.composition.names),
                                           prefix=opened.section("redis").key_prefix)

        click.echo(asyncio.run(run()))

    @ops.command("cache-cleanup")
    @click.option("--yes", is_flag=True, help="Delete them (without it: count only, a dry run).")
    def cache_cleanup(yes: bool) -> None:
        """Count the keys plugins declare stale; with --yes, delete them (UNLINK, batch by batch)."""

        async def run() -> str:
            async with open_app(config) as opened:
                if opened.redis is None:
                    return "This deployment has no Redis."
                inspector = _inspector(opened, ops_config)
                patterns = [p for _, p in await stale_patterns(opened)]
                if not yes:
                    found = await inspector.count(patterns)
                    return f"{found:,} stale keys (dry run; --yes deletes them)."
                return f"Deleted {await inspector.delete(patterns):,} stale keys."

        click.echo(asyncio.run(run()))

    def _updater(by: str) -> Updater:
        try:
            settings = update_settings(app, ops_config, token)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        return Updater(settings, by=by, echo=lambda line: click.echo(line, err=True))

    @ops.command("update")
    @click.argument("tag")
    @click.option("--by", default="cli", show_default=True, help="Who asked, for the audit log.")
    def update(tag: str, by: str) -> None:
        """Fetch TAG, verify its SSH signature, build, check, switch `current`, restart, roll back if not ready.

        Runs in the foreground as its own process (it outlives the bot's restart);
        exit 0 when the new release is ready, 1 when refused or rolled back.
        """
        try:
            click.echo(_updater(by).update(tag))
        except UpdateError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)

    @ops.command("rollback")
    @click.option("--by", default="cli", show_default=True, help="Who asked, for the audit log.")
    def rollback(by: str) -> None:
        """Switch `current` back one release and restart; exit 0 when it is ready."""
        try:
            click.echo(_updater(by).rollback())
        except UpdateError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)

    @ops.command("releases")
    def releases() -> None:
        """Current release, history (newest first), installed releases, the last audit steps."""
        if not ops_config.releases_dir:
            raise click.ClickException("updates are off: [plugins.ops] releases_dir is not set")
        for line in releases_lines(app, ops_config, token):
            click.echo(line)

    return ops


def _inspector(app: Any, ops_config: Any) -> Any:
    from mediabot_ops.cache import CacheInspector

    return CacheInspector(app.redis, app.section("redis").key_prefix, batch=ops_config.scan_batch,
                          samples=ops_config.memory_samples)
