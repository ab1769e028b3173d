"""The ``mediabot`` command line.

Kernel commands: ``run``, ``plugins``, ``config check``, ``config show``
(and ``dev``, the local console). Enabled plugins add their own through the
``mediabot_cli`` hook. Configuration and plugin errors print one line and
exit with code 2; there is no traceback for a mistake in a file.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from typing import Any

import click
import msgspec

from mediabot.core.app import App
from mediabot.core.autodelete import require_redis
from mediabot.core.compose import Composition, Selected, check_secrets, compose, required_secrets
from mediabot.core.config import KERNEL_SECTIONS, RawConfig, load_raw, validate_table
from mediabot.core.discovery import Candidate, discover
from mediabot.core.errors import ConfigError, MediabotError, PluginLoadError, PluginStartupError
from mediabot.core.logs import setup_logging
from mediabot.core.tomlout import dumps as toml_dumps

config_option = click.option(
    "--config", "-c", "config_path", type=click.Path(dir_okay=False), default=None,
    help="plugins.toml to use (default: $MEDIABOT_CONFIG, else ./plugins.toml).")


def _config_path(ctx: click.Context, explicit: str | None) -> str | None:
    return explicit or (ctx.find_root().params.get("config_path"))


class MediabotGroup(click.Group):
    """Adds the enabled plugins' subcommands lazily, so a broken config never breaks ``--help``.

    Only the enabled plugins are imported (to learn their subcommands), and
    only when a name is not a kernel command. When the configuration cannot be
    used, the plugins' subcommands cannot be built: asking for one then prints
    the configuration error (exit 2), not click's "No such command".
    """

    def _plugin_commands(self, ctx: click.Context) -> tuple[dict[str, click.Command], MediabotError | None]:
        cached: tuple[dict[str, click.Command], MediabotError | None] | None = ctx.meta.get(
            "mediabot.plugin_commands")
        if cached is not None:
            return cached
        group = click.Group("plugins")
        error: MediabotError | None = None
        try:
            raw = load_raw(ctx.meta.get("mediabot.subcommand_config") or ctx.find_root().params.get("config_path"))
            comp = compose(raw, discover())
            app = App(comp, require_secrets=False)
            app.host.call_sync("mediabot_cli", cli=group, config=raw)
        except MediabotError as exc:
            error = exc  # the kernel commands still work; a plugin's subcommand shows this
        commands = {n: c for n, c in group.commands.items() if n not in self.commands}
        ctx.meta["mediabot.plugin_commands"] = commands, error
        return commands, error

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                           list[str]]:
        # `mediabot health -c FILE`: a plugin's subcommand takes -c as the kernel's do, and it
        # must be built from that file (its plugin may be enabled there only).
        given = _subcommand_config(args[1:])
        if given is not None:
            ctx.meta["mediabot.subcommand_config"] = given
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_commands(ctx)[0]})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        found = super().get_command(ctx, name)
        if found is not None:
            return found
        commands, error = self._plugin_commands(ctx)
        if name in commands:
            return commands[name]
        if error is not None:
            return _unavailable(name, error)
        return None


def _subcommand_config(args: list[str]) -> str | None:
    """The value of ``-c``/``--config`` among a subcommand's arguments (``None`` when not given)."""
    for i, arg in enumerate(args):
        if arg == "--":
            return None
        if arg in ("-c", "--config"):
            return args[i + 1] if i + 1 < len(args) else None
        if arg.startswith("--config="):
            return arg.partition("=")[2]
    # Not the glued ``-cFILE``: a plugin's argument such as a message text "-cool" must stay its own.
    return None


def _unavailable(name: str, error: MediabotError) -> click.Command:
    """Stands in for a plugin subcommand that the configuration error keeps from being built."""

    def fail(**_: object) -> None:
        click.echo(f"error: {error}", err=True)
        click.echo(f"error: `mediabot {name}` is not a kernel command, and the enabled plugins' commands "
                   "cannot be loaded until the configuration above is fixed (`mediabot config check`)",
                   err=True)
        sys.exit(2)

    return click.Command(name, callback=fail, context_settings={"ignore_unknown_options": True},
                         params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)], add_help_option=False)


@click.group(cls=MediabotGroup)
@config_option
@click.version_option(package_name="mediabot")
def cli(config_path: str | None) -> None:
    """mediabot: a plugin-based Telegram media bot."""


@cli.command()
@config_option
@click.pass_context
def run(ctx: click.Context, config_path: str | None) -> None:
    """Run the bot against Telegram (production)."""
    from mediabot.core.factory import create_app

    path = _config_path(ctx, config_path)
    raw = load_raw(path)
    rt = raw.section("runtime")
    setup_logging(rt.log_level, rt.log_format)
    app = create_app(path, telegram_secrets=True)  # config and secrets are checked before any import
    from mediabot.core.telegram.production import create_production_gateway

    app.gateway = create_production_gateway(app)
    asyncio.run(app.run())


def _env_names(_ctx: click.Context, _param: click.Parameter, names: tuple[str, ...]) -> tuple[str, ...]:
    for name in names:
        if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name):
            raise click.BadParameter(f"{name!r} is not an environment variable name (e.g. DB_A_URI)")
    return names


@cli.command()
@config_option
@click.option("--demo", is_flag=True, help="Seed a demo catalogue of 2,412 media files.")
@click.option("--script", type=str, default=None, metavar="FILE|-",
              help="Read console input from FILE (or - for stdin) and print a plain transcript.")
@click.option("--data-dir", default=".mediabot-dev", show_default=True,
              help="Where the embedded Redis and MongoDB keep their data.")
@click.option("--mongo-env", "mongo_envs", multiple=True, metavar="VAR", callback=_env_names,
              help="Start one more embedded MongoDB and export its URI as VAR, for a plugin that reads "
                   "URIs from the environment (dbrouter). Repeatable.")
@click.pass_context
def dev(ctx: click.Context, config_path: str | None, demo: bool, script: str | None, data_dir: str,
        mongo_envs: tuple[str, ...]) -> None:
    """Run the bot locally: embedded services, fake Telegram, a chat in the terminal.

    Type as a user, see replies with numbered buttons, press #N, switch to the
    admin with :as admin, post a file into a channel with :post. :help lists
    everything. Nothing reaches Telegram.
    """
    from mediabot.dev.launcher import main_dev

    sys.exit(main_dev(_config_path(ctx, config_path), demo, script, data_dir, dict(os.environ),
                      mongo_envs=mongo_envs))


@cli.command("plugins")
@config_option
@click.pass_context
def plugins_cmd(ctx: click.Context, config_path: str | None) -> None:
    """List installed plugins: enabled or not, builtin or third-party, commands, routes and hooks."""
    try:
        raw = load_raw(_config_path(ctx, config_path))
    except ConfigError as exc:
        click.echo(f"warning: {exc}; showing plugins with defaults", err=True)
        raw = RawConfig(path=None, data={})
        from mediabot.core.config import _validate_kernel

        _validate_kernel(raw)
    tables = raw.plugin_tables()
    rows = []
    for name, cand in sorted(discover().items()):
        enabled = bool(tables.get(name, {}).get("enabled", False))
        commands, hooks, note = "", "", ""
        try:
            factory, meta = cand.load()
        except MediabotError as exc:
            rows.append(_row(cand, enabled, "-", "-", f"error: {exc}"))
            continue
        table = {k: v for k, v in tables.get(name, {}).items() if k != "enabled"}
        try:
            config = validate_table(raw, table, meta.config, f"plugins.{name}")
        except ConfigError as exc:
            # Listed with the reason, and with its defaults so its commands still show.
            note = f"invalid config: {exc}"
            config = msgspec.convert({}, meta.config) if _has_defaults(meta.config) else None
        try:
            if config is not None:
                app = App(Composition(raw=raw, plugins=[Selected(cand, meta, factory, config)]),
                          require_secrets=False)
                hooks = ", ".join(h.removeprefix("mediabot_") for h in app.host.hooks_of(name))
                got = asyncio.run(app.host.collect("mediabot_commands", only=[name], app=app))
                commands = " ".join(f"/{c.name}" for _, cmds in got for c in cmds or ())
                # Routes ([routing] order names them) after the commands, in brackets.
                routed = asyncio.run(app.host.collect("mediabot_handlers", only=[name], app=app))
                routes = " ".join(f"[{name}.{h.name}]" for _, hs in routed for h in hs or ())
                commands = " ".join(part for part in (commands, routes) if part)
        except (MediabotError, msgspec.ValidationError) as exc:
            note = note or f"error: {exc}"
        rows.append(_row(cand, enabled, commands or "-", hooks or "-", note))
    headers = ("NAME", "DISTRIBUTION", "ENABLED", "KIND", "COMMANDS", "HOOKS")
    widths = [max(len(headers[i]), *(len(r[i]) for r in rows)) if rows else len(headers[i])
              for i in range(len(headers))]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r[:len(widths)], widths, strict=True)).rstrip())
        if r[6]:
            click.echo(f"    {r[6]}")
    if not rows:
        click.echo("(no plugins installed)")


def _row(cand: Candidate, enabled: bool, commands: str, hooks: str, note: str) -> tuple[str, ...]:
    state = ("yes" if enabled else "no") + ("!" if note.startswith("invalid config") else "")
    return (cand.name, f"{cand.distribution} {cand.version}", state,
            "builtin" if cand.builtin else "third-party", commands, hooks, note)


def _has_defaults(schema: type) -> bool:
    try:
        msgspec.convert({}, schema)
    except msgspec.ValidationError:
        return False
    return True


@cli.group("config")
def config_group() -> None:
    """Check or show the configuration."""


@config_group.command("check")
@config_option
@click.option("--dev", is_flag=True, help="Check for `mediabot dev`: no Telegram credentials, embedded services.")
@click.pass_context
def config_check(ctx: click.Context, config_path: str | None, dev: bool) -> None:
    """Validate plugins.toml, the environment overrides and the secrets a deployment needs."""
    raw = load_raw(_config_path(ctx, config_path))
    comp = compose(raw, discover())
    check_secrets(comp, telegram=not dev, embedded=dev)
    if not dev:  # --dev embeds Redis
        require_redis(raw.section("delivery"), os.environ)
    names = ", ".join(comp.names) or "none"
    click.echo(f"OK {raw.file_label}: plugins enabled in start order: {names}")


@config_group.command("show")
@config_option
@click.pass_context
def config_show(ctx: click.Context, config_path: str | None) -> None:
    """Print the effective configuration (defaults, file, environment); secrets masked."""
    raw = load_raw(_config_path(ctx, config_path))
    comp = compose(raw, discover())
    out: dict[str, Any] = {name: msgspec.to_builtins(raw.section(name)) for name in KERNEL_SECTIONS}
    out["plugins"] = {p.meta.name: {"enabled": True, **msgspec.to_builtins(p.config)} for p in comp.plugins}
    for name in raw.plugin_tables():
        if name not in out["plugins"]:
            out["plugins"][name] = {"enabled": False}
    click.echo(f"# effective configuration from {raw.file_label}")
    for key, env in sorted(raw.sources.items()):
        click.echo(f"# {key} overridden by {env}")
    click.echo(toml_dumps(out))
    click.echo("# secrets (from the environment only; values never shown)")
    seen = set()
    for secret, who in required_secrets(comp, telegram=True, embedded=False):
        if secret.env in seen:
            continue
        seen.add(secret.env)
        state = "set" if os.environ.get(secret.env) else ("MISSING" if secret.required else "not set")
        click.echo(f"# {secret.env} = <{state}>  ({secret.description}; for {who})")


def main(argv: list[str] | None = None) -> None:
    """Entry point: kernel errors become one line and an exit code, not a traceback."""
    try:
        cli.main(args=argv, prog_name="mediabot", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (ConfigError, PluginLoadError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except PluginStartupError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except MediabotError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
