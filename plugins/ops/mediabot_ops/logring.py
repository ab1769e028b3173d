"""The last log lines, kept in memory for ``/logs``, with secrets masked before they are stored."""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus, unquote, unquote_plus

__all__ = ["LogRing", "SecretMasker"]

MASK = "***"
# Environment variables whose values are secret by their name: the kernel's
# and plugins' declared secrets are added by value too (see SecretMasker.from_env).
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_HASH|API_ID|_KEY$|_URI|_URL|DSN", re.IGNORECASE)
# Credentials inside any URL (redis://:pw@host, mongodb://user:pw@host), known or not.
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@", re.IGNORECASE)
# A credential in a URL's query (?password=..., &token=...), known or not: the value runs to
# the next parameter, the fragment, whitespace or a quote.
_QUERY_SECRET = re.compile(r"(?P<lead>[?&](?P<name>[a-z0-9_.%-]*(?:pass|pwd|secret|token|credential|apikey|api_key)"
                           r"[a-z0-9_.%-]*|key|authMechanismProperties)=)(?P<value>[^&#\s'\"]+)", re.IGNORECASE)
# Shorter values would mask ordinary words and numbers all over the log.
_MIN_SECRET_LENGTH = 6


def _forms(value: str) -> set[str]:
    """Every way ``value`` may show up in a log line.

    As it is, percent-encoded (a password put in a URL) and decoded (one taken
    out of a URL); and, for a URL, its credentials on their own (a library
    logging the password it parsed). Case is handled by the pattern
    (``re.IGNORECASE``): an upper-cased token is caught too.
    """
    parts = {value}
    _scheme, sep, rest = value.partition("://")
    if sep:
        head, _, query = rest.partition("#")[0].partition("?")
        userinfo, at, _hosts = head.rpartition("@")
        if at and ":" in userinfo:
            parts.add(userinfo.partition(":")[2])
        for match in _QUERY_SECRET.finditer("?" + query):
            parts.add(match["value"])
    out: set[str] = set()
    for part in parts:
        for form in (part, unquote(part), unquote_plus(part)):
            out.update({form, quote(form, safe=""), quote(form), quote_plus(form)})
    return {f for f in out if len(f) >= _MIN_SECRET_LENGTH}


class SecretMasker:
    """Replaces known secret values (every form of each: see :func:`_forms`) and the credentials
    of any URL (its userinfo password, its password and token parameters) with ``***``.

    :param secrets: the values to hide.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        values: set[str] = set()
        for secret in secrets:
            if len(secret) >= _MIN_SECRET_LENGTH:
                values |= _forms(secret)
        # Longest first: a secret that contains another is masked whole.
        ordered = sorted(values, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered), re.IGNORECASE) if ordered else None

    @classmethod
    def from_env(cls, env: Mapping[str, str], declared: Iterable[str] = ()) -> SecretMasker:
        """Mask the values of ``declared`` variable names and of every variable named like a secret."""
        names = set(declared) | {n for n in env if _SECRET_NAME.search(n)}
        return cls(env[n] for n in names if env.get(n))

    def mask(self, text: str) -> str:
        # By structure first: a URL's credentials are hidden even when the whole URL is
        # not a known value; then every form of every known value.
        text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
        text = _QUERY_SECRET.sub(lambda m: f"{m['lead']}{MASK}", text)
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return text


class LogRing(logging.Handler):
    """A bounded, in-memory log handler: the newest ``capacity`` lines, already masked.

    Attach it to the ``mediabot`` logger with :meth:`attach` and remove it
    with :meth:`detach` (the logger tree is the process's, the ring is the app's).
    """

    def __init__(self, capacity: int, masker: SecretMasker) -> None:
        super().__init__()
        self._lines: deque[str] = deque(maxlen=capacity)
        self._masker = masker
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self._attached: logging.Logger | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # Masked on the way in: a secret never sits in memory waiting to be shown.
            self._lines.append(self._masker.mask(self.format(record)))
        except Exception:  # noqa: BLE001 - logging must never break the code that logs
            self.handleError(record)

    def tail(self, n: int) -> list[str]:
        """The last ``n`` lines, oldest first (a traceback counts as one line)."""
        if n <= 0:
            return []
        lines = list(self._lines)
        return lines[-n:]

    def attach(self, logger_name: str = "mediabot") -> None:
        self._attached = logging.getLogger(logger_name)
        self._attached.addHandler(self)

    def detach(self) -> None:
        if self._attached is not None:
            self._attached.removeHandler(self)
            self._attached = None
