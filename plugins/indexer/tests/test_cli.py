"""``mediabot index``: the operator queues a job from a shell and watches a running bot do it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from mediabot_indexer import IndexerPlugin

from mediabot.core.clock import MonotonicClock
from mediabot.testing.tl import FakeFile

ARCHIVE = -1001555000222


async def test_the_cli_queues_a_job_that_the_running_bot_does_and_shows_progress(
        make_bot, tmp_path, redis_url, redis_prefix, mongo_uri, mongo_db_name) -> None:
    bot = await make_bot(plugins=[IndexerPlugin], config="[plugins.indexer]\njob_poll = 0.1\n", admins=[1],
                         clock=MonotonicClock())
    bot.fake.add_chat(ARCHIVE, "channel", title="Shelf", username="the_shelf")
    for i in range(1, 301):
        await bot.fake.chats.add(ARCHIVE, from_id=None, out=False, text="",
                                 media=bot.fake.world.media(FakeFile(file_name=f"Shelf.{i}.mkv")))
    config = tmp_path / "cli.toml"
    config.write_text("[plugins.indexer]\nenabled = true\n")
    env = {**os.environ, "MEDIABOT_REDIS_URL": redis_url, "MEDIABOT_MONGO_URI": mongo_uri,
           "MEDIABOT__REDIS__KEY_PREFIX": redis_prefix, "MEDIABOT__MONGO__DATABASE": mongo_db_name}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mediabot", "--config", str(config), "index", "@the_shelf", "--every", "0.2",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode()
    assert proc.returncode == 0, (text, err.decode())
    assert text.startswith("queued job ")
    assert "done 100% ids 300/300 · indexed 300" in text
    assert await bot.app.files.count({"chat_id": ARCHIVE}) == 300


def test_in_a_terminal_the_cli_shows_the_job_as_a_progress_bar():
    import io

    from mediabot_indexer.cli import _Bar
    from mediabot_indexer.jobstore import Job
    from rich.console import Console
    from rich.progress import Progress

    out = io.StringIO()
    with Progress(console=Console(file=out, force_terminal=True, width=120)) as bar:
        show = _Bar(bar)
        show(Job(id="a1b2c3", ref="@films", chat_id=-1001, title="Films", from_id=1, to_id=400, next_id=101,
                 state="running", indexed=90, duplicates=3))
        task = bar.tasks[0]
        assert (task.completed, task.total) == (100, 400)
        assert "job a1b2c3 running · indexed 90 · duplicates 3" in task.description


def test_ids_beyond_telegrams_32_bits_are_refused_before_anything_is_queued(tmp_path) -> None:
    config = tmp_path / "cli.toml"
    config.write_text("[plugins.indexer]\nenabled = true\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIABOT")}
    done = subprocess.run([sys.executable, "-m", "mediabot", "--config", str(config), "index", "@the_shelf", "1",
                           "99999999999"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2 and "queued" not in done.stdout
    assert "Invalid value for '[TO_ID]': 99999999999 is not in the range 1<=x<=2147483647." in done.stderr
