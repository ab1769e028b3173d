"""``mediabot broadcast status|pause|resume|cancel`` against a running bot's broadcast."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

ADMIN = 9  # the admin of conftest.deploy


def cli(bot, tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "cli.toml"
    path.write_text("[plugins.broadcast]\nenabled = true\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MEDIABOT")}, **bot.app.env}
    return subprocess.run([sys.executable, "-m", "mediabot", "--config", str(path), "broadcast", *args],
                          capture_output=True, text=True, env=env, timeout=60)


async def run_cli(bot, tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(cli, bot, tmp_path, *args)


async def state(bot) -> str | None:
    job = await bot.plugin("broadcast").store.load()
    return job.state if job else None


async def test_an_operator_follows_pauses_and_resumes_a_broadcast_from_the_shell(
        deploy, audience, start_broadcast, until, tmp_path):
    bot = await deploy()
    idle = await run_cli(bot, tmp_path, "status")
    assert idle.returncode == 0 and idle.stdout.strip() == "No broadcast is running."
    assert (await run_cli(bot, tmp_path, "pause")).returncode == 1
    await audience(bot, 2000)
    await start_broadcast(bot, "Weekend news")
    await bot.send("/broadcast_pause", user=ADMIN)
    assert await state(bot) == "paused"

    shown = await run_cli(bot, tmp_path, "status")
    assert shown.returncode == 0 and shown.stdout.strip()
    again = await run_cli(bot, tmp_path, "pause")
    assert again.returncode == 1 and again.stdout.strip().endswith("is paused.")
    resumed = await run_cli(bot, tmp_path, "resume")
    assert resumed.returncode == 0 and " resumed at " in resumed.stdout, resumed.stdout + resumed.stderr

    async def done() -> bool:
        return await state(bot) == "done"

    await until(done, what="the resumed broadcast ends (a watching bot took it up)")
    report = await run_cli(bot, tmp_path, "status")
    assert report.returncode == 0 and "Sent: " in report.stdout


def test_help_describes_every_subcommand(tmp_path):
    path = tmp_path / "cli.toml"
    path.write_text("[plugins.broadcast]\nenabled = true\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIABOT")}
    shown = subprocess.run([sys.executable, "-m", "mediabot", "--config", str(path), "broadcast", "--help"],
                           capture_output=True, text=True, env=env, timeout=60)
    assert shown.returncode == 0, shown.stderr
    listed = dict(line.split(maxsplit=1) for line in shown.stdout.split("Commands:")[1].strip().splitlines())
    assert set(listed) == {"cancel", "pause", "resume", "status"}
    assert all(len(text) > 10 and not text.endswith("...") for text in listed.values()), listed
