"""Where a deployment's update machinery lives, and starting the updater as its own process.

Shared by the bot (``/update``, ``/rollback``, the pid file) and the CLI
(``mediabot ops update|rollback|releases``), so both resolve the same
paths from the same ``plugins.toml``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mediabot_ops.config import OpsConfig
from mediabot_ops.updater import UpdateSettings

__all__ = ["audit_path", "pid_path", "ready_url", "remove_pid", "spawn_updater", "update_settings",
           "updater_log_path", "write_pid"]


def _base(app: Any) -> Path:
    path = app.config.path
    return Path(path).resolve().parent if path is not None else Path.cwd()


def _resolve(app: Any, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else _base(app) / path


def pid_path(app: Any) -> Path:
    """``<data_dir>/plugins/ops/mediabot.pid``: written by the running bot, read by the updater."""
    return app.data_dir / "plugins" / "ops" / "mediabot.pid"


def write_pid(path: Path) -> None:
    """This process's pid, written whole (temporary file, then rename): the updater never reads half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(f"{os.getpid()}\n")
    os.replace(tmp, path)


def remove_pid(path: Path) -> None:
    """Remove the pid file if it is still this process's (a newer process may have written its own)."""
    try:
        if path.read_text().strip() == str(os.getpid()):
            path.unlink()
    except FileNotFoundError:
        pass


def audit_path(app: Any) -> Path:
    """``<data_dir>/plugins/ops/audit.jsonl``: every update and rollback step, one JSON object a line."""
    return app.data_dir / "plugins" / "ops" / "audit.jsonl"


def updater_log_path(app: Any) -> Path:
    """Output of the updater ``/update`` and ``/rollback`` start (it has no terminal)."""
    return app.data_dir / "plugins" / "ops" / "updater.log"


def ready_url(config: OpsConfig) -> str | None:
    """The ``/readyz`` the updater polls: the bot's own listen address, seen from this host."""
    address = config.address
    if address is None or address.port == 0:
        return None
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(address.host, address.host)
    return f"http://{f'[{host}]' if ':' in host else host}:{address.port}/readyz"


def update_settings(app: Any, config: OpsConfig, token: str | None) -> UpdateSettings:
    """:raises ValueError: when ``releases_dir`` is not set (updates are off)."""
    if not config.releases_dir:
        raise ValueError("updates are off: [plugins.ops] releases_dir is not set")
    return UpdateSettings(
        releases_dir=_resolve(app, config.releases_dir), remote=config.update_remote,
        allowed_signers=_resolve(app, config.allowed_signers), build=tuple(config.build_command),
        check=tuple(config.check_command), smoke=tuple(config.smoke_command), step_timeout=config.step_timeout,
        ready_timeout=config.ready_timeout, pid_file=pid_path(app), ready_url=ready_url(config),
        audit=audit_path(app), token=token, keep=config.keep_releases,
        config_path=Path(app.config.path).resolve() if app.config.path is not None else None)


def spawn_updater(app: Any, args: list[str], *, by: str) -> int:
    """Start ``mediabot --config <file> ops <args> --by <by>`` as its own session; returns its pid.

    A new session (``setsid``), stdin closed, output to ``updater.log``: the
    SIGTERM the updater sends this process, and the supervisor restarting
    it, do not reach the updater. Under systemd the unit needs
    ``KillMode=process`` so that stopping the bot's main process leaves the
    updater running (see docs/ops.md).
    """
    argv = [sys.executable, "-m", "mediabot"]
    if app.config.path is not None:
        argv += ["--config", str(Path(app.config.path).resolve())]
    argv += ["ops", *args, "--by", by]
    log_file = updater_log_path(app)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fd, stderr=fd, start_new_session=True,
                                   close_fds=True, env=dict(app.env), cwd=_base(app))
    finally:
        os.close(fd)
    return process.pid
