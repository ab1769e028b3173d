"""Loading plugins: the constructors the kernel accepts, and one plugin name claimed by two distributions."""

from __future__ import annotations

import types


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def guide_module(source: str, marker: str) -> types.ModuleType:
    module = types.ModuleType(f"guide_{marker.replace('-', '_')}")
    exec(compile(source, f"docs/plugins.md <!-- {marker} -->", "exec"), module.__dict__)
    return module


# -- constructors -----------------------------------------------------------------------

async def test_the_guides_five_line_plugin_without_a_constructor_answers_ping(make_bot, guide_block):
    ping = guide_module(guide_block("smallest-plugin"), "smallest-plugin").Ping
    assert "__init__" not in vars(ping)  # the point: no constructor to write
    bot = await make_bot(plugins=[ping])
    assert (await bot.send("/ping", user=1)).last.text == "pong"


async def test_a_plugin_taking_the_context_still_gets_it(make_bot):
    from mediabot import Command, PluginMeta, hookimpl

    class Named:
        meta = PluginMeta(name="named", description="Says its name.")

        def __init__(self, ctx):
            self.name = ctx.name

        @hookimpl
        def mediabot_commands(self):
            return [Command(name="whoami", description="Name", handler=lambda ctx: ctx.reply(self.name))]

    bot = await make_bot(plugins=[Named])
    assert (await bot.send("/whoami", user=1)).last.text == "named"


ODD = """
from mediabot import PluginMeta
class Odd:
    meta = PluginMeta(name="odd", description="wants too much")
    def __init__(self, ctx, database):
        pass
"""


def test_any_other_constructor_is_a_load_error_saying_what_it_must_take(run_cli, make_dist, tmp_path):
    make_dist("mb-odd", {"odd": ODD}, {"odd": "odd:Odd"})
    (tmp_path / "plugins.toml").write_text("[plugins.odd]\nenabled = true\n")
    result = run_cli("config", "check", "--dev")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert error_lines(result.stderr) == [
        "error: plugin 'odd': its constructor Odd(ctx, database) cannot be called by the kernel: it must take "
        "no argument, or one: the plugin's context (write `def __init__(self, ctx):` (ctx is a "
        "mediabot.PluginContext: config, storage, log...) or `def __init__(self):`, or leave __init__ out)"]
    listed = run_cli("plugins")
    assert "its constructor Odd(ctx, database) cannot be called" in listed.stdout, listed.stdout


# -- one name, two distributions -------------------------------------------------------

def ping_module(answer: str) -> str:
    return f"""
from mediabot import Command, PluginMeta, hookimpl
class Ping:
    meta = PluginMeta(name="ping", description="answers {answer}")
    @hookimpl
    def mediabot_commands(self):
        return [Command(name="ping", description="ping", handler=lambda ctx: ctx.reply("{answer}"))]
"""


def test_two_distributions_registering_one_plugin_name_fail_the_start_naming_both(run_cli, make_dist, tmp_path):
    make_dist("mb-ping-one", {"ping_one": ping_module("one")}, {"ping": "ping_one:Ping"}, version="1.0")
    make_dist("mb-ping-two", {"ping_two": ping_module("two")}, {"ping": "ping_two:Ping"}, version="2.0")
    (tmp_path / "plugins.toml").write_text("[plugins.ping]\nenabled = true\n")
    for command in (("config", "check", "--dev"), ("run",)):
        result = run_cli(*command)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        [line] = error_lines(result.stderr)
        assert line.startswith("error: plugin 'ping': is registered in mediabot.plugins by 2 installed "
                               "distributions: "), line
        assert "mb-ping-one 1.0 (ping_one:Ping)" in line and "mb-ping-two 2.0 (ping_two:Ping)" in line, line
        assert line.endswith("(uninstall all but one of them (uv pip uninstall NAME), or rename one plugin's "
                             "entry point and meta.name)"), line


def test_mediabot_plugins_shows_both_distributions_of_a_duplicate_name(run_cli, make_dist, tmp_path):
    make_dist("mb-ping-one", {"ping_one": ping_module("one")}, {"ping": "ping_one:Ping"})
    make_dist("mb-ping-two", {"ping_two": ping_module("two")}, {"ping": "ping_two:Ping"})
    (tmp_path / "plugins.toml").write_text("")
    result = run_cli("plugins")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    [row] = [i for i, line in enumerate(lines) if line.startswith("ping ")]
    note = lines[row + 1]
    assert "is registered in mediabot.plugins by 2 installed distributions" in note, result.stdout
    assert "mb-ping-one" in note and "mb-ping-two" in note, note
    # Not enabled, it harms nothing else: the deployment without it still checks out.
    assert run_cli("config", "check", "--dev").returncode == 0
