"""Rate limits: a flooding user is told once when to retry, then ignored; others are unaffected."""

from __future__ import annotations

import re

import pytest

USER = 1
SLOW_DOWN = re.compile(r"^Slow down: try again in \d+ s\.$")


@pytest.mark.parametrize("services", [True, False], ids=["redis", "in-process"])
async def test_a_flooding_user_is_told_once_then_silently_dropped(tools_bot, services):
    bot = await tools_bot(config='[services]\nuser_rate = "3/min"\n', services=services)
    texts = [(await bot.send(f"/echo {i}", user=USER)).texts for i in range(6)]
    assert texts[:3] == [["0"], ["1"], ["2"]]
    assert len(texts[3]) == 1 and SLOW_DOWN.match(texts[3][0])
    assert int(texts[3][0].split()[5]) <= 20  # 3/min: one call every 20 s
    assert texts[4:] == [[], []]
    assert [r for r in bot.plugin("tools").ran if r[0] == "echo"] == \
        [("echo", USER, ("0",)), ("echo", USER, ("1",)), ("echo", USER, ("2",))]
    # Another user has their own budget.
    assert (await bot.send("/echo hi", user=2)).texts == ["hi"]


async def test_a_command_rate_applies_on_top_of_the_user_rate(tools_bot):
    bot = await tools_bot()  # /slow allows 2/min; the user rate (20/min) is not reached
    assert [(await bot.send("/slow", user=USER)).texts for _ in range(2)] == [["slow ok"], ["slow ok"]]
    refused = (await bot.send("/slow", user=USER)).texts
    assert len(refused) == 1 and SLOW_DOWN.match(refused[0])
    assert (await bot.send("/slow", user=USER)).texts == []
    assert (await bot.send("/echo other commands work", user=USER)).texts == ["other commands work"]
    assert bot.app.metrics.value("mediabot_commands_refused_total", {"command": "slow", "reason": "rate"}) == 2


async def test_button_presses_count_against_the_user_rate(tools_bot):
    bot = await tools_bot(config='[services]\nuser_rate = "2/min"\n')
    msg = (await bot.send("/counter", user=USER)).last
    assert (await bot.press(msg, "+1", user=USER)).texts == ["count 1"]
    refused = await bot.press(msg, "+1", user=USER)
    assert refused == [] and SLOW_DOWN.match(refused.answer.text)
    silent = await bot.press(msg, "+1", user=USER)
    assert silent == [] and silent.answer.text is None


@pytest.mark.parametrize("bad", ["/nonexistent", "/kick 5"], ids=["unknown", "admin-only"])
async def test_refusals_count_against_the_user_rate(tools_bot, bad, caplog):
    bot = await tools_bot(config='[services]\nuser_rate = "3/min"\n')
    texts = [(await bot.send(bad, user=USER)).texts for _ in range(30)]
    answered = [t for t in texts if t]
    # Three answers (the refusal), one "Slow down", then silence: a flood of bad input is throttled.
    assert len(answered) == 4 and SLOW_DOWN.match(answered[3][0])
    assert texts[4:] == [[]] * 26
    assert sum("refused /" in r.getMessage() for r in caplog.records) <= 3


async def test_forged_button_presses_count_against_the_user_rate(tools_bot):
    bot = await tools_bot(config='[services]\nuser_rate = "2/min"\n')
    msg = (await bot.send("/counter", user=USER)).last
    answers = [(await bot.press(msg, data=f"v1|forged|{i}|a0|xxxxxxxxxxxx", user=USER)).answer.text
               for i in range(6)]
    assert answers[0] == "This button has expired." and SLOW_DOWN.match(answers[1])
    assert answers[2:] == [None] * 4
