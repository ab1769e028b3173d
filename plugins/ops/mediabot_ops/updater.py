"""Signed update and rollback: the updater process behind ``mediabot ops update|rollback``.

The updater is its own process (``mediabot ops update TAG``; ``/update``
starts that command detached), so it outlives the restart it causes:

1. fetch the tag from ``update_remote`` into a hidden directory under ``releases/``;
2. refuse it unless it is an annotated tag object named ``TAG`` whose SSH
   signature git verifies against ``allowed_signers`` (``gpg.format=ssh``);
   a refused tag leaves nothing behind and ``current`` untouched;
3. check it out to ``releases/<tag>``, run ``build_command``,
   ``check_command`` and ``smoke_command`` there (argument lists, never a shell);
4. switch ``current`` atomically, send SIGTERM to the running bot (its pid
   is in ``<data_dir>/plugins/ops/mediabot.pid``): it stops gracefully and the
   supervisor (systemd ``Restart=always``) starts ``current``;
5. wait up to ``ready_timeout`` for a new process to answer ``/readyz`` with
   200; otherwise switch back to the previous release and restart again.

Every step is appended to the audit log. Everything here is blocking: it
runs in the updater's own process, never in the bot's event loop.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mediabot_ops.config import valid_tag
from mediabot_ops.releases import AuditEntry, AuditLog, Pending, ReleaseStore, UpdateBusy, older_than

__all__ = ["UpdateError", "UpdateSettings", "Updater", "read_pid"]

_TAGGER_TIME = re.compile(r"^tagger .* (?P<time>\d+) [+-]\d{4}$", re.MULTILINE)
_GOOD_SIGNATURE = re.compile(r'^Good "git" signature for (?P<principal>\S+) with (?P<key>.+)$', re.MULTILINE)
# user:password@ in a URL never reaches the audit log or a chat message.
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]*@", re.IGNORECASE)
_POLL = 0.2


class UpdateError(Exception):
    """The update or rollback was refused or failed; ``str()`` is the one line an operator reads.

    :param refused: nothing was changed (bad tag, bad signature, unknown tag, busy).
    """

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


@dataclass(frozen=True)
class UpdateSettings:
    """What the updater needs, resolved from ``[plugins.ops]`` and ``[runtime]``.

    :param releases_dir: see ``OpsConfig.releases_dir``.
    :param remote: ``update_remote``.
    :param allowed_signers: ``allowed_signers``.
    :param build: ``build_command``.
    :param check: ``check_command``.
    :param smoke: ``smoke_command``.
    :param step_timeout: seconds per fetch/build/check/smoke step.
    :param ready_timeout: seconds for the restarted bot to be ready.
    :param pid_file: where the running bot writes its pid.
    :param ready_url: its ``/readyz`` (``None``: the HTTP server is off; a live new pid counts as ready).
    :param token: ``MEDIABOT_OPS_TOKEN`` for ``/readyz``.
    :param config_path: the deployment's ``plugins.toml``, given to the commands as ``MEDIABOT_CONFIG``.
    :param audit: the audit log's path.
    :param keep: ``keep_releases``: releases kept on disk after a successful update.
    """

    releases_dir: Path
    remote: str
    allowed_signers: Path
    build: Sequence[str]
    check: Sequence[str]
    smoke: Sequence[str]
    step_timeout: float
    ready_timeout: float
    pid_file: Path
    ready_url: str | None
    audit: Path
    token: str | None = field(default=None, repr=False)
    config_path: Path | None = None
    keep: int = 3


def read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except (FileNotFoundError, OSError):
        return None
    return int(text) if text.isdigit() else None


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def redact(text: str) -> str:
    return _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}***@", text)


class Updater:
    """Applies and rolls back releases for one deployment.

    :param settings: see :class:`UpdateSettings`.
    :param by: who asked, for the audit log (``cli``, ``telegram:<id>``).
    :param echo: where progress lines go (the terminal, or the detached updater's log file).
    """

    def __init__(self, settings: UpdateSettings, *, by: str = "cli",
                 echo: Callable[[str], None] = lambda _line: None) -> None:
        self.settings = settings
        self.store = ReleaseStore(settings.releases_dir)
        self.audit = AuditLog(settings.audit)
        self._by = by
        self._echo = echo

    # -- the two operations -----------------------------------------------------------
    def update(self, tag: str, *, allow_downgrade: bool = False) -> str:
        """Apply ``tag``; returns the summary line. :raises UpdateError:

        A tag older than the current release is refused unless ``allow_downgrade``
        (the owner said so explicitly); an allowed downgrade is recorded in the audit log.
        Ends with an audit line ``done`` holding the summary (the bot tells it to whoever asked).
        """
        return self._concluded("update", lambda: tag, lambda: self._update(tag, allow_downgrade))

    def recover(self) -> str:
        """Finish or undo an update an updater died in the middle of; returns what was done.

        :raises UpdateError: busy (another updater runs), or the undo was not ready either.
        """
        with self._locked("recover", ""):
            return self._recover_interrupted() or "No interrupted update: nothing to do."

    def rollback(self) -> str:
        """Go back one release; returns the summary line. :raises UpdateError:"""
        return self._concluded("rollback", lambda: self.store.current() or "", self._rollback)

    def _concluded(self, action: str, tag: Callable[[], str], run: Callable[[], str]) -> str:
        try:
            summary = run()
        except UpdateError as exc:
            self._note(action, "done", "refused" if exc.refused else "failed", tag(), str(exc))
            raise
        self._note(action, "done", "ok", tag(), summary)
        return summary

    def _update(self, tag: str, allow_downgrade: bool = False) -> str:
        if not valid_tag(tag):
            self._note("update", "validate", "refused", tag, "not a valid tag name")
            raise UpdateError(f"{tag!r} is not a release tag (letters, digits, . _ + -, not starting with - or .)",
                              refused=True)
        with self._locked("update", tag):
            self._recover_interrupted()
            current = self.store.current()
            if tag == current:
                self._note("update", "validate", "refused", tag, "already current")
                raise UpdateError(f"{tag} is already the current release.", refused=True)
            history = self.store.history()
            if tag in history:
                self._note("update", "validate", "refused", tag, "an earlier release")
                raise UpdateError(f"{tag} is an earlier release still in the history; use rollback to go back.",
                                  refused=True)
            self._note("update", "start", "started", tag, f"from {redact(self.settings.remote)}; current {current}")
            release = self._fetch_and_verify(tag, current, allow_downgrade)
            try:
                for step, argv in (("build", self.settings.build), ("check", self.settings.check),
                                   ("smoke", self.settings.smoke)):
                    self._run_step(step, tag, argv, cwd=release)
            except UpdateError:
                shutil.rmtree(release, ignore_errors=True)
                raise
            new_history = [*history, tag] if current is None or (history and history[-1] == current) \
                else [*history, current, tag]
            # Written before the switch: an updater killed from here on leaves it for the next run.
            self.store.set_pending(Pending(tag=tag, previous=current, history=new_history[:-1], pid=os.getpid(),
                                           bot_pid=read_pid(self.settings.pid_file), by=self._by))
            self.store.switch(tag, history=new_history)
            self._note("update", "switch", "ok", tag, f"current -> releases/{tag} (was {current})")
            if self._restart_and_wait("update", tag):
                self._prune(tag)
                self.store.clear_pending()
                return f"{tag} is live and ready (was {current})."
            if current is None:
                self.store.clear_pending()
                self._note("auto-rollback", "rollback", "failed", tag, "no previous release")
                raise UpdateError(f"{tag} was not ready within {self.settings.ready_timeout:g}s and there is "
                                  "no previous release to go back to.")
            self.store.switch(current, history=new_history[:-1])
            self._note("auto-rollback", "switch", "ok", current, f"current -> releases/{current} ({tag} not ready)")
            self.store.clear_pending()
            back = self._restart_and_wait("auto-rollback", current)
            raise UpdateError(f"{tag} was not ready within {self.settings.ready_timeout:g}s: rolled back to "
                              f"{current}" + (" (ready)." if back else ", which is not ready either."))

    def _rollback(self) -> str:
        with self._locked("rollback", ""):
            recovered = self._recover_interrupted()
            if recovered is not None:  # that conclusion is news enough: the owner decides again
                return f"{recovered} Nothing else changed; roll back again to go back one release."
            history = self.store.history()
            current = self.store.current()
            previous = self.store.previous()
            if previous is None:
                self._note("rollback", "validate", "refused", current or "", "no previous release")
                raise UpdateError("There is no previous release to go back to.", refused=True)
            if not self.store.path_of(previous).is_dir():
                self._note("rollback", "validate", "refused", previous, "release directory missing")
                raise UpdateError(f"releases/{previous} is missing; nothing changed.", refused=True)
            self._note("rollback", "start", "started", previous, f"from {current}")
            self.store.switch(previous, history=history[:-1])
            self._note("rollback", "switch", "ok", previous, f"current -> releases/{previous} (was {current})")
            if self._restart_and_wait("rollback", previous):
                return f"Rolled back to {previous} (was {current}); ready."
            raise UpdateError(f"Rolled back to {previous}, but it was not ready within "
                              f"{self.settings.ready_timeout:g}s.")

    def _recover_interrupted(self) -> str | None:
        """Under the lock: conclude the update a dead updater left (see :class:`Pending`).

        ``current`` still on its release: ready now (within ``ready_timeout``)
        means the update did finish; otherwise ``current`` goes back to the
        release before it. :returns: what was done, ``None`` when nothing was pending.
        """
        pending = self.store.pending()
        if pending is None:
            return None
        tag, previous = pending.tag, pending.previous
        current = self.store.current()
        self._note("recover", "start", "started", tag,
                   f"the updater (pid {pending.pid}) of {tag} stopped before it concluded; current is {current}")
        if current != tag:  # it died after switching back: nothing left to undo
            self.store.clear_pending()
            summary = f"The interrupted update to {tag} had already gone back to {current}."
            self._note("recover", "done", "ok", current or "", summary)
            return summary
        if self._wait_ready("recover", tag, not_pid=pending.bot_pid):
            self._prune(tag)
            self.store.clear_pending()
            summary = f"The interrupted update to {tag} is complete: {tag} is live and ready."
            self._note("recover", "done", "ok", tag, summary)
            return summary
        if previous is None or not self.store.path_of(previous).is_dir():
            self.store.clear_pending()
            summary = f"{tag} is not ready and there is no previous release to go back to."
            self._note("recover", "done", "failed", tag, summary)
            raise UpdateError(summary)
        self.store.switch(previous, history=pending.history)
        self.store.clear_pending()
        self._note("recover", "switch", "ok", previous, f"current -> releases/{previous} ({tag} never got ready)")
        if not self._restart_and_wait("recover", previous):
            summary = f"{tag} never got ready: rolled back to {previous}, which is not ready either."
            self._note("recover", "done", "failed", previous, summary)
            raise UpdateError(summary)
        summary = f"{tag} never got ready after an interrupted update: rolled back to {previous} (ready)."
        self._note("recover", "done", "ok", previous, summary)
        return summary

    # -- steps ------------------------------------------------------------------------
    def _prune(self, tag: str) -> None:
        """Keep the current release and the ones before it that rollback can reach, ``keep`` in all.

        The history is cut to the same releases: what it names, rollback can reach,
        and what was removed is a new update again (not "an earlier release").
        """
        keep = set(self.store.history()[-self.settings.keep:]) | {tag}
        try:
            removed = self.store.prune(keep)
        except OSError as exc:  # the update itself succeeded: say so, and what is left on disk
            self._note("update", "prune", "failed", tag, f"{type(exc).__name__}: {exc}")
            return
        self.store.trim_history(self.settings.keep)
        if removed:
            self._note("update", "prune", "ok", tag, "removed " + ", ".join(removed))

    def _fetch_and_verify(self, tag: str, current: str | None, allow_downgrade: bool) -> Path:
        incoming = self.store.incoming(tag)
        try:
            self._git(["init", "--quiet", "--", str(incoming)], step="fetch", tag=tag)
            # ext:: would run a command named in the URL; update_remote is the operator's, but never that.
            fetched = self._git(["-c", "protocol.ext.allow=never", "-C", str(incoming), "fetch", "--quiet", "--no-tags", "--depth=1", "--",
                                 self.settings.remote, f"+refs/tags/{tag}:refs/tags/{tag}"],
                                step="fetch", tag=tag, check=False)
            if fetched.returncode != 0:
                raise self._refuse("fetch", tag, f"tag {tag} not found on {redact(self.settings.remote)}",
                                   _last_line(fetched.stderr))
            self._note("update", "fetch", "ok", tag)
            self._verify(incoming, tag)
            if current is not None:
                self._check_order(incoming, tag, current, allow_downgrade)
            self._git(["-C", str(incoming), "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach",
                       f"refs/tags/{tag}^{{commit}}", "--"], step="checkout", tag=tag)
            return self.store.install(incoming, tag)
        except BaseException:
            shutil.rmtree(incoming, ignore_errors=True)
            raise

    def _verify(self, repo: Path, tag: str) -> None:
        ref = f"refs/tags/{tag}"
        kind = self._git(["-C", str(repo), "cat-file", "-t", ref], step="verify", tag=tag).stdout.strip()
        if kind != "tag":
            raise self._refuse("verify", tag, f"{tag} is a lightweight tag: it carries no signature")
        header = self._git(["-C", str(repo), "cat-file", "tag", ref], step="verify", tag=tag).stdout
        named = next((line[4:] for line in header.splitlines() if line.startswith("tag ")), None)
        if named != tag:
            # A signed tag object of another release re-published under this name.
            raise self._refuse("verify", tag, f"the tag object under {tag} was signed as {named!r}")
        signers = self.settings.allowed_signers
        if not signers.is_file():
            raise self._refuse("verify", tag, f"allowed_signers file {signers} does not exist")
        checked = self._git(["-C", str(repo), "-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={signers}",
                             "verify-tag", "--", tag], step="verify", tag=tag, check=False)
        good = _GOOD_SIGNATURE.search(checked.stderr)
        if checked.returncode != 0 or good is None:
            if "no signature found" in checked.stderr:
                reason = f"{tag} is not signed"
            elif "No principal matched" in checked.stderr or "Good" in checked.stderr:
                reason = f"{tag} is signed by a key that is not in {signers.name}"
            else:
                reason = f"the signature of {tag} does not verify"
            raise self._refuse("verify", tag, reason, _last_line(checked.stderr))
        self._note("update", "verify", "ok", tag, f"signed by {good['principal']} ({good['key']})")

    def _check_order(self, repo: Path, tag: str, current: str, allow_downgrade: bool) -> None:
        """Refuse a release older than ``current`` unless the owner allowed a downgrade (then record it).

        Older by the numbers in the names (``v1.9`` < ``v1.10``); for names without
        numbers, by the signed tags' dates.
        """
        older = older_than(tag, current)
        how = "by version"
        if older is None:
            new_time = self._tagger_time(repo, tag)
            old_time = self._tagger_time(self.store.path_of(current), current)
            older = new_time is not None and old_time is not None and new_time < old_time
            how = "by tag date"
        if not older:
            return
        if not allow_downgrade:
            raise self._refuse("order", tag, f"{tag} is older than the current release {current} ({how}); "
                                             "a downgrade needs --allow-downgrade")
        self._note("update", "downgrade", "ok", tag, f"downgrade from {current} to {tag} ({how}), "
                                                      f"confirmed by {self._by}")

    def _tagger_time(self, repo: Path, tag: str) -> int | None:
        if not (repo / ".git").exists():
            return None
        shown = self._git(["-C", str(repo), "cat-file", "tag", f"refs/tags/{tag}"], step="order", tag=tag,
                          check=False)
        found = _TAGGER_TIME.search(shown.stdout) if shown.returncode == 0 else None
        return int(found["time"]) if found else None

    def _wait_ready(self, action: str, tag: str, *, not_pid: int | None) -> bool:
        """Wait up to ``ready_timeout`` for a bot started on ``current`` to be ready (no restart).

        ``not_pid`` is the bot that ran before the switch: if the updater died before
        restarting it, it still serves the old release, and its readiness does not count.
        """
        deadline = time.monotonic() + self.settings.ready_timeout
        while time.monotonic() < deadline:
            pid = read_pid(self.settings.pid_file)
            if pid != not_pid and _alive(pid) and self._ready():
                self._note(action, "ready", "ok", tag, f"pid {pid} ready")
                return True
            time.sleep(_POLL)
        self._note(action, "ready", "failed", tag, f"not ready within {self.settings.ready_timeout:g}s")
        return False

    def _run_step(self, step: str, tag: str, argv: Sequence[str], *, cwd: Path) -> None:
        program = argv[0]
        if "/" in program and not os.path.isabs(program):
            program = str(cwd / program)  # .venv/bin/mediabot: the release's own
        env = dict(os.environ)
        if self.settings.config_path is not None:
            env["MEDIABOT_CONFIG"] = str(self.settings.config_path)
        self._echo(f"{step}: {' '.join(argv)}")
        try:
            done = subprocess.run([program, *argv[1:]], cwd=cwd, env=env, capture_output=True, text=True,
                                  timeout=self.settings.step_timeout, check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            self._note("update", step, "failed", tag, f"did not finish within {self.settings.step_timeout:g}s")
            raise UpdateError(f"{step} of {tag} did not finish within {self.settings.step_timeout:g}s; "
                              "current is unchanged.") from None
        except OSError as exc:
            self._note("update", step, "failed", tag, f"cannot run {program}: {exc.strerror}")
            raise UpdateError(f"{step} of {tag}: cannot run {program} ({exc.strerror}); current is unchanged.") \
                from None
        if done.returncode != 0:
            last = _last_line(done.stderr) or _last_line(done.stdout)
            self._note("update", step, "failed", tag, f"exit {done.returncode}: {last}")
            raise UpdateError(f"{step} of {tag} failed (exit {done.returncode}: {last}); current is unchanged.")
        self._note("update", step, "ok", tag)

    def _restart_and_wait(self, action: str, tag: str) -> bool:
        """SIGTERM the running bot, then wait for a new process on ``current`` to be ready."""
        old = read_pid(self.settings.pid_file)
        if _alive(old):
            assert old is not None
            os.kill(old, signal.SIGTERM)
            self._note(action, "restart", "ok", tag, f"SIGTERM to pid {old}; the supervisor starts current")
        else:
            self._note(action, "restart", "ok", tag, "no running bot found; the supervisor starts current")
        deadline = time.monotonic() + self.settings.ready_timeout
        while time.monotonic() < deadline:
            pid = read_pid(self.settings.pid_file)
            if not _alive(old) and pid != old and _alive(pid) and self._ready():
                self._note(action, "ready", "ok", tag, f"pid {pid} ready")
                return True
            time.sleep(_POLL)
        self._note(action, "ready", "failed", tag, f"not ready within {self.settings.ready_timeout:g}s")
        return False

    def _ready(self) -> bool:
        url = self.settings.ready_url
        if url is None:
            return True
        request = urllib.request.Request(url)
        if self.settings.token:
            request.add_header("Authorization", f"Bearer {self.settings.token}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError, ValueError):
            return False

    # -- plumbing ---------------------------------------------------------------------
    def _git(self, args: list[str], *, step: str, tag: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        try:
            done = subprocess.run(["git", *args], capture_output=True, text=True, env=env, check=False,
                                  timeout=self.settings.step_timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise self._refuse(step, tag, f"git did not finish within {self.settings.step_timeout:g}s") from None
        if check and done.returncode != 0:
            raise self._refuse(step, tag, f"git failed: {_last_line(done.stderr)}")
        return done

    def _refuse(self, step: str, tag: str, reason: str, detail: str = "") -> UpdateError:
        self._note("update", step, "refused", tag, f"{reason}: {detail}" if detail else reason)
        return UpdateError(f"Refused {tag}: {reason}. Nothing changed.", refused=True)

    def _note(self, action: str, step: str, outcome: str, tag: str, detail: str = "") -> None:
        detail = redact(detail)
        self.audit.append(AuditEntry(time=AuditLog.now(), action=action, step=step, outcome=outcome, tag=tag,
                                     detail=detail, by=self._by))
        self._echo(f"{action} {step}: {outcome}" + (f" ({tag})" if tag else "") + (f" — {detail}" if detail else ""))

    @contextmanager
    def _locked(self, action: str, tag: str) -> Iterator[None]:
        try:
            with self.store.lock():
                yield
        except UpdateBusy as exc:
            self._note(action, "lock", "refused", tag, str(exc))
            raise UpdateError(f"Refused: {exc}.", refused=True) from None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
