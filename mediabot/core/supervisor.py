"""The task supervisor: the owner of every task the application starts.

Two kinds of tasks:

* **work** — an update handler or a job step. Shutdown waits for work to
  finish, up to a deadline, then cancels what is left and reports it.
* **background** — loops that run for the app's lifetime (queue consumers,
  refreshers). Shutdown cancels them. A background task that crashes is
  logged with its owner and, when ``restart=True``, started again with
  exponential backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["work", "background"]
log = logging.getLogger("mediabot.supervisor")


class SupervisorClosed(RuntimeError):
    """New work was submitted after shutdown began."""


@dataclass
class DrainReport:
    """What happened to in-flight work at shutdown."""

    finished: int = 0
    cancelled: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class _Entry:
    name: str
    owner: str
    kind: Kind
    started: float
    loop: bool = False


class TaskSupervisor:
    """Owns tasks; drains work and cancels background loops at shutdown.

    :param on_crash: called with ``(owner, name, exc)`` when a task fails,
        so the app can count it in metrics.
    :param sleep: how a restarted loop waits out its backoff (the app's
        clock, so a test's virtual clock drives restarts too).
    """

    def __init__(self, on_crash: Callable[[str, str, BaseException], None] | None = None, *,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._sleep = sleep
        self._tasks: dict[asyncio.Task[Any], _Entry] = {}
        self._accepting = True
        self._on_crash = on_crash
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def accepting(self) -> bool:
        return self._accepting

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str, owner: str = "kernel",
              kind: Kind = "background") -> asyncio.Task[Any]:
        """Run ``coro`` as a supervised task.

        :raises SupervisorClosed: for ``kind="work"`` after :meth:`close` —
            in-flight work is being drained and no new work starts.
        """
        if kind == "work" and not self._accepting:
            coro.close()
            raise SupervisorClosed(f"not accepting new work ({name})")
        task = asyncio.get_running_loop().create_task(coro, name=f"{owner}:{name}")
        self._tasks[task] = _Entry(name, owner, kind, time.monotonic())
        if kind == "work":
            self._idle.clear()
        task.add_done_callback(self._done)
        return task

    def spawn_loop(self, factory: Callable[[], Awaitable[None]], *, name: str, owner: str = "kernel",
                   restart: bool = True, max_backoff: float = 30.0) -> asyncio.Task[Any]:
        """Run ``factory()`` for the app's lifetime, restarting it after a crash.

        :param factory: makes the loop's coroutine; called again for each restart.
        :param restart: start it again after it raises (not after it returns).
        :param max_backoff: the longest wait between restarts; waits start at
            0.5 s and double after each crash.
        """

        async def forever() -> None:
            backoff = 0.5
            while True:
                try:
                    await factory()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.error("background task %s of %s crashed: %s", name, owner, exc, exc_info=exc)
                    if self._on_crash:
                        self._on_crash(owner, name, exc)
                    if not restart:
                        return
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, max_backoff)

        task = self.spawn(forever(), name=name, owner=owner, kind="background")
        self._tasks[task].loop = True
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        entry = self._tasks.pop(task, None)
        if entry is None:
            return
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("task %s of %s failed: %s", entry.name, entry.owner, exc, exc_info=exc)
            if self._on_crash:
                self._on_crash(entry.owner, entry.name, exc)
        if not any(e.kind == "work" for e in self._tasks.values()):
            self._idle.set()

    def running(self, kind: Kind | None = None) -> list[str]:
        """Names (``owner:name``) of running tasks, optionally of one kind."""
        return [f"{e.owner}:{e.name}" for e in self._tasks.values() if kind in (None, e.kind)]

    def close(self) -> None:
        """Stop accepting new work (in-flight work continues)."""
        self._accepting = False

    async def wait_idle(self) -> None:
        """Wait until no work task is running (including work started as other work ended)."""
        while True:
            await self._idle.wait()
            # A finished task's callbacks may start waiting work (admission): idle only if it stays so.
            await asyncio.sleep(0)
            if self._idle.is_set():
                return

    async def drain(self, deadline: float) -> DrainReport:
        """Wait up to ``deadline`` seconds for work to finish; cancel the rest."""
        self.close()
        start = time.monotonic()
        work = [t for t, e in self._tasks.items() if e.kind == "work"]
        report = DrainReport()
        if work:
            done, pending = await asyncio.wait(work, timeout=max(deadline, 0))
            report.finished = len(done)
            for task in pending:
                entry = self._tasks.get(task)
                report.cancelled.append(f"{entry.owner}:{entry.name}" if entry else task.get_name())
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5)
        report.seconds = time.monotonic() - start
        return report

    async def cancel_owner(self, owner: str, timeout: float = 5.0) -> list[str]:
        """Cancel the loops (:meth:`spawn_loop`) of ``owner``; return the names that did not stop in time.

        The app calls it for each plugin just before that plugin's
        ``mediabot_shutdown``, so a shutdown hook never races its own loops.
        Other background tasks (:meth:`spawn`) are cancelled last, after every
        shutdown hook: a task that closes clients in its ``finally`` keeps them
        open for the hooks.
        """
        return await _cancel([t for t, e in self._tasks.items() if e.owner == owner and e.loop], timeout)

    async def cancel_background(self, timeout: float = 5.0) -> list[str]:
        """Cancel every remaining task; return the names that did not stop in time."""
        return await _cancel(list(self._tasks), timeout)


async def _cancel(tasks: list[asyncio.Task[Any]], timeout: float) -> list[str]:
    """Cancel ``tasks``, wait up to ``timeout``; the names of those still running."""
    for task in tasks:
        task.cancel()
    if not tasks:
        return []
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    return [t.get_name() for t in pending]
