"""The catalogue in a running bot: users recorded, /ban, /unban and /users for admins."""

from __future__ import annotations


async def test_a_banned_user_is_ignored_until_unbanned(make_bot):
    bot = await make_bot(admins=[1])
    assert (await bot.send("/help", user=42)).texts  # answered
    assert (await bot.send("/ban 42 spamming the search", user=1)).texts == [
        "User 42 is banned: spamming the search"]
    assert (await bot.send("/help", user=42)).texts == ["You are banned from using this bot."]
    assert (await bot.send("/help", user=42)).texts == []  # told once a day; then updates are dropped
    assert (await bot.send("/unban 42", user=1)).texts == ["User 42 is no longer banned."]
    assert (await bot.send("/help", user=42)).texts


async def test_banned_lists_the_banned_users_latest_first_for_admins_only(make_bot):
    bot = await make_bot(admins=[1])
    assert (await bot.send("/banned", user=1)).texts == ["Nobody is banned."]
    await bot.send("/ban 43", user=1)
    await bot.send("/ban 42 spamming\nthe search", user=1)  # the latest (a tie in time sorts by id: same order)
    [listing] = (await bot.send("/banned", user=1)).texts
    lines = listing.splitlines()
    assert lines[0] == "Banned users: 2"
    assert lines[1].startswith("42: spamming the search (banned by 1 on ")
    assert lines[2].startswith("43 (banned by 1 on ")
    assert lines[-1] == "/unban USER_ID lifts a ban."
    assert (await bot.send("/banned", user=7)).texts == ["This command is for admins only."]


async def test_admins_cannot_be_banned_and_users_cannot_ban(make_bot):
    bot = await make_bot(admins=[1, 2])
    assert (await bot.send("/ban 2", user=1)).texts == ["User 2 is an admin and cannot be banned."]
    assert (await bot.send("/ban 5", user=7)).texts == ["This command is for admins only."]
    ids = "USER_ID must be a Telegram user id (or a chat's negative id, -100…) from -9223372036854775807 to " \
          "9223372036854775807, not "
    # Beyond 64 bits, other scripts' digits (int() reads "١٢" as 12), superscripts: the usage, nobody banned.
    for odd in ("someone", "99999999999999999999999", "-99999999999999999999999", "١٢", "²", "①", "1_2"):
        assert (await bot.send(f"/ban {odd}", user=1)).texts == [f"{ids}{odd!r}.\nUsage: /ban USER_ID [reason]"]
    assert (await bot.send("/ban 0", user=1)).texts == [
        "USER_ID must be a Telegram user id, or a chat's negative id (-100…), not '0'.\nUsage: /ban USER_ID [reason]"]
    assert not bot.app.users.is_banned(12)


async def test_an_admin_bans_a_channel_that_posts_in_groups_as_itself(make_bot):
    bot = await make_bot(admins=[1])
    channel = -1001000000077
    assert (await bot.send(f"/ban {channel} ads", user=1)).texts == [f"User {channel} is banned: ads"]
    assert bot.app.users.is_banned(channel)
    assert (await bot.send(f"/unban {channel}", user=1)).texts == [f"User {channel} is no longer banned."]
    await bot.app.users.flush()
    assert [uid async for uid in bot.app.users.iter_active_ids()] == [1]  # a chat is never a broadcast's audience
    assert await bot.app.users.count_active() == 1


async def test_users_counts_everyone_who_wrote_in_private(make_bot):
    bot = await make_bot(admins=[1])
    for uid in (10, 11, 12):
        await bot.send("/start", user=uid)
    await bot.send("/ban 12", user=1)
    users = bot.app.users
    await users.flush()  # sightings are written in the background; do it now
    text = (await bot.send("/users", user=1)).texts[0]
    assert text.splitlines()[0] == "Users: 4"  # 10, 11, 12 and the admin
    assert "active 3 · blocked 0 · deactivated 0 · banned 1" in text
    assert bot.app.files is not None and await bot.app.files.count() == 0


async def test_without_a_database_the_bot_runs_without_a_user_directory(make_bot):
    bot = await make_bot(admins=[1], services=False)
    assert bot.app.users is None and bot.app.files is None
    assert (await bot.send("/users", user=1)).texts == ["Unknown command. Send /help for the list."]
