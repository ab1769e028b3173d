"""One `mediabot dev` per data folder: a second one would open the same database files.

The lock is an ``flock`` on ``dev.lock`` in the data folder, which holds the
owner's pid for the message. The kernel drops an ``flock`` when its process
dies, so a lock file left by a killed console (its pid dead) is simply taken
over; only a live holder refuses the start.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO


class DataDirBusy(Exception):
    """Another live console holds the data folder."""

    def __init__(self, shown: str, pid: int | None) -> None:
        self.shown = shown
        self.pid = pid
        holder = f" (pid {pid})" if pid else ""
        super().__init__(f"another dev instance uses {shown}{holder}; stop it, or give this one "
                         "another folder with --data-dir DIR")


class DevLock:
    """Held from :meth:`acquire` until :meth:`release` (or the process's end)."""

    def __init__(self, root: Path, shown: str) -> None:
        self.path = root / "dev.lock"
        self.shown = shown  # the folder as the user named it, for the message
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`DataDirBusy` naming the holder's pid."""
        file = open(self.path, "a+", encoding="ascii")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            text = file.read().strip()
            file.close()
            raise DataDirBusy(self.shown, int(text) if text.isdigit() else None) from None
        file.seek(0)
        file.truncate()
        file.write(f"{os.getpid()}\n")
        file.flush()
        self._file = file

    def release(self) -> None:
        if self._file is not None:
            self._file.truncate(0)
            self._file.close()  # closing drops the flock
            self._file = None


def shown_dir(data_dir: str) -> str:
    """``.mediabot-dev`` as ``./.mediabot-dev``: a relative folder reads as one."""
    if os.path.isabs(data_dir) or data_dir.startswith(("./", "../")):
        return data_dir.rstrip("/") or "/"
    return "./" + data_dir.rstrip("/")
