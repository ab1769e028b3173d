"""Two processes of one bot (shared Redis and MongoDB): a filter added in one answers in the other at once."""

from __future__ import annotations

import time

from fhelpers import ADMIN, GROUP, MEMBER, filters_bot

from mediabot.testing import FakeClock, eventually


async def test_a_filter_added_in_one_process_answers_in_the_other_within_a_second(make_bot):
    clock = FakeClock()
    one = await filters_bot(make_bot, clock=clock)
    two = await filters_bot(make_bot, clock=clock)
    await one.send("/filter rules Be kind.", user=ADMIN, chat=GROUP)
    started = time.monotonic()

    async def answer():
        return (await two.send("rules", user=MEMBER, chat=GROUP)).texts

    assert await eventually(answer, check=lambda texts: texts == ["Be kind."], deadline=1.0,
                            what="the second process answers with the new filter") == ["Be kind."]
    assert time.monotonic() - started < 1.0
    await two.send("/stop rules", user=ADMIN, chat=GROUP)
    await eventually(answer_in(one), check=lambda texts: texts == [], deadline=1.0,
                     what="the first process forgets the removed filter")


def answer_in(bot):
    async def read():
        return (await bot.send("rules", user=MEMBER, chat=GROUP)).texts

    return read


async def test_a_restarted_process_loads_the_filters_from_the_database(make_bot):
    one = await filters_bot(make_bot)
    await one.send("/filter rules Be kind.", user=ADMIN, chat=GROUP)
    await one.stop()
    two = await filters_bot(make_bot)
    assert (await two.send("rules", user=MEMBER, chat=GROUP)).texts == ["Be kind."]
    calls = two.fake.calls_of("send_message")
    assert len(calls) == 1
