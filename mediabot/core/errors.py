"""Typed kernel errors.

Each error carries what an operator needs to fix the problem: the file, the
key, the plugin, and a suggested fix. ``str(err)`` is the one line the CLI
prints; a traceback is only shown for bugs.
"""

from __future__ import annotations

import re
from urllib.parse import unquote


class MediabotError(Exception):
    """Base class of every error the kernel raises on purpose."""


class ConfigError(MediabotError):
    """The configuration cannot be used as written.

    :param message: what is wrong, in one sentence.
    :param file: the configuration file (or ``"environment"``).
    :param key: dotted key path inside the file, e.g. ``plugins.search.page_size``.
    :param fix: what to change.
    :param shown: the key as the operator wrote it, ``[plugins.search] page_size = 0``,
        shown instead of ``key`` when the value itself is what is wrong (a range).
    """

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None,
                 fix: str | None = None, shown: str | None = None) -> None:
        self.message = message
        self.file = file
        self.key = key
        self.fix = fix
        self.shown = shown
        super().__init__(self.format())

    def format(self) -> str:
        where = ""
        if self.file and self.shown:
            where = f"{self.file}: {self.shown}: "
        elif self.file and self.key:
            where = f"{self.file}: {self.key}: "
        elif self.file:
            where = f"{self.file}: "
        elif self.key:
            where = f"{self.key}: "
        tail = f" ({self.fix})" if self.fix else ""
        return f"{where}{self.message}{tail}"


class PluginLoadError(MediabotError):
    """A plugin could not be imported, validated or ordered.

    :param plugin: the plugin's name (its entry point name).
    """

    def __init__(self, plugin: str, message: str, *, fix: str | None = None) -> None:
        self.plugin = plugin
        self.message = message
        self.fix = fix
        tail = f" ({fix})" if fix else ""
        super().__init__(f"plugin {plugin!r}: {message}{tail}")


class PluginStartupError(MediabotError):
    """A required plugin failed in its startup hook; the bot does not start."""

    def __init__(self, plugin: str, cause: BaseException) -> None:
        self.plugin = plugin
        self.cause = cause
        super().__init__(f"plugin {plugin!r} failed to start: {type(cause).__name__}: {cause}")


class ResourceError(MediabotError):
    """A service the bot needs (Redis, MongoDB, Telegram) cannot be reached at start.

    ``str(err)`` is one line naming the service, its address (credentials
    masked) and the timeout that ran out; ``mediabot run`` prints it and exits 1.
    """


# Query parameters that carry a credential (redis-py's ``?password=``, MongoDB's
# ``tlsCertificateKeyFilePassword``, ``authMechanismProperties`` with an AWS session token...).
_SECRET_PARAM = re.compile(r"pass|pwd|secret|token|authmechanismproperties|credential|^key$|apikey|api_key",
                           re.IGNORECASE)


def mask_url(url: str) -> str:
    """``url`` without its credentials, for messages and logs.

    The password in the userinfo (``redis://:***@host:6379/0``) and the value
    of every query parameter named like a credential
    (``redis://host:6379/0?password=***``) are masked; the rest stays, so the
    operator still sees which server and database were meant.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    rest, hash_sign, fragment = rest.partition("#")
    head, question, query = rest.partition("?")
    userinfo, at, hosts = head.rpartition("@")
    if at:
        user = userinfo.partition(":")[0]
        head = f"{user}:***@{hosts}"
    if question:
        query = "&".join(_mask_param(part) for part in query.split("&"))
    return f"{scheme}://{head}{question}{query}{hash_sign}{fragment}"


def _mask_param(part: str) -> str:
    name, eq, value = part.partition("=")
    if eq and value and _SECRET_PARAM.search(unquote(name)):
        return f"{name}=***"
    return part
