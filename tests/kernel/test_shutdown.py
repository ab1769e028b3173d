"""Graceful shutdown on real signals: drain within the deadline, cancel and report the rest."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from mediabot import Chat, Message, PluginMeta, User, create_app, hookimpl
from mediabot.testing import eventually


class Slow:
    meta = PluginMeta(name="slow", description="handles updates slowly")

    def __init__(self, ctx):
        self.started = asyncio.Event()
        self.finished: list[str] = []
        self.cancelled: list[str] = []

    @hookimpl
    async def mediabot_update(self, update):
        self.started.set()
        try:
            await asyncio.sleep(float(update.text))
            self.finished.append(update.text)
        except asyncio.CancelledError:
            self.cancelled.append(update.text)
            raise


def msg(seconds: float) -> Message:
    return Message(id=1, chat=Chat(id=1, type="private"), date=0, from_user=User(id=1), text=str(seconds))


async def run_with_signal(config_file, deadline: float, handler_seconds: float):
    path = config_file(f"[runtime]\nshutdown_deadline = {deadline}\n[plugins.slow]\nenabled = true\n")
    app = create_app(path, env={}, plugins=[Slow])
    runner = asyncio.create_task(app.run())
    await eventually(lambda: app.state == "running", deadline=5, interval=0.005)
    app.submit(msg(handler_seconds))
    await app.plugin("slow").started.wait()
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(runner, timeout=deadline + 10)
    return app


async def test_sigterm_lets_a_slow_handler_finish_within_the_deadline(config_file):
    app = await run_with_signal(config_file, deadline=5.0, handler_seconds=0.3)
    assert app.plugin("slow").finished == ["0.3"]
    assert app.last_drain.cancelled == [] and app.last_drain.finished == 1
    assert app.state == "stopped"


async def test_a_handler_past_the_deadline_is_cancelled_and_reported(config_file, caplog):
    with caplog.at_level(logging.WARNING, logger="mediabot"):
        app = await run_with_signal(config_file, deadline=0.2, handler_seconds=30)
    assert app.plugin("slow").cancelled == ["30"]
    assert app.last_drain.cancelled == ["kernel:update:Message"]
    assert "cancelled 1 handler(s) still running after the 0.2s deadline" in caplog.text
    assert app.metrics.value("mediabot_shutdown_cancelled_total") == 1


async def test_no_new_work_is_taken_once_stopping(config_file):
    app = create_app(config_file("[runtime]\nshutdown_deadline = 5\n[plugins.slow]\nenabled = true\n"),
                     env={}, plugins=[Slow])
    await app.start()
    app.submit(msg(0.2))
    await app.plugin("slow").started.wait()
    stopping = asyncio.create_task(app.stop())
    await asyncio.sleep(0)
    assert app.submit(msg(0.0)) is None
    await stopping
    assert app.plugin("slow").finished == ["0.2"]


async def test_a_second_signal_forces_an_immediate_exit(config_file):
    exits: list[int] = []
    app = create_app(config_file("[runtime]\nshutdown_deadline = 30\n[plugins.slow]\nenabled = true\n"),
                     env={}, plugins=[Slow])
    app._force_exit = exits.append  # the real one is os._exit, which would end the test run
    runner = asyncio.create_task(app.run())
    await eventually(lambda: app.state == "running", deadline=5, interval=0.005)
    app.submit(msg(30))
    await app.plugin("slow").started.wait()
    os.kill(os.getpid(), signal.SIGTERM)
    await eventually(lambda: app.state == "stopping", deadline=5, interval=0.005)
    os.kill(os.getpid(), signal.SIGINT)
    await eventually(lambda: exits, deadline=5, interval=0.005)
    assert exits == [130]
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
