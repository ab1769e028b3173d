"""Redis down: filters keep answering from memory, and changes made meanwhile reach other processes after."""

from __future__ import annotations

from fhelpers import ADMIN, GROUP, MEMBER, filters_bot

from mediabot.testing import FakeClock, eventually


async def test_filters_answer_while_redis_is_down_and_catch_up_after(make_bot, redis_factory):
    server = redis_factory()
    clock = FakeClock()
    env = {"MEDIABOT_REDIS_URL": server.url}

    async def bot():
        b = await filters_bot(lambda **kw: make_bot(env=env, **kw), clock=clock)
        return b

    one, two = await bot(), await bot()
    await one.send("/filter rules Be kind.", user=ADMIN, chat=GROUP)
    await eventually(lambda: two.plugin("filters").store.index(GROUP).get("rules"), what="two has the filter")
    server.kill()
    assert (await two.send("rules", user=MEMBER, chat=GROUP)).texts == ["Be kind."]
    server.restart()
    await one.send("/filter faq Read the pins.", user=ADMIN, chat=GROUP)

    async def answer():
        return (await two.send("faq", user=MEMBER, chat=GROUP)).texts

    await eventually(answer, check=lambda t: t == ["Read the pins."], what="two sees the filter added after")
