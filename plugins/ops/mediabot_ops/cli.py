"""``mediabot health`` and ``mediabot ops ...``: the deployment from the command line.

``mediabot health`` asks the running bot's ``/readyz`` (:mod:`mediabot_ops.remote`)
and prints what it reports. ``--offline`` opens what the configured deployment
uses (Redis, MongoDB, the database provider, the catalogue, the plugins'
classes) with :func:`mediabot.open_app` and reports only what an app that
starts nothing can judge: no plugin's startup hook runs, so no loop starts and
nothing is sent. One line per component, worst first; exit 0 (ok), 1
(degraded) or 3 (down, or no bot answering); 2 stays "configuration error",
as for every ``mediabot`` command.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import click
import msgspec

from mediabot import HealthReport, MediabotError, PluginStartupError, open_app
from mediabot_ops.health import Snapshot, exit_code, judge, own_reports, render_lines

__all__ = ["health_command", "ops_group"]


def health_command(config: Any, ops_config: Any, token: str | None) -> click.Command:
    """``mediabot health``: what the running bot reports; ``--offline``: what an unstarted app can check."""

    @click.command("health")
    @click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False), default=None,
                  help="plugins.toml to use (default: $MEDIABOT_CONFIG, else ./plugins.toml).")
    @click.option("--offline", is_flag=True,
                  help="Do not ask the running bot: check the configuration, Redis, MongoDB and that the "
                       "plugins load (what a release that is not started yet can check; the update's smoke step).")
    @click.option("--timeout", type=float, default=ops_config.probe_timeout * 2, show_default=True,
                  help="Seconds the checks may take before what has not answered counts as down.")
    @click.option("--json", "as_json", is_flag=True, help="Print the components as JSON.")
    def health(config_path: str | None, offline: bool, timeout: float, as_json: bool) -> None:
        """Ask the running bot's /readyz for its health (--offline: check without it);
        exit 0 ok, 1 degraded, 3 down or no bot answering, 2 configuration error.

        \f
        ``config_path`` is already applied: the command group builds this subcommand from that file.
        """
        if offline:
            source = ("offline check: configuration, Redis, MongoDB and plugins loading; the running bot's own "
                      "checks (Telegram, started plugins) need `mediabot health` without --offline")
            snapshot = asyncio.run(_probe(config, timeout))
        else:
            from mediabot_ops.remote import NoAnswer, ask_running_bot

            try:
                url, snapshot = ask_running_bot(ops_config, token, timeout=timeout)
            except NoAnswer as exc:
                click.echo(f"error: {exc}", err=True)
                sys.exit(exc.exit_code)
            source = f"as reported by the running bot at {url}"
        if as_json:
            click.echo(msgspec.json.encode({"status": snapshot.status, "source": source,
                                            "components": snapshot.components}).decode())
        else:
            click.echo(source)
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
    """Redis, MongoDB and the plugins' construction; no plugin's own check (none of them is started)."""
    try:
        async with open_app(config) as app:
            async with asyncio.timeout(timeout):
                # Only the kernel's reports (Redis, the catalogue): a plugin that is not
                # started would say "not started", which is no news about the deployment.
                kernel = await app.hooks.collect("mediabot_health", only=list(app.kernel_plugins), app=app)
                reports = [r for _, result in kernel for r in (result or ())]
                reports += await own_reports(app, timeout=timeout)
            names = list(app.composition.names)
            reports.append(HealthReport(component="plugins", status="ok",
                                        detail=f"{len(names)} load: {', '.join(names)}" if names else "none enabled"))
            return judge(reports)
    except TimeoutError:
        return judge([HealthReport(component="health", status="down",
                                   detail=f"checks did not finish within {timeout:g}s")])
    except PluginStartupError as exc:
        # The kernel could not open the deployment (MongoDB unreachable, a database
        # provider failing): that is the answer, not a crash.
        return judge([HealthReport(component=exc.plugin, status="down",
                                   detail=f"could not open: {type(exc.cause).__name__}: {_first_line(exc.cause)}")])
    except MediabotError as exc:  # a plugin that does not load (its constructor, its config)
        return judge([HealthReport(component="plugins", status="down", detail=_first_line(exc))])


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
    from mediabot_ops.commands import keys, releases_lines, render_cache_report, stale_patterns
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
                    return f"{keys(found, 'stale')} (dry run; --yes deletes them)."
                return f"Deleted {keys(await inspector.delete(patterns), 'stale')}."

        click.echo(asyncio.run(run()))

    def _updater(by: str) -> Updater:
        try:
            settings = update_settings(app, ops_config, token)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        return Updater(settings, by=by, echo=lambda line: click.echo(line, err=True))

    @ops.command("update")
    @click.argument("tag")
    @click.option("--allow-downgrade", is_flag=True,
                  help="Apply TAG even though it is older than the current release (recorded in the audit log).")
    @click.option("--by", default="cli", show_default=True, help="Who asked, for the audit log.")
    def update(tag: str, allow_downgrade: bool, by: str) -> None:
        """Fetch TAG, verify its SSH signature, build, check, switch `current`, restart, roll back if not ready.

        Runs in the foreground as its own process (it outlives the bot's restart);
        exit 0 when the new release is ready, 1 when refused or rolled back.
        An update an earlier updater left unconcluded is finished or undone first.
        """
        try:
            click.echo(_updater(by).update(tag, allow_downgrade=allow_downgrade))
        except UpdateError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)

    @ops.command("recover")
    @click.option("--by", default="cli", show_default=True, help="Who asked, for the audit log.")
    def recover(by: str) -> None:
        """Finish or undo an update whose updater died after switching `current` (killed, host rebooted).

        The bot starts it by itself when it finds one; update and rollback do it first too.
        """
        try:
            click.echo(_updater(by).recover())
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
