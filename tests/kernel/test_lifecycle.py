"""Start order, startup failures, optional plugins, shutdown order, failure isolation."""

from __future__ import annotations

import asyncio
import logging

import pytest

from mediabot import Chat, Message, PluginMeta, PluginStartupError, User, create_app, hookimpl
from mediabot.testing import eventually


def make_plugin(name: str, journal: list[str], *, requires: tuple[str, ...] = (),
                fail_startup: bool = False, optional: bool = False, fail_update: bool = False):
    class P:
        meta = PluginMeta(name=name, description=name, requires=requires, optional=optional)

        def __init__(self, ctx):
            self.seen: list[object] = []

        @hookimpl
        async def mediabot_startup(self, app):
            await asyncio.sleep(0)
            if fail_startup:
                raise RuntimeError(f"{name} cannot start")
            journal.append(f"start {name}")

        @hookimpl
        async def mediabot_shutdown(self):
            journal.append(f"stop {name}")

        @hookimpl
        async def mediabot_update(self, update):
            if fail_update:
                raise ValueError(f"{name} chokes on updates")
            self.seen.append(update)

    P.__name__ = f"Plugin_{name}"
    return P


def enable(*names: str) -> str:
    return "".join(f"[plugins.{n}]\nenabled = true\n" for n in names)


def message(text: str = "hi") -> Message:
    return Message(id=1, chat=Chat(id=5, type="private"), date=0, from_user=User(id=5), text=text)


async def test_start_in_dependency_order_and_stop_in_reverse(config_file):
    journal: list[str] = []
    plugins = [make_plugin("web", journal, requires=("db", "cache")),
               make_plugin("cache", journal, requires=("db",)), make_plugin("db", journal)]
    app = create_app(config_file(enable("web", "cache", "db")), env={}, plugins=plugins)
    await app.start()
    await app.stop()
    assert journal == ["start db", "start cache", "start web", "stop web", "stop cache", "stop db"]


async def test_a_failing_plugin_stops_the_start_and_is_named(config_file):
    journal: list[str] = []
    plugins = [make_plugin("db", journal), make_plugin("broken", journal, requires=("db",), fail_startup=True)]
    app = create_app(config_file(enable("db", "broken")), env={}, plugins=plugins)
    with pytest.raises(PluginStartupError, match="plugin 'broken' failed to start: RuntimeError"):
        await app.start()
    # What had started is shut down again: nothing is left half-running.
    assert journal == ["start db", "stop db"]
    assert app.state == "stopped"


async def test_an_optional_plugin_that_fails_is_disabled_and_the_bot_starts(config_file, caplog):
    journal: list[str] = []
    plugins = [make_plugin("db", journal), make_plugin("extras", journal, fail_startup=True, optional=True)]
    app = create_app(config_file(enable("db", "extras")), env={}, plugins=plugins)
    with caplog.at_level(logging.WARNING, logger="mediabot"):
        await app.start()
    assert app.state == "running" and app.started == ["db"]
    assert "extras" in app.disabled
    assert "optional plugin extras failed to start and is disabled" in caplog.text
    await app.stop()
    assert journal == ["start db", "stop db"]


async def test_a_raising_hook_does_not_stop_the_other_plugins(config_file, caplog):
    journal: list[str] = []
    plugins = [make_plugin("good", journal), make_plugin("bad", journal, fail_update=True),
               make_plugin("also_good", journal)]
    app = create_app(config_file(enable("good", "bad", "also_good")), env={}, plugins=plugins)
    await app.start()
    with caplog.at_level(logging.ERROR, logger="mediabot"):
        task = app.submit(message())
        await task
    assert len(app.plugin("good").seen) == 1 and len(app.plugin("also_good").seen) == 1
    assert "plugin bad failed in mediabot_update: ValueError: bad chokes on updates" in caplog.text
    assert app.metrics.value("mediabot_plugin_errors_total",
                             {"plugin": "bad", "hook": "mediabot_update"}) == 1
    await app.stop()


async def test_unknown_hook_name_is_a_load_error(config_file):
    from mediabot import PluginLoadError

    class Typo:
        meta = PluginMeta(name="typo", description="x")

        def __init__(self, ctx):
            pass

        @hookimpl
        def mediabot_statup(self, app):  # misspelled on purpose
            pass

    with pytest.raises(PluginLoadError, match="unknown hook 'mediabot_statup'"):
        create_app(config_file(enable("typo")), env={}, plugins=[Typo])


async def test_health_reports_a_raising_check_as_down(config_file):
    from mediabot import HealthReport

    class Healthy:
        meta = PluginMeta(name="healthy", description="x")

        def __init__(self, ctx):
            pass

        @hookimpl
        async def mediabot_health(self):
            return [HealthReport(component="thing", status="ok")]

    class Sick:
        meta = PluginMeta(name="sick", description="x")

        def __init__(self, ctx):
            pass

        @hookimpl
        def mediabot_health(self):
            raise ConnectionError("cannot reach")

    app = create_app(config_file(enable("healthy", "sick")), env={}, plugins=[Healthy, Sick])
    await app.start()
    reports = {r.component: r.status for r in await app.health()}
    assert reports == {"thing": "ok", "plugin:sick": "down"}
    await app.stop()


async def test_background_task_crash_is_restarted_and_counted(config_file):
    runs: list[int] = []

    class Looper:
        meta = PluginMeta(name="looper", description="x")

        def __init__(self, ctx):
            pass

        @hookimpl
        def mediabot_startup(self, app):
            async def loop():
                runs.append(1)
                if len(runs) < 3:
                    raise RuntimeError("transient bug")
                await asyncio.Event().wait()

            app.supervisor.spawn_loop(loop, name="loop", owner="looper", max_backoff=0.01)

    app = create_app(config_file(enable("looper")), env={}, plugins=[Looper])
    await app.start()
    await eventually(lambda: len(runs) >= 3)
    assert app.metrics.value("mediabot_task_crashes_total", {"owner": "looper"}) == 2
    await app.stop()
    assert app.supervisor.running() == []


async def test_an_update_arriving_while_the_gateway_connects_is_handled(config_file):
    journal: list[str] = []
    plugin = make_plugin("echo", journal)

    class ConnectingGateway:
        """Telegram delivers an update as soon as the client connects, inside start()."""

        async def start(self, app):
            self.task = app.submit(message("early"))

        async def stop_updates(self): ...

        async def close(self): ...

        async def set_commands(self, *args, **kwargs): ...

    gateway = ConnectingGateway()
    app = create_app(config_file(enable("echo")), env={}, plugins=[plugin], gateway=gateway)
    await app.start()
    assert gateway.task is not None, "the update was refused"
    await gateway.task
    assert [u.text for u in app.plugin("echo").seen] == ["early"]
    await app.stop()


async def test_a_database_provider_that_raises_stops_the_start_naming_the_plugin(config_file):
    class BrokenRouter:
        meta = PluginMeta(name="brokenrouter", description="Cannot build its router.")

        def __init__(self, ctx):
            pass

        @hookimpl
        def mediabot_database_provider(self):
            raise ValueError("bad URI in MEDIABOT_MONGO_URI_A")

    app = create_app(config_file("[plugins.brokenrouter]\nenabled = true\n"), env={}, plugins=[BrokenRouter])
    with pytest.raises(PluginStartupError) as raised:
        await app.start()
    assert raised.value.plugin == "brokenrouter" and "bad URI" in str(raised.value)
    assert app.state == "stopped"
