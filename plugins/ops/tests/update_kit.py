"""A deployment to update, made in the test: SSH keys, a signed git remote, a fake supervisor.

- ``good`` signs the releases (its key is in ``allowed_signers``); ``evil`` is a key nobody trusts.
- The remote holds ``v1``, ``v2``, ``v4`` (signed, working), ``v3`` (signed, but its bot
  exits at start), ``unsigned`` (annotated, no signature), ``evil`` (signed by
  the unknown key), ``light`` (a lightweight tag) and ``alias`` (v2's signed
  tag object re-published under another name).
- Each release's ``app.py`` stands in for ``mediabot run``: it writes its pid
  where ops writes the bot's, serves ``/readyz`` (200 with the release's name)
  on ops' ``listen`` port, and stops on SIGTERM.
- The fake supervisor does what systemd's ``Restart=always`` does: it starts
  ``current/app.py``, and again whenever it exits.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

APP = '''\
import http.server, json, os, pathlib, signal, sys, threading
if "--smoke" in sys.argv:
    sys.exit(0)
BROKEN = {broken}
if BROKEN:
    sys.exit(1)
release = pathlib.Path.cwd().name

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({{"release": release, "pid": os.getpid()}}).encode()
        self.send_response(200 if self.path == "/readyz" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = http.server.HTTPServer(("127.0.0.1", int(os.environ["FAKE_PORT"])), Handler)
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
pid_file = pathlib.Path(os.environ["FAKE_PID_FILE"])
pid_file.parent.mkdir(parents=True, exist_ok=True)
tmp = pid_file.with_name(".pid-tmp-%d" % os.getpid())
tmp.write_text("%d\\n" % os.getpid())
os.replace(tmp, pid_file)
server.serve_forever()
'''

SUPERVISOR = '''\
import os, pathlib, subprocess, sys, time
root = pathlib.Path(sys.argv[1])
stop = root / "stop-supervisor"
while not stop.exists():
    current = root / "current"
    if not current.exists():
        time.sleep(0.05)
        continue
    child = subprocess.Popen([sys.executable, "app.py"], cwd=os.path.realpath(current))
    while child.poll() is None:
        if stop.exists():
            child.terminate()
            child.wait()
            sys.exit(0)
        time.sleep(0.05)
    time.sleep(0.3)  # RestartSec
'''

# Stand-ins for `uv sync --frozen`, `mediabot config check` and the smoke start: the
# updater runs them the same way (argument lists, in the release, MEDIABOT_CONFIG set).
BUILD = [sys.executable, "-c", "import pathlib; pathlib.Path('built').write_text('ok')"]
CHECK = [sys.executable, "-c", "import os, sys; sys.exit(0 if os.path.isfile(os.environ['MEDIABOT_CONFIG']) else 3)"]
SMOKE = [sys.executable, "app.py", "--smoke"]
READY_TIMEOUT = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _git(*args: str, cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=60)


@dataclass
class Deployment:
    root: Path
    config: Path
    releases: Path
    data: Path
    remote: Path
    port: int
    env: dict[str, str]
    supervisor: subprocess.Popen | None = None

    @property
    def pid_file(self) -> Path:
        return self.data / "plugins" / "ops" / "mediabot.pid"

    @property
    def audit_file(self) -> Path:
        return self.data / "plugins" / "ops" / "audit.jsonl"

    def mediabot(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mediabot", "--config", str(self.config), *args],
                              capture_output=True, text=True, env=self.env, cwd=self.root, timeout=120,
                              check=False)

    def current(self) -> str | None:
        link = self.releases / "current"
        return os.readlink(link) if link.is_symlink() else None

    def release_dirs(self) -> list[str]:
        path = self.releases / "releases"
        return sorted(p.name for p in path.iterdir()) if path.is_dir() else []

    def audit(self) -> list[dict]:
        if not self.audit_file.exists():
            return []
        return [json.loads(line) for line in self.audit_file.read_text().splitlines()]

    def serving(self) -> dict | None:
        """What the running (fake) bot answers on /readyz, or ``None``."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            return None

    def start_supervisor(self) -> None:
        env = {**self.env, "FAKE_PORT": str(self.port), "FAKE_PID_FILE": str(self.pid_file)}
        script = self.root / "supervisor.py"
        script.write_text(SUPERVISOR)
        self.supervisor = subprocess.Popen([sys.executable, str(script), str(self.releases)], env=env,
                                           start_new_session=True)

    def stop_supervisor(self) -> None:
        if self.supervisor is None:
            return
        try:
            (self.releases / "stop-supervisor").touch()
            self.supervisor.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(self.supervisor.pid, signal.SIGKILL)  # its own session: the bot stand-in goes too
            self.supervisor.wait()


def make_deployment(root: Path) -> Deployment:
    home = root / "home"
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "Release", "GIT_AUTHOR_EMAIL": "release@example.org",
           "GIT_COMMITTER_NAME": "Release", "GIT_COMMITTER_EMAIL": "release@example.org"}
    keys = root / "keys"
    keys.mkdir()
    for name in ("good", "evil"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(keys / name)],
                       check=True, capture_output=True, timeout=60)
    signers = root / "allowed_signers"
    signers.write_text(f'release@example.org namespaces="git" {(keys / "good.pub").read_text().strip()}\n')
    remote = root / "remote.git"
    _git("init", "--quiet", "--bare", str(remote), cwd=root, env=env)
    work = root / "work"
    _git("init", "--quiet", str(work), cwd=root, env=env)

    def tag(name: str, *, key: str | None, broken: bool = False, annotated: bool = True) -> None:
        (work / "app.py").write_text(APP.format(broken=broken))
        (work / "VERSION").write_text(name)
        # The release's own `mediabot` (what `uv sync` makes): this venv's, for the default smoke command.
        venv_bin = work / ".venv" / "bin"
        venv_bin.mkdir(parents=True, exist_ok=True)
        if not (venv_bin / "mediabot").is_symlink():
            (venv_bin / "mediabot").symlink_to(Path(sys.prefix) / "bin" / "mediabot")
        _git("add", ".", cwd=work, env=env)
        _git("commit", "--quiet", "-m", f"release {name}", cwd=work, env=env)
        if key is not None:
            _git("-c", "gpg.format=ssh", "-c", f"user.signingkey={keys / key}", "tag", "-s", name, "-m", name,
                 cwd=work, env=env)
        elif annotated:
            _git("tag", "-a", name, "-m", name, cwd=work, env=env)
        else:
            _git("tag", name, cwd=work, env=env)

    tag("v1", key="good")
    tag("v2", key="good")
    tag("v3", key="good", broken=True)
    tag("v4", key="good")
    tag("unsigned", key=None)
    tag("evil", key="evil")
    tag("light", key=None, annotated=False)
    # v2's genuinely signed tag object, published again under another name.
    _git("update-ref", "refs/tags/alias", "refs/tags/v2", cwd=work, env=env)
    _git("push", "--quiet", str(remote), "--tags", cwd=work, env=env)

    port = free_port()
    data = root / "data"
    releases = root / "srv"
    releases.mkdir()
    config = root / "plugins.toml"
    config.write_text(f"""\
[runtime]
data_dir = "{data}"

[plugins.ops]
enabled = true
listen = "127.0.0.1:{port}"
releases_dir = "{releases}"
update_remote = "{remote}"
allowed_signers = "{signers}"
build_command = {json.dumps(BUILD)}
check_command = {json.dumps(CHECK)}
smoke_command = {json.dumps(SMOKE)}
ready_timeout = {READY_TIMEOUT}
step_timeout = 60
""")
    return Deployment(root=root, config=config, releases=releases, data=data, remote=remote, port=port, env=env)


def wait_for(condition, what: str, deadline: float = 30.0):
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        answer = condition()
        if answer:
            return answer
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
