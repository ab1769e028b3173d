"""The last log lines, kept in memory for ``/logs``, with secrets masked before they are stored."""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Iterable, Mapping

__all__ = ["LogRing", "SecretMasker"]

MASK = "***"
# Environment variables whose values are secret by their name: the kernel's
# and plugins' declared secrets are added by value too (see SecretMasker.from_env).
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_HASH|API_ID|_KEY$|_URI|_URL|DSN", re.IGNORECASE)
# Credentials inside any URL (redis://:pw@host, mongodb://user:pw@host), known or not.
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@", re.IGNORECASE)
# Shorter values would mask ordinary words and numbers all over the log.
_MIN_SECRET_LENGTH = 6


class SecretMasker:
    """Replaces known secret values, and passwords in URLs, with ``***``.

    :param secrets: the values to hide.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        values = sorted({s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True)
        # Longest first: a secret that contains another is masked whole.
        self._pattern = re.compile("|".join(re.escape(v) for v in values)) if values else None

    @classmethod
    def from_env(cls, env: Mapping[str, str], declared: Iterable[str] = ()) -> SecretMasker:
        """Mask the values of ``declared`` variable names and of every variable named like a secret."""
        names = set(declared) | {n for n in env if _SECRET_NAME.search(n)}
        return cls(env[n] for n in names if env.get(n))

    def mask(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)


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
