"""docs/plugins.md's install steps, run as written in a throwaway deployment project.

The guide once said ``uv pip install -e examples/hello``, which the next
``uv sync`` silently undoes. The documented way (``uv add --editable``) is
recorded in the project's pyproject.toml and uv.lock and survives syncs; this
test runs it, and shows the old way is undone.

uv resolves from its cache when it can and from PyPI when the cache lacks
the index pages a new project needs (a fresh machine). Without ``uv`` on the
PATH the test is skipped (CI installs it first).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "plugins.md").read_text()
UV = shutil.which("uv")

pytestmark = pytest.mark.skipif(UV is None, reason="uv is not installed")


def documented_steps() -> list[str]:
    """The commands of the guide's install block, in order (``$ `` lines)."""
    block = re.search(r"<!-- install:begin -->\n```console\n(.*?)```\n<!-- install:end -->", GUIDE, re.S)
    assert block is not None, "docs/plugins.md lost its install block"
    return [line[2:].split("  #")[0].strip() for line in block.group(1).splitlines() if line.startswith("$ ")]


def uv(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    assert UV is not None
    # From uv's cache when it holds everything (a developer's machine); a fresh
    # machine's cache has the wheels `uv sync --frozen` fetched but not the index
    # pages a new project's resolution reads, so uv then asks PyPI, as it would
    # for an operator following the guide.
    offline = subprocess.run([UV, *args], cwd=project, capture_output=True, text=True,
                             env={**env, "UV_OFFLINE": "1"}, timeout=300)
    if offline.returncode == 0 or "network was disabled" not in offline.stderr:
        return offline
    return subprocess.run([UV, *args], cwd=project, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def deployment(tmp_path: Path) -> Path:
    """A deployment project that depends on this checkout of mediabot, and a copy of the example plugin."""
    shutil.copytree(ROOT / "examples" / "hello", tmp_path / "mediabot-hello",
                    ignore=shutil.ignore_patterns("tests", "__pycache__"))
    project = tmp_path / "mybot"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "mybot"\nversion = "0.1.0"\nrequires-python = ">=3.11"\ndependencies = ["mediabot"]\n\n'
        f'[tool.uv.sources]\nmediabot = {{ path = "{ROOT}", editable = true }}\n')
    assert uv(project, "sync").returncode == 0
    return project


def listed(project: Path) -> list[str]:
    result = uv(project, "run", "mediabot", "plugins")
    assert result.returncode == 0, result.stderr
    return [line.split()[0] for line in result.stdout.splitlines()[1:] if line and not line.startswith(" ")]


def test_the_documented_install_survives_the_next_sync(deployment):
    steps = documented_steps()
    assert steps == ["uv add --editable ../mediabot-hello", "uv sync", "uv run mediabot plugins"]
    for step in steps:
        result = uv(deployment, *step.split()[1:])
        assert result.returncode == 0, (step, result.stderr)
    assert "hello" in listed(deployment)
    assert 'mediabot-hello = { path = "../mediabot-hello", editable = true }' in (
        deployment / "pyproject.toml").read_text()
    assert uv(deployment, "sync").returncode == 0  # once more: still there
    assert "hello" in listed(deployment)


def test_uv_pip_install_is_undone_by_the_next_sync(deployment):
    """Why the guide no longer says ``uv pip install -e``."""
    assert uv(deployment, "pip", "install", "-e", "../mediabot-hello").returncode == 0
    assert "hello" in listed(deployment)
    assert uv(deployment, "sync").returncode == 0
    assert "hello" not in listed(deployment)


def test_the_guides_steps_add_the_smallest_plugin_to_a_clone_of_this_repository(tmp_path, guide_block):
    """"The smallest plugin" in a copy of this checkout: workspace member, ``uv add --dev``, enabled, listed."""
    clone = tmp_path / "clone"
    shutil.copytree(ROOT, clone, ignore=shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".mediabot-dev", "data"))
    member = clone / "plugins" / "ping"
    (member / "mediabot_ping").mkdir(parents=True)
    (member / "pyproject.toml").write_text(textwrap.dedent(guide_block("clone-pyproject", "toml")))
    (member / "mediabot_ping" / "__init__.py").write_text(guide_block("smallest-plugin"))
    (clone / "plugins.toml").write_text(textwrap.dedent(guide_block("clone-enable", "toml")))
    step = "uv add --dev mediabot-ping"
    assert f"`{step}`" in GUIDE
    added = uv(clone, *step.split()[1:])
    assert added.returncode == 0, added.stderr
    listed = uv(clone, "run", "mediabot", "plugins")
    assert listed.returncode == 0, listed.stderr
    [row] = [line.split() for line in listed.stdout.splitlines() if line.startswith("ping ")]
    assert row[:5] == ["ping", "mediabot-ping", "0.1.0", "yes", "third-party"] and "/ping" in row, listed.stdout
    # Recorded in the root project, so the next plain sync keeps it.
    assert '"mediabot-ping"' in (clone / "pyproject.toml").read_text()
    assert uv(clone, "sync").returncode == 0
    assert "ping " in uv(clone, "run", "mediabot", "plugins").stdout
