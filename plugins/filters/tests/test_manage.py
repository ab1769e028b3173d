"""Adding, matching, replacing and removing filters in a group, by its admins only."""

from __future__ import annotations

from fhelpers import ADMIN, FAST, GROUP, MEMBER, filters_bot


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


async def test_a_filter_is_replaced_by_the_same_keyword_and_removed_with_stop(make_bot):
    bot = await filters_bot(make_bot)
    await bot.send("/filter rules Be kind.", user=ADMIN, chat=GROUP)
    assert (await bot.send("/filter RULES Be nice.", user=ADMIN, chat=GROUP)).texts == [
        "Filter “RULES” replaced for Film club."]
    assert (await bot.send("rules", user=MEMBER, chat=GROUP)).texts == ["Be nice."]
    assert (await bot.send("/stop Rules", user=ADMIN, chat=GROUP)).texts == [
        "Filter “Rules” removed from Film club."]
    assert (await bot.send("rules", user=MEMBER, chat=GROUP)).texts == []
    assert (await bot.send("/stop rules", user=ADMIN, chat=GROUP)).texts == [
        "No filter “rules” in Film club. /filters lists them."]


async def test_stopall_asks_and_only_the_asking_admin_can_confirm(make_bot):
    bot = await filters_bot(make_bot)
    bot.fake.set_admin(GROUP, 13)
    for kw in ("rules", "faq", "links"):
        await bot.send(f"/filter {kw} Answer to {kw}", user=ADMIN, chat=GROUP)
    [ask] = await bot.send("/stopall", user=ADMIN, chat=GROUP)
    assert ask.text == "Delete all 3 filters of Film club? This cannot be undone."
    other = await bot.press(ask, "Delete them all", user=13)  # another admin: not theirs to press
    assert other.answer.text == "This button has expired."
    assert (await bot.send("faq", user=MEMBER, chat=GROUP)).texts == ["Answer to faq"]
    done = await bot.press(ask, "Delete them all", user=ADMIN)
    assert done.texts == ["Deleted 3 filters."]
    assert (await bot.send("faq", user=MEMBER, chat=GROUP)).texts == []


async def test_stopall_cancelled_deletes_nothing(make_bot):
    bot = await filters_bot(make_bot)
    await bot.send("/filter faq Read the pinned message", user=ADMIN, chat=GROUP)
    [ask] = await bot.send("/stopall", user=ADMIN, chat=GROUP)
    assert (await bot.press(ask, "Cancel", user=ADMIN)).texts == ["Nothing was deleted."]
    assert (await bot.send("faq", user=MEMBER, chat=GROUP)).texts == ["Read the pinned message"]


async def test_an_admin_demoted_before_confirming_cannot_delete(make_bot):
    bot = await filters_bot(make_bot)
    await bot.send("/filter faq Read the pinned message", user=ADMIN, chat=GROUP)
    [ask] = await bot.send("/stopall", user=ADMIN, chat=GROUP)
    bot.fake.set_admin(GROUP, ADMIN, admin=False)
    pressed = await bot.press(ask, "Delete them all", user=ADMIN)
    assert pressed.answer.text == "Only this group's admins can do that."
    assert (await bot.send("faq", user=MEMBER, chat=GROUP)).texts == ["Read the pinned message"]


async def test_a_group_holds_at_most_max_per_group_filters(make_bot):
    bot = await filters_bot(make_bot, config=FAST + "max_per_group = 2\n")
    await bot.send("/filter one First", user=ADMIN, chat=GROUP)
    await bot.send("/filter two Second", user=ADMIN, chat=GROUP)
    assert (await bot.send("/filter three Third", user=ADMIN, chat=GROUP)).texts == [
        "Film club has 2 filters, the most allowed (2): /stop one first."]
    assert (await bot.send("/filter two Second again", user=ADMIN, chat=GROUP)).texts == [
        "Filter “two” replaced for Film club."]  # replacing is not adding


async def test_filters_lists_the_keywords_in_pages(make_bot):
    bot = await filters_bot(make_bot, config=FAST + "page_size = 5\n")
    for i in range(7):
        await bot.send(f"/filter kw{i} reply {i}", user=ADMIN, chat=GROUP)
    [first] = await bot.send("/filters", user=MEMBER, chat=GROUP)
    assert first.text.splitlines() == ["Filters in Film club (7):", "• kw0", "• kw1", "• kw2", "• kw3", "• kw4",
                                       "Page 1 of 2"]
    [second] = (await bot.press(first, "▶", user=MEMBER))
    assert second.text.splitlines() == ["Filters in Film club (7):", "• kw5", "• kw6", "Page 2 of 2"]


async def test_filter_without_a_reply_says_how_to_use_it(make_bot):
    bot = await filters_bot(make_bot)
    [usage] = (await bot.send("/filter rules", user=ADMIN, chat=GROUP)).texts
    assert usage.startswith("Give the reply after the keyword, or send the command in reply to a message.\nUsage:")
    [bad] = (await bot.send("/filter !!! reply", user=ADMIN, chat=GROUP)).texts
    assert bad.startswith("A keyword needs letters or digits.")


async def test_filter_warns_when_the_bot_may_not_see_the_groups_messages(make_bot):
    bot = await filters_bot(make_bot)
    bot.fake.bot_status[GROUP] = "member"
    [ok] = (await bot.send("/filter rules Be kind.", user=ADMIN, chat=GROUP)).texts
    assert ok.startswith("Filter “rules” saved for Film club.\n\nNote: I am not an admin of Film club. Unless my "
                         "privacy mode is off")


async def test_an_anonymous_admins_command_runs_when_an_admin_presses_the_button(make_bot):
    bot = await filters_bot(make_bot)
    await bot.fake.anonymous_admin_message(GROUP, "/filter rules Be kind.")
    await bot.settle()
    [prompt] = [m for m in bot.fake.sent_to(GROUP) if m.keyboard]
    assert prompt.text == "You are anonymous: an admin presses the button to run /filter as themselves."
    member = await bot.press(prompt, "I am an admin: run it", user=MEMBER)
    assert member.answer.text == "Only this group's admins can do that."
    assert (await bot.send("rules", user=MEMBER, chat=GROUP)).texts == []
    pressed = await bot.press(prompt, "I am an admin: run it", user=ADMIN)
    assert "Filter “rules” saved for Film club." in pressed.texts
    assert (await bot.send("rules", user=MEMBER, chat=GROUP)).texts == ["Be kind."]
