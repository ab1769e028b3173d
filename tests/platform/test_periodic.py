"""ctx.every: periodic work on the app's clock, never piled up, supervised, in the health report by itself."""

from __future__ import annotations

from itertools import pairwise

from pymongo.errors import PyMongoError

from mediabot import Command, PluginMeta, hookimpl, open_app
from mediabot.testing import FakeClock, eventually


class Poller:
    """Polls every minute; ``duration`` and ``fail`` say how its next runs behave."""

    meta = PluginMeta(name="poller", description="Polls a feed.")

    def __init__(self, ctx):
        self.ctx = ctx
        self.runs: list[tuple[float, float]] = []  # (start, end) of each run
        self.durations: list[float] = []  # the first runs take this long, in order
        self.fail: str | None = None
        self.running = 0
        self.overlapped = False
        self.started_at: float | None = None
        self.job_running_at_shutdown: bool | None = None
        self.job = ctx.every(60, self.poll, name="feed", **self.options())

    def options(self):
        return {}

    @hookimpl
    def mediabot_startup(self):
        self.started_at = self.ctx.clock.now()

    async def poll(self):
        self.overlapped |= self.running > 0
        self.running += 1
        start = self.ctx.clock.now()
        try:
            if self.durations:
                await self.ctx.clock.sleep(self.durations.pop(0))
            if self.fail:
                raise RuntimeError(self.fail)
        finally:
            self.running -= 1
            self.runs.append((start, self.ctx.clock.now()))

    @hookimpl
    def mediabot_shutdown(self):
        self.job_running_at_shutdown = "poller:every:feed" in self.ctx.app.supervisor.running()


def starts(plugin):
    return [s for s, _ in plugin.runs]


def report(reports, component="poller.feed"):
    found = [r for r in reports if r.component == component]
    assert len(found) == 1, reports
    return found[0]


async def test_a_job_from_init_runs_every_interval_on_the_app_clock_once_the_app_started(make_bot):
    bot = await make_bot(plugins=[Poller], clock=FakeClock())
    poller = bot.plugin("poller")
    await eventually(lambda: len(poller.runs) >= 4, what="four runs")  # four minutes pass in milliseconds
    first = starts(poller)[:4]
    assert first[0] - poller.started_at == 60.0  # one interval after the start, not at once
    assert [b - a for a, b in pairwise(first)] == [60.0, 60.0, 60.0]


async def test_a_job_added_in_startup_runs_too(make_bot):
    class Late(Poller):
        def __init__(self, ctx):
            self.ctx = ctx
            self.runs, self.durations, self.fail, self.running, self.overlapped = [], [], None, 0, False

        @hookimpl
        def mediabot_startup(self):
            self.started_at = self.ctx.clock.now()
            self.job = self.ctx.every(30, self.poll, name="feed")

    bot = await make_bot(plugins=[Late], clock=FakeClock())
    late = bot.plugin("poller")
    await eventually(lambda: len(late.runs) >= 2, what="two runs")
    assert starts(late)[:2] == [late.started_at + 30.0, late.started_at + 60.0]


async def test_a_run_that_outlasts_the_interval_delays_the_next_and_never_overlaps(make_bot):
    class Slow(Poller):
        def options(self):
            self.durations = [150.0]  # the first run takes two and a half intervals
            return {}

    bot = await make_bot(plugins=[Slow], clock=FakeClock())
    slow = bot.plugin("poller")
    await eventually(lambda: len(slow.runs) >= 3, what="three runs")
    first, second, third = starts(slow)[:3]
    assert slow.runs[0][1] == first + 150.0
    # The ticks at +60 and +120 passed during the slow run: dropped, not run back to back.
    assert (second - first, third - second) == (180.0, 60.0)
    assert not slow.overlapped
    assert slow.job.skipped == 2
    assert "2 skipped" in report(await bot.app.health()).detail


async def test_a_failing_run_is_reported_in_health_without_code_in_the_plugin_and_the_job_goes_on(make_bot):
    class Failing(Poller):
        def options(self):
            self.fail = "feed unreachable"
            return {}

    bot = await make_bot(plugins=[Failing], clock=FakeClock())
    poller = bot.plugin("poller")
    await eventually(lambda: poller.job.failures >= 2, what="two failed runs")
    failing = report(await bot.app.health())
    assert failing.status == "degraded"
    assert "never succeeded; last error " in failing.detail
    assert " ago: RuntimeError: feed unreachable; lag " in failing.detail
    assert bot.app.metrics.value("mediabot_periodic_failures_total", {"owner": "poller", "job": "feed"}) >= 2
    poller.fail = None
    await eventually(lambda: poller.job.last_success is not None, what="a run succeeds again")
    recovered = report(await bot.app.health())
    assert recovered.status == "ok"
    assert "last ok " in recovered.detail and "RuntimeError: feed unreachable" in recovered.detail


async def test_failures_in_a_row_back_off_like_a_crashed_loop(make_bot):
    class Flaky(Poller):
        def __init__(self, ctx):
            self.ctx = ctx
            self.runs, self.durations, self.fail, self.running, self.overlapped = [], [], "down", 0, False
            self.job = ctx.every(0.1, self.poll, name="feed", max_backoff=4.0)

    bot = await make_bot(plugins=[Flaky], clock=FakeClock())
    flaky = bot.plugin("poller")
    await eventually(lambda: len(flaky.runs) >= 7, what="seven failed runs")
    s = starts(flaky)[:7]
    gaps = [round(b - a, 6) for a, b in pairwise(s)]
    assert gaps == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]  # not every 0.1 s while the feed is down


async def test_jitter_delays_each_run_within_its_tick_without_drift(make_bot):
    class Jittery(Poller):
        def options(self):
            return {"jitter": 10.0}

    bot = await make_bot(plugins=[Jittery], clock=FakeClock())
    jittery = bot.plugin("poller")
    await eventually(lambda: len(jittery.runs) >= 20, what="twenty runs")
    origin = jittery.job.origin
    delays = []
    for n, start in enumerate(starts(jittery)[:20], 1):
        tick = origin + 60.0 * n  # the n-th tick: jitter never moves the grid
        assert tick <= start <= tick + 10.0 + 1e-6, (n, start)
        delays.append(start - tick)
    assert len({round(d, 3) for d in delays}) > 1  # really random, not a constant offset


async def test_jobs_stop_before_their_plugins_shutdown_hook_and_never_run_after(make_bot):
    bot = await make_bot(plugins=[Poller], clock=FakeClock())
    poller = bot.plugin("poller")
    await eventually(lambda: poller.runs, what="a run")
    await bot.app.stop("test")
    assert poller.job_running_at_shutdown is False
    count = len(poller.runs)
    await bot.clock.sleep(600)
    assert len(poller.runs) == count


async def test_an_app_opened_for_a_cli_command_runs_no_job(make_bot, tmp_path):
    bot = await make_bot(plugins=[Poller])  # only for its servers' environment
    config = tmp_path / "plugins.toml"
    config.write_text("[plugins.poller]\nenabled = true\n")
    async with open_app(config, env=bot.app.env, plugins=[Poller]) as app:
        job = app.plugin("poller").job
        assert not job.started
        assert not [r for r in await app.health() if r.component == "poller.feed"]


async def test_a_job_added_while_the_app_runs_starts_at_once(make_bot):
    class OnDemand(Poller):
        def __init__(self, ctx):
            self.ctx = ctx
            self.runs, self.durations, self.fail, self.running, self.overlapped = [], [], None, 0, False

        @hookimpl
        def mediabot_commands(self):
            return [Command(name="poll", description="Start polling", handler=self.begin)]

        async def begin(self, ctx):
            self.started_at = self.ctx.clock.now()
            self.job = self.ctx.every(45, self.poll, name="feed")
            await ctx.reply("polling")

    bot = await make_bot(plugins=[OnDemand], clock=FakeClock())
    on_demand = bot.plugin("poller")
    assert (await bot.send("/poll", user=1)).texts == ["polling"]
    await eventually(lambda: len(on_demand.runs) >= 2, what="two runs")
    assert [s - on_demand.started_at for s in starts(on_demand)[:2]] == [45.0, 90.0]


async def test_a_job_survives_a_database_crash_and_its_health_says_so_meanwhile(mongo_factory, make_bot):
    class Counter(Poller):  # counts documents in MongoDB every minute
        def __init__(self, ctx):
            self.ctx, self.seen = ctx, []
            self.notes = ctx.storage.collection("notes")
            self.job = ctx.every(60, self.count, name="feed")

        async def count(self):
            self.seen.append(await self.notes.count_documents({}))

    server = mongo_factory()  # first: the bot stops before its server does
    bot = await make_bot(plugins=[Counter], clock=FakeClock(), config="[mongo]\ntimeout_ms = 500\n",
                         env={"MEDIABOT_MONGO_URI": server.uri})
    counter = bot.plugin("poller")
    await eventually(lambda: counter.seen, what="a run that reached MongoDB")
    server.kill()
    await eventually(lambda: counter.job.consecutive_failures >= 2, deadline=30, what="runs failing")
    down = report(await bot.app.health())
    assert down.status == "degraded" and "last error " in down.detail and "last ok " in down.detail
    server.restart()

    async def write_one():  # idempotent: the client may still be reconnecting
        try:
            await counter.notes.update_one({"_id": 1}, {"$set": {"after": "restart"}}, upsert=True)
        except PyMongoError:
            return False
        return True

    await eventually(write_one, deadline=30, what="a write after the restart")
    await eventually(lambda: counter.seen[-1] == 1, deadline=30, what="a run after the restart")
    assert report(await bot.app.health()).status == "ok"
