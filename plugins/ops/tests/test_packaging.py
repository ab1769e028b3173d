"""The container files, checked without a container daemon: Dockerfile, .dockerignore, compose.yaml.

PyYAML is not a dependency: compose.yaml is read with a small parser of
the block-style subset it is written in (mappings, lists, scalars, flow
lists of strings); a construct outside that subset fails the test loudly.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
SECRET_NAME = re.compile(r"MEDIABOT_\w*(TOKEN|SECRET|API_HASH|API_ID|PASSWORD)|_URI$|_URL$")


def dockerfile() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    joined, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    out = []
    for line in joined:
        instruction, _, args = line.strip().partition(" ")
        out.append((instruction.upper(), args.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction, args in dockerfile():
        if instruction == "FROM":
            found.append([])
        found[-1].append((instruction, args))
    return found


def env_names(args: str) -> list[str]:
    return [item.split("=", 1)[0] for item in shlex.split(args)]


def _scalar(text: str) -> Any:
    text = text.strip()
    if text.startswith("["):
        return json.loads(text)
    if text.startswith(("'", '"')):
        return json.loads(text) if text.startswith('"') else text[1:-1]
    return text


def parse_yaml(text: str) -> Any:
    """The block-style YAML subset compose.yaml uses."""
    lines = [(len(raw) - len(raw.lstrip(" ")), raw.strip()) for raw in text.splitlines()
             if raw.strip() and not raw.lstrip().startswith("#")]

    def block(i: int, indent: int) -> tuple[Any, int]:
        if lines[i][1].startswith("- "):
            items = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
                items.append(_scalar(lines[i][1][2:]))
                i += 1
            return items, i
        mapping: dict[str, Any] = {}
        while i < len(lines) and lines[i][0] == indent:
            key, sep, rest = lines[i][1].partition(":")
            assert sep, f"not a mapping line: {lines[i][1]!r}"
            i += 1
            if rest.strip():
                mapping[key] = _scalar(rest)
            elif i < len(lines) and lines[i][0] > indent:
                mapping[key], i = block(i, lines[i][0])
            else:
                mapping[key] = None
        assert i == len(lines) or lines[i][0] < indent, f"bad indentation at {lines[i][1]!r}"
        return mapping, i

    value, end = block(0, 0)
    assert end == len(lines)
    return value


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return parse_yaml((ROOT / "compose.yaml").read_text())


def test_the_image_is_built_in_stages_from_the_lockfile_with_frozen_sync():
    built = stages()
    assert len(built) >= 2
    runs = [args for instruction, args in built[0] if instruction == "RUN"]
    assert any(re.search(r"\buv sync\b.*--frozen", r) for r in runs)
    assert any("--no-dev" in r for r in runs)  # no test tools in the image
    final = built[-1]
    assert any(instruction == "COPY" and args.startswith("--from=build") for instruction, args in final)
    assert not any(instruction == "RUN" and "uv " in args for instruction, args in final)  # no build tool at run time


def test_the_bot_runs_as_an_unprivileged_user():
    final = stages()[-1]
    users = [args for instruction, args in final if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    cmd_at = max(i for i, (instruction, _) in enumerate(final) if instruction == "CMD")
    user_at = max(i for i, (instruction, _) in enumerate(final) if instruction == "USER")
    assert user_at < cmd_at


def test_the_data_directory_is_a_volume_and_the_bot_uses_it():
    final = stages()[-1]
    volumes = [json.loads(args) for instruction, args in final if instruction == "VOLUME"]
    assert ["/data"] in volumes
    env = {}
    for instruction, args in final:
        if instruction == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(args))
    assert env["MEDIABOT__RUNTIME__DATA_DIR"] == "/data"


def test_the_healthcheck_asks_healthz_with_python_not_curl():
    checks = [args for instruction, args in stages()[-1] if instruction == "HEALTHCHECK"]
    assert len(checks) == 1
    command = json.loads(checks[0].split("CMD", 1)[1].strip())
    assert command[0] == "python" and "curl" not in checks[0]
    assert "http://127.0.0.1:9464/healthz" in command[-1]


def test_no_secret_is_baked_into_the_image_or_its_build_context():
    for instruction, args in dockerfile():
        if instruction in ("ENV", "ARG"):
            names = env_names(args)
            assert not [n for n in names if SECRET_NAME.search(n)], args
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and ".git" in ignored and ".venv" in ignored


def test_compose_runs_mongodb_redis_and_the_bot_with_secrets_from_an_env_file(compose):
    services = compose["services"]
    assert set(services) == {"mongo", "redis", "bot"}
    bot = services["bot"]
    assert bot["build"] == "."
    assert bot["env_file"] == [".env"]
    assert not [n for n in bot.get("environment", {}) if SECRET_NAME.search(n) and "REDIS" not in n
                and "MONGO" not in n]
    for name, value in bot["environment"].items():  # service addresses only: no password in a URL
        assert "@" not in value, name
    assert "bot-data:/data" in bot["volumes"]
    assert bot["restart"] == "unless-stopped"  # the bot's graceful exit after /restart is restarted
    assert set(bot["depends_on"]) == {"mongo", "redis"}
    assert set(compose["volumes"]) >= {"bot-data", "mongo-data", "redis-data"}
