"""Plugin loops run on the app's clock (virtual in tests) and stop before their plugin's shutdown."""

from __future__ import annotations

from mediabot import PluginMeta, hookimpl
from mediabot.testing import FakeClock, eventually


class Ticker:
    meta = PluginMeta(name="ticker", description="Ticks every hour.")

    def __init__(self, ctx):
        self.ctx = ctx
        self.ticks: list[float] = []
        self.starts: list[float] = []
        self.crash_first = False
        self.loop_running_at_shutdown: bool | None = None
        self.task = None

    @hookimpl
    def mediabot_startup(self):
        self.task = self.ctx.spawn_loop(self.loop, name="ticker")

    async def loop(self):
        self.starts.append(self.ctx.clock.now())
        if self.crash_first:
            self.crash_first = False
            raise RuntimeError("first run crashes")
        while True:
            await self.ctx.clock.sleep(3600)
            self.ticks.append(self.ctx.clock.now())

    @hookimpl
    def mediabot_shutdown(self):
        self.loop_running_at_shutdown = not self.task.done()


async def test_a_plugin_loop_runs_on_virtual_time(make_bot):
    clock = FakeClock()
    bot = await make_bot(plugins=[Ticker], clock=clock)
    ticker = bot.plugin("ticker")
    await eventually(lambda: len(ticker.ticks) >= 3)  # three hours pass in milliseconds
    start = ticker.starts[0]
    assert ticker.ticks[:3] == [start + 3600.0, start + 7200.0, start + 10800.0]


async def test_a_crashed_loop_restarts_after_its_backoff_on_the_app_clock(make_bot):
    clock = FakeClock()

    class Crashing(Ticker):
        def __init__(self, ctx):
            super().__init__(ctx)
            self.crash_first = True

    bot = await make_bot(plugins=[Crashing], clock=clock)
    ticker = bot.plugin("ticker")
    await eventually(lambda: ticker.ticks)
    crashed, restarted = ticker.starts[:2]
    assert restarted - crashed == 0.5  # restarted after 0.5 s of backoff, in virtual time too
    assert ticker.ticks[0] == restarted + 3600.0
    crashes = bot.app.metrics.registry.get_sample_value("mediabot_task_crashes_total", {"owner": "ticker"})
    assert crashes == 1


async def test_a_plugins_loops_stop_before_its_shutdown_hook(make_bot):
    bot = await make_bot(plugins=[Ticker])
    ticker = bot.plugin("ticker")
    await bot.app.stop("test")
    assert ticker.loop_running_at_shutdown is False
