"""Settings of ``[plugins.ops]`` and the rules the schema cannot state."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import msgspec

from mediabot import ConfigError

__all__ = ["TOKEN_ENV", "ListenAddress", "OpsConfig", "parse_listen", "require_token"]

#: The bearer token ``/metrics`` and ``/readyz`` ask for; required to listen beyond this host.
TOKEN_ENV = "MEDIABOT_OPS_TOKEN"


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


class OpsConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings of ``[plugins.ops]``.

    :param listen: ``HOST:PORT`` of the ``/healthz``, ``/readyz`` and ``/metrics`` HTTP server; each process on a host needs its own port; ``0`` as the port takes any free one; ``""`` turns the server off. Any address other than loopback needs ``MEDIABOT_OPS_TOKEN``.
    :param probe_timeout: seconds a health check (all plugins' reports, the MongoDB ping) may take before it counts as down.
    :param log_lines: log lines kept in memory for ``/logs`` (secrets masked).
    :param scan_batch: keys asked for per ``SCAN`` call by ``/cache_stats`` and ``/cache_cleanup`` (each call stays short; Redis serves others in between).
    :param memory_samples: keys per namespace whose ``MEMORY USAGE`` is measured; a namespace's size is estimated from them.
    """

    listen: str = "127.0.0.1:9464"
    probe_timeout: float = 3.0
    log_lines: int = 1000
    scan_batch: int = 500
    memory_samples: int = 20

    @property
    def address(self) -> ListenAddress | None:
        """The parsed ``listen``; ``None`` when the server is off."""
        return parse_listen(self.listen) if self.listen else None

    def validate(self) -> None:
        """Run by the kernel when it loads ``plugins.toml`` (and by ``mediabot config check``).

        :raises ConfigError: with ``key`` relative to ``[plugins.ops]``.
        """
        if self.listen:
            try:
                parse_listen(self.listen)
            except ValueError as exc:
                raise ConfigError(f"{exc}, got {self.listen!r}", key="listen",
                                  fix='e.g. listen = "127.0.0.1:9464"; "" turns the server off') from None
        for name, value, least in (("probe_timeout", self.probe_timeout, 0.1), ("log_lines", self.log_lines, 10),
                                   ("scan_batch", self.scan_batch, 10), ("memory_samples", self.memory_samples, 1)):
            if value < least:
                raise ConfigError(f"must be at least {least}", key=name, fix=f"e.g. {name} = {least * 10:g}")


def require_token(config: OpsConfig, secrets: Mapping[str, str], *, file: str) -> None:
    """Refuse to serve metrics and readiness beyond this host without a bearer token.

    Checked where the environment is known (the plugin's constructor): the
    kernel's ``validate()`` sees the table only.

    :raises ConfigError: naming ``plugins.ops.listen`` and :data:`TOKEN_ENV`.
    """
    address = config.address
    if address is None or address.local or secrets.get(TOKEN_ENV):
        return
    raise ConfigError(f"listen = {config.listen!r} is reachable from other hosts, but {TOKEN_ENV} is not set",
                      file=file, key="plugins.ops.listen",
                      fix=f"export {TOKEN_ENV}=<a long random string> (scrapers send it as a bearer token), "
                          'or listen on a loopback address such as "127.0.0.1:9464"')
