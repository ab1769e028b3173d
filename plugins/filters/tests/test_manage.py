"""Adding, matching, replacing and removing filters in a group, by its admins only."""

from __future__ import annotations

from fhelpers import ADMIN, GROUP, MEMBER, filters_bot


async def test_an_admin_adds_a_filter_and_a_member_triggers_it(make_bot):
    bot = await filters_bot(make_bot)
    [ok] = (await bot.send("/filter rules Be kind. No spoilers.", user=ADMIN, chat=GROUP)).texts
    assert ok == "Filter “rules” saved for Film club."
    [reply] = await bot.send("what are the Rules here?", user=MEMBER, chat=GROUP)
    assert reply.text == "Be kind. No spoilers."
    assert reply.reply_to_message_id is not None  # quotes the message it answers
    assert (await bot.send("no keyword here", user=MEMBER, chat=GROUP)).texts == []
    assert (await bot.send("rulesless", user=MEMBER, chat=GROUP)).texts == []  # whole words only


async def test_a_member_cannot_add_or_remove_filters(make_bot):
    bot = await filters_bot(make_bot)
    assert (await bot.send("/filter rules Anything goes", user=MEMBER, chat=GROUP)).texts == [
        "Only this group's admins can manage its filters."]
    assert (await bot.send("rules", user=MEMBER, chat=GROUP)).texts == []
    await bot.send("/filter rules Be kind.", user=ADMIN, chat=GROUP)
    assert (await bot.send("/stop rules", user=MEMBER, chat=GROUP)).texts == [
        "Only this group's admins can manage its filters."]
    assert (await bot.send("/stopall", user=MEMBER, chat=GROUP)).texts == [
        "Only this group's admins can manage its filters."]
    assert (await bot.send("rules", user=MEMBER, chat=GROUP)).texts == ["Be kind."]
