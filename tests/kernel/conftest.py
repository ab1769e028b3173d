"""Helpers for kernel tests: plugin distributions "installed" into a temp dir, and CLI runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    """A directory on a subprocess's ``sys.path`` where test distributions live."""
    d = tmp_path / "site"
    d.mkdir()
    return d


@pytest.fixture
def make_dist(site_dir: Path) -> Callable[..., Path]:
    """Write an installed distribution: its modules plus a ``*.dist-info`` with entry points.

    That is exactly what an installer leaves behind, so ``importlib.metadata``
    discovers it like any pip-installed plugin.
    """

    def make(dist: str, modules: dict[str, str], plugins: dict[str, str], version: str = "1.0") -> Path:
        for mod, source in modules.items():
            (site_dir / f"{mod}.py").write_text(textwrap.dedent(source))
        info = site_dir / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        eps = "\n".join(f"{n} = {target}" for n, target in plugins.items())
        (info / "entry_points.txt").write_text(f"[mediabot.plugins]\n{eps}\n")
        return site_dir

    return make


@pytest.fixture
def run_cli(site_dir: Path, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m mediabot ...`` in a subprocess with the test site dir importable."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items()
                    if not k.startswith("MEDIABOT")}
        full_env["PYTHONPATH"] = os.pathsep.join([str(site_dir), full_env.get("PYTHONPATH", "")])
        full_env.update(env or {})
        return subprocess.run([sys.executable, "-m", "mediabot", *args], capture_output=True, text=True,
                              env=full_env, cwd=cwd or tmp_path, timeout=timeout)

    return run


GREETER = '''
import msgspec
from mediabot import Command, PluginMeta, hookimpl

class GreeterConfig(msgspec.Struct, forbid_unknown_fields=True):
    """:param greeting: what to say."""
    greeting: str = "hello"

class Greeter:
    meta = PluginMeta(name="greeter", description="Says hello.", config=GreeterConfig)

    def __init__(self, ctx):
        self.config = ctx.config

    async def hello(self, ctx):
        pass

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="hello", description="Say hello", handler=self.hello)]

    @hookimpl
    def mediabot_cli(self, cli):
        import click

        @cli.command("greet")
        def greet():
            """Print the greeting."""
            click.echo(f"greeter says {self.config.greeting}")
'''


@pytest.fixture
def greeter_source() -> str:
    """A complete third-party plugin module: config, a command, a CLI subcommand."""
    return GREETER



@pytest.fixture
def guide_block() -> Callable[..., str]:
    """``guide_block(marker, lang="python")``: the first fenced block after ``<!-- marker -->`` in docs/plugins.md.

    Tests run the guide's examples as written, not copies of them.
    """
    import re

    guide = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"

    def find(marker: str, lang: str = "python") -> str:
        text = guide.read_text()
        at = text.index(f"<!-- {marker} -->")
        m = re.compile(rf"```{lang}\n(.*?)```", re.S).search(text, at)
        assert m is not None, f"no ```{lang} block after <!-- {marker} --> in {guide}"
        return m.group(1)

    return find
