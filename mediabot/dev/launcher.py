"""Entry of `mediabot dev`: logging, secrets, embedded services, then the console.

The embedded servers start in a thread while the console's heavy imports
(pyrogram's generated TL types take seconds) run, so a newcomer waits for the
slower of the two, not their sum.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

from mediabot.core.config import load_raw
from mediabot.core.logs import setup_logging
from mediabot.dev.lock import DataDirBusy, DevLock, shown_dir
from mediabot.dev.services import EmbeddedServices

ADMIN_ID = 1000  # the console's admin identity (mediabot.dev.console.ADMIN_ID)


def _dev_env(data_dir: Path, base: dict[str, str], config: str | None) -> dict[str, str]:
    env = dict(base)
    # Buttons stay valid across console restarts: keep the secret with the dev data.
    secret_file = data_dir / "callback-secret"
    if not env.get("MEDIABOT_CALLBACK_SECRET"):
        if not secret_file.exists():
            secret_file.write_text(secrets.token_hex(32))
            secret_file.chmod(0o600)
        env["MEDIABOT_CALLBACK_SECRET"] = secret_file.read_text().strip()
    # Plugin files (the search index...) live with the dev data, not beside plugins.toml.
    env.setdefault("MEDIABOT__RUNTIME__DATA_DIR", json.dumps(str(data_dir / "data")))
    admins = list(load_raw(config, env).section("bot").admins)
    if ADMIN_ID not in admins:
        env["MEDIABOT__BOT__ADMINS"] = "[" + ", ".join(str(a) for a in [*admins, ADMIN_ID]) + "]"
    return env


def main_dev(config: str | None, demo: bool, script: str | None, data_dir: str,
             base_env: dict[str, str], *, mongo_envs: tuple[str, ...] = ()) -> int:
    """Run the console; returns the process exit code.

    :param mongo_envs: environment variables to set to the URI of one more embedded MongoDB each.
    """
    root = Path(data_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    lock = DevLock(root, shown_dir(data_dir))
    try:
        lock.acquire()  # before any server opens the database files another console has open
    except DataDirBusy as exc:
        print(f"mediabot dev: {exc}", file=sys.stderr)
        return 1
    try:
        return _run(config, demo, script, root, base_env, mongo_envs)
    finally:
        lock.release()


def _run(config: str | None, demo: bool, script: str | None, root: Path, base_env: dict[str, str],
         mongo_envs: tuple[str, ...]) -> int:
    # The terminal is the chat: logs go to a file next to the dev data.
    setup_logging("INFO", "text", stream=open(root / "dev.log", "a", encoding="utf-8"))
    logging.getLogger("mediabot").propagate = False
    env = _dev_env(root, base_env, config)
    services = EmbeddedServices(root, env, extra_mongo=mongo_envs)
    stream: TextIO | None = None
    try:
        with ThreadPoolExecutor(1) as pool:
            started = pool.submit(services.start)
            from mediabot.dev.session import run_console  # heavy: overlaps the servers' start

            services_env = started.result()
            env.update(services_env)
        if script == "-":
            stream = sys.stdin
        elif script:
            stream = open(script, encoding="utf-8")
        return asyncio.run(run_console(config=config, demo=demo, script=stream, env=env,
                                       services_env=services_env, downloads=root / "downloads"))
    finally:
        services.stop()
        if stream is not None and stream is not sys.stdin:
            stream.close()
