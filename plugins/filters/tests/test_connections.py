"""Connections: a group's admin manages its filters from the private chat; a member cannot connect."""

from __future__ import annotations

from fhelpers import ADMIN, GROUP, MEMBER, OTHER_GROUP, filters_bot


async def test_an_admin_connects_and_manages_the_groups_filters_from_the_private_chat(make_bot):
    bot = await filters_bot(make_bot)
    [ok] = (await bot.send(f"/connect {GROUP}", user=ADMIN)).texts
    assert ok == "Connected to Film club: /filter, /filters and /stop here now act on it. /disconnect to stop."
    assert (await bot.send("/filter rules Be kind.", user=ADMIN)).texts == ["Filter “rules” saved for Film club."]
    assert (await bot.send("rules", user=MEMBER, chat=GROUP)).texts == ["Be kind."]
    [listing] = (await bot.send("/filters", user=ADMIN)).texts
    assert listing.splitlines() == ["Filters in Film club (1):", "• rules"]
    assert (await bot.send("/stop rules", user=ADMIN)).texts == ["Filter “rules” removed from Film club."]
    assert (await bot.send("rules", user=MEMBER, chat=GROUP)).texts == []
    assert (await bot.send("/disconnect", user=ADMIN)).texts == ["Disconnected from Film club."]
    [told] = (await bot.send("/filter rules Be kind.", user=ADMIN)).texts
    assert told.startswith("Use this in your group, or connect to it here first")


async def test_a_member_cannot_connect_to_a_group(make_bot):
    bot = await filters_bot(make_bot)
    assert (await bot.send(f"/connect {GROUP}", user=MEMBER)).texts == ["Only admins of Film club can connect to it."]
    [told] = (await bot.send("/filter rules Anything", user=MEMBER)).texts
    assert told.startswith("Use this in your group, or connect to it here first")


async def test_an_admin_demoted_after_connecting_is_refused(make_bot):
    bot = await filters_bot(make_bot)
    await bot.send(f"/connect {GROUP}", user=ADMIN)
    bot.fake.set_admin(GROUP, ADMIN, admin=False)
    assert (await bot.send("/filter rules Anything", user=ADMIN)).texts == [
        "You are not an admin of Film club (any more): /disconnect, or ask one of its admins."]
    assert (await bot.send("rules", user=MEMBER, chat=GROUP)).texts == []


async def test_connections_lists_the_groups_and_a_button_switches_the_active_one(make_bot):
    bot = await filters_bot(make_bot)
    await bot.send(f"/connect {GROUP}", user=ADMIN)
    await bot.send("/connect", user=ADMIN, chat=OTHER_GROUP)  # from the group itself
    [menu] = await bot.send("/connections", user=ADMIN)
    assert [row[0].text for row in menu.keyboard] == ["✅ Other club", "Film club"]
    [switched] = await bot.press(menu, "Film club", user=ADMIN)
    assert switched.text == "Connected to Film club. Your connections:"
    assert [row[0].text for row in switched.keyboard] == ["Other club", "✅ Film club"]
    await bot.send("/filter faq Pinned.", user=ADMIN)
    assert (await bot.send("faq", user=MEMBER, chat=GROUP)).texts == ["Pinned."]
    assert (await bot.send("faq", user=MEMBER, chat=OTHER_GROUP)).texts == []
