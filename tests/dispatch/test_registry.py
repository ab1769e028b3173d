"""Declaration mistakes are startup errors naming the plugin, not surprises on the first message."""

from __future__ import annotations

import pytest

from mediabot import Callback, Command, PluginLoadError, PluginMeta, hookimpl


def plugin(name: str, *, commands=(), callbacks=()):
    class P:
        meta = PluginMeta(name=name, description=name)

        def __init__(self, ctx):
            pass

        @hookimpl
        def mediabot_commands(self):
            return list(commands)

        @hookimpl
        def mediabot_callbacks(self):
            return list(callbacks)

    return P


async def nothing(ctx):
    pass


async def test_an_invalid_command_rate_names_the_plugin(make_bot):
    bad = plugin("bad", commands=[Command(name="x", description="x", handler=nothing, rate_limit="fast")])
    with pytest.raises(PluginLoadError, match=r"plugin 'bad': command /x: invalid rate 'fast'"):
        await make_bot(plugins=[bad], services=False)


async def test_two_plugins_claiming_one_button_action_is_an_error(make_bot):
    one = plugin("one", callbacks=[Callback("page", nothing)])
    two = plugin("two", callbacks=[Callback("page", nothing)])
    with pytest.raises(PluginLoadError, match="button action 'page' is already registered") as err:
        await make_bot(plugins=[one, two], services=False)
    assert {"'one'", "'two'"} <= set(str(err.value).replace(":", " ").split())


def test_an_invalid_action_name_is_refused_at_declaration():
    with pytest.raises(ValueError, match="invalid callback action"):
        Callback("has|pipe", nothing)


def test_the_registry_refuses_a_second_command_with_a_taken_name_or_alias():
    from mediabot.core.registry import Registry

    first = Command(name="get", description="x", handler=nothing)
    clash = Command(name="fetch", description="x", handler=nothing, aliases=("get",))
    with pytest.raises(PluginLoadError, match=r"plugin 'two': command /get is already registered by 'one'"):
        Registry([("one", first), ("two", clash)])
    with pytest.raises(PluginLoadError, match=r"command /get is already registered by 'one'"):
        Registry([("one", first), ("one", first)])  # the same plugin twice is no exception
    registry = Registry([("one", first), ("two", Command(name="fetch", description="x", handler=nothing))])
    assert registry.command("get").plugin == "one" and registry.command("fetch").plugin == "two"
