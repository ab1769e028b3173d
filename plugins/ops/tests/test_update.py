"""Signed update and rollback, end to end: ``mediabot ops update|rollback|releases`` against a
signed git remote, with a fake supervisor restarting the bot stand-in on ``current``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mediabot_ops.releases import ReleaseStore
from update_kit import Deployment, make_deployment, wait_for

OK_STEPS = ["start", "fetch", "verify", "build", "check", "smoke", "switch", "restart", "ready", "done"]


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    dep = make_deployment(tmp_path)
    dep.start_supervisor()
    try:
        yield dep
    finally:
        dep.stop_supervisor()


def _steps(dep: Deployment, tag: str, action: str = "update") -> list[tuple[str, str]]:
    return [(e["step"], e["outcome"]) for e in dep.audit() if e["tag"] == tag and e["action"] == action]


def _bootstrap(dep: Deployment) -> dict:
    """The first release: nothing runs yet; the supervisor starts it once `current` exists."""
    result = dep.mediabot("ops", "update", "v1")
    assert result.returncode == 0, result.stderr
    serving = dep.serving()
    assert serving is not None and serving["release"] == "v1"
    return serving


def test_a_signed_tag_is_verified_built_switched_and_the_bot_restarts_on_it(deployment):
    dep = deployment
    before = _bootstrap(dep)
    result = dep.mediabot("ops", "update", "v2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "v2 is live and ready (was v1)."
    assert dep.current() == "releases/v2"
    assert (dep.releases / "releases" / "v2" / "built").read_text() == "ok"
    serving = dep.serving()
    assert serving["release"] == "v2" and serving["pid"] != before["pid"]  # a new process, on the new release
    assert _steps(dep, "v2") == [(step, "started" if step == "start" else "ok") for step in OK_STEPS]
    assert dep.audit()[-1]["detail"] == "v2 is live and ready (was v1)."  # the summary, for the owner
    verified = next(e for e in dep.audit() if e["tag"] == "v2" and e["step"] == "verify")
    assert verified["detail"].startswith("signed by release@example.org (ED25519 key SHA256:")
    assert all(e["by"] == "cli" for e in dep.audit())


@pytest.mark.parametrize(("tag", "reason"), [
    ("unsigned", "Refused unsigned: unsigned is not signed. Nothing changed."),
    ("evil", "Refused evil: evil is signed by a key that is not in allowed_signers. Nothing changed."),
    ("light", "Refused light: light is a lightweight tag: it carries no signature. Nothing changed."),
    ("alias", "Refused alias: the tag object under alias was signed as 'v2'. Nothing changed."),
    ("v9", "Refused v9: tag v9 not found on "),
])
def test_unsigned_wrongly_signed_and_unknown_tags_are_refused_and_change_nothing(deployment, tag, reason):
    dep = deployment
    before = _bootstrap(dep)
    result = dep.mediabot("ops", "update", tag)
    assert result.returncode == 1
    assert reason in result.stderr
    assert dep.current() == "releases/v1"
    assert dep.release_dirs() == ["v1"]  # nothing fetched is left behind, not even hidden
    assert dep.serving() == before  # the same process: no restart
    assert _steps(dep, tag)[-1][1] == "refused"


@pytest.mark.parametrize("tag", ["--upload-pack=touch pwned", "-v1", "../v1", ".hidden", "v1.lock"])
def test_a_tag_name_that_could_be_an_option_or_a_path_is_refused_before_git_runs(deployment, tag):
    dep = deployment
    result = dep.mediabot("ops", "update", "--", tag)
    assert result.returncode == 1
    assert "is not a release tag" in result.stderr
    assert dep.current() is None and dep.release_dirs() == []
    assert not (dep.root / "pwned").exists()
    assert [(e["step"], e["outcome"]) for e in dep.audit()] == [("validate", "refused"), ("done", "refused")]


def test_a_release_that_never_gets_ready_is_rolled_back_by_the_updater(deployment):
    dep = deployment
    _bootstrap(dep)
    assert dep.mediabot("ops", "update", "v2").returncode == 0
    result = dep.mediabot("ops", "update", "v3")  # signed and built, but its bot exits at start
    assert result.returncode == 1
    assert "v3 was not ready within 10s: rolled back to v2 (ready)." in result.stderr
    assert dep.current() == "releases/v2"
    assert dep.serving()["release"] == "v2"
    assert _steps(dep, "v3")[-3:] == [("restart", "ok"), ("ready", "failed"), ("done", "failed")]
    assert _steps(dep, "v2", "auto-rollback") == [("switch", "ok"), ("restart", "ok"), ("ready", "ok")]
    shown = dep.mediabot("ops", "releases")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "Current: v2" and lines[1] == "History: v2, v1"


def test_rollback_returns_to_the_previous_release_and_then_has_nowhere_to_go(deployment):
    dep = deployment
    _bootstrap(dep)
    assert dep.mediabot("ops", "update", "v2").returncode == 0
    result = dep.mediabot("ops", "rollback")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Rolled back to v1 (was v2); ready."
    assert dep.current() == "releases/v1"
    assert dep.serving()["release"] == "v1"
    assert _steps(dep, "v1", "rollback") == [("start", "started"), ("switch", "ok"), ("restart", "ok"),
                                            ("ready", "ok"), ("done", "ok")]
    again = dep.mediabot("ops", "rollback")
    assert again.returncode == 1
    assert "There is no previous release to go back to." in again.stderr
    assert dep.current() == "releases/v1"


def test_a_release_whose_build_fails_is_removed_and_current_is_untouched(deployment):
    dep = deployment
    before = _bootstrap(dep)
    text = dep.config.read_text()
    dep.config.write_text(text.replace('build_command = ', 'build_command = ["false"]\n# was: ', 1))
    result = dep.mediabot("ops", "update", "v2")
    assert result.returncode == 1
    assert "build of v2 failed (exit 1" in result.stderr and "current is unchanged." in result.stderr
    assert dep.current() == "releases/v1"
    assert dep.release_dirs() == ["v1"]
    assert dep.serving() == before
    assert _steps(dep, "v2")[-2:] == [("build", "failed"), ("done", "failed")]


def test_a_second_updater_is_refused_while_one_runs(deployment):
    dep = deployment
    with ReleaseStore(dep.releases).lock():  # what a running updater holds
        result = dep.mediabot("ops", "update", "v1")
    assert result.returncode == 1
    assert "Refused: another update or rollback is running." in result.stderr
    assert dep.current() is None and dep.release_dirs() == []


def test_a_successful_update_removes_releases_older_than_keep_releases(deployment):
    dep = deployment
    dep.config.write_text(dep.config.read_text() + "keep_releases = 2\n")  # [plugins.ops] is the last table
    _bootstrap(dep)
    assert dep.mediabot("ops", "update", "v2").returncode == 0
    assert dep.release_dirs() == ["v1", "v2"]
    (dep.releases / "releases" / ".incoming-v9-dead").mkdir()  # what a fetch that died left

    result = dep.mediabot("ops", "update", "v4")
    assert result.returncode == 0, result.stderr
    assert dep.release_dirs() == ["v2", "v4"]
    [prune] = [e for e in dep.audit() if e["step"] == "prune"]
    assert (prune["outcome"], prune["tag"], prune["detail"]) == ("ok", "v4", "removed .incoming-v9-dead, v1")
    # What is kept is what rollback goes back to.
    assert dep.mediabot("ops", "rollback").returncode == 0
    assert dep.current() == "releases/v2" and dep.serving()["release"] == "v2"


REPOSITORY_CONFIG = Path(__file__).resolve().parents[3] / "plugins.toml"


@pytest.fixture
def full_deployment(tmp_path: Path, redis_url: str, redis_prefix: str, mongo_uri: str,
                    mongo_db_name: str) -> Iterator[Deployment]:
    """The repository's plugins.toml (every builtin plugin) with the updater's settings and the
    default smoke command, on the test servers."""
    import tomllib

    from mediabot.core.tomlout import dumps

    dep = make_deployment(tmp_path)
    data = tomllib.loads(REPOSITORY_CONFIG.read_text())
    own = tomllib.loads(dep.config.read_text())
    del own["plugins"]["ops"]["smoke_command"]  # the default: .venv/bin/mediabot health --offline
    data["runtime"].update(own["runtime"])
    data["plugins"]["ops"] = own["plugins"]["ops"]
    dep.config.write_text(dumps(data))
    dep.env.update({"MEDIABOT_REDIS_URL": redis_url, "MEDIABOT_MONGO_URI": mongo_uri,
                    "MEDIABOT__REDIS__KEY_PREFIX": redis_prefix, "MEDIABOT__MONGO__DATABASE": mongo_db_name})
    dep.start_supervisor()
    try:
        yield dep
    finally:
        dep.stop_supervisor()


def test_the_default_smoke_command_passes_with_every_builtin_plugin_while_the_old_release_runs(full_deployment):
    dep = full_deployment
    before = _bootstrap(dep)
    result = dep.mediabot("ops", "update", "v2")
    assert result.returncode == 0, result.stderr
    assert "smoke: .venv/bin/mediabot health --offline" in result.stderr
    assert dep.serving()["release"] == "v2" and dep.serving()["pid"] != before["pid"]
    assert ("smoke", "ok") in _steps(dep, "v2")


def test_an_older_signed_tag_is_refused_unless_a_downgrade_is_allowed_and_then_it_is_recorded(deployment):
    dep = deployment
    _bootstrap(dep)
    assert dep.mediabot("ops", "update", "v4").returncode == 0
    serving = dep.serving()
    refused = dep.mediabot("ops", "update", "v2")
    assert refused.returncode == 1
    assert ("Refused v2: v2 is older than the current release v4 (by version); a downgrade needs "
            "--allow-downgrade. Nothing changed.") in refused.stderr
    assert dep.current() == "releases/v4" and dep.serving() == serving
    assert dep.release_dirs() == ["v1", "v4"]

    allowed = dep.mediabot("ops", "update", "v2", "--allow-downgrade", "--by", "telegram:7")
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == "v2 is live and ready (was v4)."
    assert dep.serving()["release"] == "v2"
    [downgrade] = [e for e in dep.audit() if e["step"] == "downgrade"]
    assert (downgrade["outcome"], downgrade["tag"], downgrade["by"]) == ("ok", "v2", "telegram:7")
    assert downgrade["detail"] == "downgrade from v4 to v2 (by version), confirmed by telegram:7"


def test_with_keep_releases_2_the_history_names_only_installed_releases(deployment):
    dep = deployment
    dep.config.write_text(dep.config.read_text() + "keep_releases = 2\n")
    _bootstrap(dep)
    assert dep.mediabot("ops", "update", "v2").returncode == 0
    assert dep.mediabot("ops", "update", "v4").returncode == 0
    assert dep.release_dirs() == ["v2", "v4"]
    assert dep.mediabot("ops", "releases").stdout.splitlines()[1] == "History: v4, v2"
    assert dep.mediabot("ops", "rollback").returncode == 0
    again = dep.mediabot("ops", "rollback")  # v1 was removed: nothing to go back to, and it says so
    assert again.returncode == 1 and "There is no previous release to go back to." in again.stderr
    # ...and v1 can be applied again as an update (a downgrade, so it is asked for explicitly).
    result = dep.mediabot("ops", "update", "v1", "--allow-downgrade")
    assert result.returncode == 0, result.stderr
    assert dep.serving()["release"] == "v1"


def _start_updater(dep: Deployment, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mediabot", "--config", str(dep.config), "ops", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dep.env, cwd=dep.root)


def _kill_once(dep: Deployment, updater: subprocess.Popen, tag: str) -> None:
    """SIGKILL the updater while it waits for ``tag`` to get ready."""
    wait_for(lambda: ("restart", "ok") in _steps(dep, tag), f"the updater to restart the bot on {tag}")
    updater.kill()
    updater.wait(timeout=20)


def test_an_updater_killed_while_waiting_for_a_broken_release_is_rolled_back_by_the_next_run(deployment):
    dep = deployment
    _bootstrap(dep)
    assert dep.mediabot("ops", "update", "v2").returncode == 0
    _kill_once(dep, _start_updater(dep, "update", "v3"), "v3")
    assert dep.current() == "releases/v3"  # what the dead updater left: a release that never gets ready

    result = dep.mediabot("ops", "update", "v4")
    assert result.returncode == 0, result.stderr
    recovered = [(e["step"], e["outcome"], e["tag"]) for e in dep.audit() if e["action"] == "recover"]
    assert recovered == [("start", "started", "v3"), ("ready", "failed", "v3"), ("switch", "ok", "v2"),
                         ("restart", "ok", "v2"), ("ready", "ok", "v2"), ("done", "ok", "v2")]
    assert dep.current() == "releases/v4" and dep.serving()["release"] == "v4"
    assert dep.mediabot("ops", "releases").stdout.splitlines()[1] == "History: v4, v2, v1"


def test_an_updater_killed_before_a_good_release_got_ready_is_finished_by_ops_recover(deployment):
    dep = deployment
    _bootstrap(dep)
    os.kill(dep.supervisor.pid, signal.SIGSTOP)  # the restart waits: the updater is still waiting when killed
    try:
        _kill_once(dep, _start_updater(dep, "update", "v2"), "v2")
    finally:
        os.kill(dep.supervisor.pid, signal.SIGCONT)
    result = dep.mediabot("ops", "recover")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "The interrupted update to v2 is complete: v2 is live and ready."
    assert dep.current() == "releases/v2" and dep.serving()["release"] == "v2"
    assert dep.mediabot("ops", "recover").stdout.strip() == "No interrupted update: nothing to do."
