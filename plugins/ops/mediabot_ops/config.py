"""Settings of ``[plugins.ops]`` and the rules the schema cannot state."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

import msgspec

from mediabot import ConfigError, Directory

__all__ = ["TOKEN_ENV", "ListenAddress", "OpsConfig", "parse_listen", "require_token", "valid_tag"]

#: The bearer token ``/metrics`` and ``/readyz`` ask for; required to listen beyond this host.
TOKEN_ENV = "MEDIABOT_OPS_TOKEN"
_TOKEN_FIX = (f"export {TOKEN_ENV}=<a long random string> (scrapers send it as a bearer token), "
              'or listen on a loopback address such as "127.0.0.1:9464"')


@dataclass(frozen=True)
class ListenAddress:
    """Where the HTTP server binds: ``host`` and ``port`` (``0``: any free port)."""

    host: str
    port: int

    @property
    def local(self) -> bool:
        """Only this host can connect (loopback address or ``localhost``)."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:  # a host name: it may resolve to anything
            return False


def parse_listen(text: str) -> ListenAddress:
    """``"127.0.0.1:9464"``, ``"[::1]:9464"`` or ``"0.0.0.0:9464"`` -> :class:`ListenAddress`.

    :raises ValueError: with a short reason.
    """
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise ValueError("expected HOST:PORT")
    if host.startswith("["):
        if not host.endswith("]"):
            raise ValueError("an IPv6 address goes in brackets: [::1]:9464")
        host = host[1:-1]
    elif ":" in host:
        raise ValueError("an IPv6 address goes in brackets: [::1]:9464")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"port {port_text!r} is not a number from 0 to 65535")
    return ListenAddress(host, int(port_text))


# A release tag: letters, digits and ``._+-``, not starting with ``-`` (it would
# read as an option to git) or ``.``; no ``..`` (a path out of releases/).
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")


def valid_tag(tag: str) -> bool:
    """``tag`` may name a release: a git tag and a directory under ``releases/``, never an option."""
    return bool(_TAG.match(tag)) and ".." not in tag and not tag.endswith((".lock", "."))


class OpsConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings of ``[plugins.ops]``.

    :param listen: ``HOST:PORT`` of the ``/healthz``, ``/readyz`` and ``/metrics`` HTTP server; each process on a host needs its own port; ``0`` as the port takes any free one; ``""`` turns the server off. Any address other than loopback needs ``MEDIABOT_OPS_TOKEN``.
    :param header_timeout: seconds a connection to the HTTP server may stay open without a complete request (after it opens, or after the previous response); then it is closed. Bounds what half-sent requests hold.
    :param max_connections: connections the HTTP server keeps open at once; beyond it a new one is closed as soon as it is accepted. Keep it well under the process's file-descriptor limit (systemd ``LimitNOFILE``).
    :param probe_timeout: seconds a health check (all plugins' reports, the MongoDB ping) may take before it counts as down.
    :param log_lines: log lines kept in memory for ``/logs`` (secrets masked).
    :param scan_batch: keys asked for per ``SCAN`` call by ``/cache_analyze`` and ``/cache_cleanup`` (each call stays short; Redis serves others in between).
    :param memory_samples: keys per namespace whose ``MEMORY USAGE`` is measured; a namespace's size is estimated from them.
    :param releases_dir: directory of the signed releases (``releases/<tag>`` and the ``current`` symlink the supervisor starts); relative to the directory of ``plugins.toml``; ``""`` turns ``/update`` and ``/rollback`` off.
    :param update_remote: git URL (or path) the release tags are fetched from.
    :param allowed_signers: git's SSH allowed-signers file (``principal namespaces="git" ssh-ed25519 ...``): a tag is applied only when signed by one of these keys; relative to the directory of ``plugins.toml``.
    :param build_command: argument list run in the new release's directory to build it (no shell).
    :param check_command: argument list run in the new release's directory to check the deployment's configuration; ``MEDIABOT_CONFIG`` names this ``plugins.toml``.
    :param smoke_command: argument list run in the new release's directory as a smoke start, while the old release still runs: the default, ``mediabot health --offline``, opens the deployment's Redis, MongoDB and plugins without Telegram and without starting them, and must exit 0.
    :param step_timeout: seconds each of the fetch, build, check and smoke steps may take before the update is abandoned.
    :param ready_timeout: seconds the restarted process has to answer ``/readyz`` with 200 before the updater rolls back to the previous release by itself.
    :param keep_releases: releases kept under ``releases_dir`` after a successful update: the current one and those before it in the history, which ``/rollback`` goes back through; older ones, and what failed fetches left, are removed.
    """

    listen: str = "127.0.0.1:9464"
    header_timeout: Annotated[float, msgspec.Meta(ge=0.5, le=300)] = 10.0
    max_connections: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 100
    probe_timeout: Annotated[float, msgspec.Meta(ge=0.1, le=300)] = 3.0
    log_lines: Annotated[int, msgspec.Meta(ge=10, le=100_000)] = 1000
    scan_batch: Annotated[int, msgspec.Meta(ge=10, le=10_000)] = 500
    memory_samples: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 20
    releases_dir: Directory = ""
    update_remote: str = ""
    allowed_signers: str = ""
    build_command: list[str] = msgspec.field(default_factory=lambda: ["uv", "sync", "--frozen"])
    check_command: list[str] = msgspec.field(
        default_factory=lambda: [".venv/bin/mediabot", "config", "check"])
    smoke_command: list[str] = msgspec.field(
        default_factory=lambda: [".venv/bin/mediabot", "health", "--offline"])
    step_timeout: Annotated[float, msgspec.Meta(ge=1, le=7200)] = 900.0
    ready_timeout: Annotated[float, msgspec.Meta(ge=1, le=3600)] = 120.0
    # 2 at least: the current release and one to roll back to.
    keep_releases: Annotated[int, msgspec.Meta(ge=2, le=100)] = 3

    @property
    def address(self) -> ListenAddress | None:
        """The parsed ``listen``; ``None`` when the server is off."""
        return parse_listen(self.listen) if self.listen else None

    def validate(self, env: Mapping[str, str] | None = None) -> None:
        """Run by the kernel when it loads ``plugins.toml`` (and by ``mediabot config check``),
        with the deployment's environment: a ``listen`` beyond loopback needs :data:`TOKEN_ENV`.

        :raises ConfigError: with ``key`` relative to ``[plugins.ops]``.
        """
        if self.listen:
            try:
                parse_listen(self.listen)
            except ValueError as exc:
                raise ConfigError(f"{exc}, got {self.listen!r}", key="listen",
                                  fix='e.g. listen = "127.0.0.1:9464"; "" turns the server off') from None
        for name in ("build_command", "check_command", "smoke_command"):
            if not getattr(self, name):
                raise ConfigError("must name a program", key=name,
                                  fix=f'e.g. {name} = ["uv", "sync", "--frozen"] (an argument list, no shell)')
        if self.releases_dir:
            for name in ("update_remote", "allowed_signers"):
                if not getattr(self, name):
                    raise ConfigError("is needed to apply signed releases (releases_dir is set)", key=name,
                                      fix='e.g. update_remote = "https://github.com/you/bot.git" and '
                                          'allowed_signers = "/etc/mediabot/allowed_signers"; '
                                          'or releases_dir = "" to turn updates off')
        if env is not None:
            address = self.address
            if address is not None and not address.local and not env.get(TOKEN_ENV):
                raise ConfigError(f"listen = {self.listen!r} is reachable from other hosts, but {TOKEN_ENV} is "
                                  "not set", key="listen", fix=_TOKEN_FIX)


def require_token(config: OpsConfig, secrets: Mapping[str, str], *, file: str) -> None:
    """Refuse to serve metrics and readiness beyond this host without a bearer token.

    ``validate(env)`` checks it when the configuration is loaded; the plugin's
    constructor checks it again with the secrets the app was given.

    :raises ConfigError: naming ``plugins.ops.listen`` and :data:`TOKEN_ENV`.
    """
    address = config.address
    if address is None or address.local or secrets.get(TOKEN_ENV):
        return
    raise ConfigError(f"listen = {config.listen!r} is reachable from other hosts, but {TOKEN_ENV} is not set",
                      file=file, key="plugins.ops.listen",
                      fix=_TOKEN_FIX)
