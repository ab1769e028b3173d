"""The releases on disk, the ``current`` symlink the supervisor starts, and the audit log.

Layout of ``releases_dir``::

    releases/<tag>/      # one checked-out, built release per applied tag
    current -> releases/<tag>
    history.json         # tags made current, oldest first; the last is current; only installed ones
    pending.json         # an update switched `current` and has not concluded yet (see Pending)
    .lock                # held by the one updater that may run at a time

``current`` is switched atomically: a new symlink is made under a temporary
name and ``os.replace``\\ d over the old one, so a supervisor starting the
bot at any instant sees either the old release or the new one, never none.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec

__all__ = ["AuditEntry", "AuditLog", "Pending", "ReleaseStore", "UpdateBusy", "older_than"]


class UpdateBusy(Exception):
    """Another updater holds the lock."""


class AuditEntry(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One line of the audit log.

    :param time: UTC, ISO 8601.
    :param action: ``update``, ``rollback`` or ``auto-rollback``.
    :param step: e.g. ``fetch``, ``verify``, ``build``, ``switch``, ``ready``.
    :param outcome: ``started``, ``ok``, ``refused`` or ``failed``.
    :param tag: the release concerned.
    :param detail: one line of explanation (never a secret: git URLs are logged without credentials).
    :param by: who asked (``cli`` or ``telegram:<user id>``).
    """

    time: str
    action: str
    step: str
    outcome: str
    tag: str = ""
    detail: str = ""
    by: str = ""


class Pending(msgspec.Struct, kw_only=True):
    """An update between switching ``current`` and its conclusion (ready, or rolled back).

    Written before the switch, removed when the update concludes: one left
    behind means the updater died there (killed, the host rebooted), and the
    next updater run, or the bot's start, finishes or undoes it.

    :param tag: the release ``current`` was switched to.
    :param previous: the release it replaced (``None``: the first release).
    :param history: the history before the switch (what an undo restores).
    :param pid: the updater's process id.
    :param bot_pid: the bot running before the switch (on ``previous``): its readiness says nothing of ``tag``.
    :param by: who asked.
    """

    tag: str
    previous: str | None
    history: list[str]
    pid: int
    bot_pid: int | None = None
    by: str = ""


_NUMBERS = re.compile(r"\d+")


def older_than(tag: str, current: str) -> bool | None:
    """Whether release ``tag`` comes before ``current``, by the numbers in their names.

    ``v1.9`` < ``v1.10`` < ``v2``; ``None`` when either name has no number
    (the names alone cannot say; the tags' signed dates decide then).
    """
    a, b = [int(n) for n in _NUMBERS.findall(tag)], [int(n) for n in _NUMBERS.findall(current)]
    if not a or not b:
        return None
    return a < b


class AuditLog:
    """Appends :class:`AuditEntry` lines (JSON) to ``path``; each line is written whole with one ``write``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, entry: AuditEntry) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = msgspec.json.encode(entry) + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def entries(self) -> list[AuditEntry]:
        if not self.path.exists():
            return []
        return [msgspec.json.decode(line, type=AuditEntry)
                for line in self.path.read_bytes().splitlines() if line.strip()]

    @staticmethod
    def now() -> str:
        return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class ReleaseStore:
    """``releases_dir`` on disk (see the module's docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.releases = root / "releases"
        self.current_link = root / "current"
        self._history = root / "history.json"
        self._pending = root / "pending.json"

    def path_of(self, tag: str) -> Path:
        return self.releases / tag

    def current(self) -> str | None:
        """The tag ``current`` points at (``None`` before the first release)."""
        try:
            target = os.readlink(self.current_link)
        except FileNotFoundError:
            return None
        return Path(target).name

    def history(self) -> list[str]:
        if not self._history.exists():
            return []
        return msgspec.json.decode(self._history.read_bytes(), type=list[str])

    def previous(self) -> str | None:
        """The release ``rollback`` goes back to (``None``: there is none)."""
        history = self.history()
        if len(history) < 2 or history[-1] != self.current():
            return None
        return history[-2]

    def installed(self) -> list[str]:
        if not self.releases.is_dir():
            return []
        return sorted(p.name for p in self.releases.iterdir() if p.is_dir() and not p.name.startswith("."))

    def incoming(self, tag: str) -> Path:
        """A fresh, hidden directory to fetch ``tag`` into (never a name the supervisor could start)."""
        self.releases.mkdir(parents=True, exist_ok=True)
        path = self.releases / f".incoming-{tag}-{secrets.token_hex(4)}"
        path.mkdir()
        return path

    def install(self, incoming: Path, tag: str) -> Path:
        """Move a verified checkout to ``releases/<tag>`` (replacing an older copy that is not current)."""
        final = self.path_of(tag)
        if final.exists():
            shutil.rmtree(final)
        os.replace(incoming, final)
        return final

    def prune(self, keep: set[str]) -> list[str]:
        """Remove every release directory not in ``keep``, and leftovers of fetches that never finished.

        Call it under :meth:`lock` only: an unfinished fetch is then one that died.
        :returns: the names removed.
        """
        if not self.releases.is_dir():
            return []
        removed = []
        for path in sorted(self.releases.iterdir()):
            if path.is_dir() and not path.is_symlink() and path.name not in keep:
                shutil.rmtree(path)
                removed.append(path.name)
        return removed

    def switch(self, tag: str, *, history: list[str]) -> None:
        """Point ``current`` at ``releases/<tag>`` atomically and record ``history`` (last = ``tag``)."""
        tmp = self.root / f".current-{secrets.token_hex(4)}"
        os.symlink(Path("releases") / tag, tmp)  # relative: the whole directory can move
        os.replace(tmp, self.current_link)
        self._write_history(history)

    def trim_history(self, keep: int) -> None:
        """Keep the last ``keep`` entries: the releases :meth:`prune` keeps, and nothing that is gone."""
        history = self.history()
        if len(history) > keep:
            self._write_history(history[-keep:])

    def pending(self) -> Pending | None:
        """The update an updater left unconcluded (see :class:`Pending`), if any."""
        try:
            return msgspec.json.decode(self._pending.read_bytes(), type=Pending)
        except FileNotFoundError:
            return None

    def set_pending(self, pending: Pending) -> None:
        tmp = self.root / f".pending-{secrets.token_hex(4)}"
        tmp.write_bytes(msgspec.json.encode(pending))
        os.replace(tmp, self._pending)

    def clear_pending(self) -> None:
        self._pending.unlink(missing_ok=True)

    def _write_history(self, history: list[str]) -> None:
        tmp = self.root / f".history-{secrets.token_hex(4)}"
        tmp.write_bytes(msgspec.json.encode(history))
        os.replace(tmp, self._history)

    def updater_running(self) -> bool:
        """Whether an updater holds the lock now (a pending update of a dead one is free to take over)."""
        try:
            with self.lock():
                return False
        except UpdateBusy:
            return True

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One updater at a time (a second one is refused, not queued)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UpdateBusy("another update or rollback is running") from None
            yield
        finally:
            os.close(fd)  # releases the lock
