"""Force-subscribe as a user meets it: refused with Join and Try again, joins, and gets what they asked for."""

from __future__ import annotations

from access_kit import ADMIN, FILMS, SERIES, USER, access, join, leave, received, shelf_bot, start_payload, urls

ONE = access(f'{{ chat = {FILMS}, label = "Films" }}')
TWO = access(f'{{ chat = {FILMS}, label = "Films" }}', f'{{ chat = {SERIES}, label = "Series" }}')


async def test_a_non_member_is_refused_with_join_and_try_again_then_gets_the_file_once(make_bot):
    bot = await shelf_bot(make_bot, ONE)
    shelf = (await bot.send("/shelf", user=USER)).last
    refusal = (await bot.press(shelf, "Film.1.2019.1080p.mkv", user=USER)).last
    assert refusal.text == "To use this bot, join Films first, then press Try again."
    link = urls(refusal)["Join Films"]
    assert link.startswith("https://t.me/+")  # the bot's own invite link to the private channel
    assert received(bot) == []
    # Not joined yet: Try again says so and keeps the message.
    early = await bot.press(refusal, "Try again", user=USER)
    assert early.answer.text == "You have not joined Films yet." and early.answer.alert
    assert received(bot) == []
    await join(bot, FILMS, link=link)
    done = await bot.press(refusal, "Try again", user=USER)
    assert received(bot) == ["Film.1.2019.1080p.mkv"]
    assert "Thanks for joining!" in done.texts
    assert done.answer.text == "Sending…"  # the original button's handler answered this press
    # The old button pressed again (a double tap) finds nothing to finish: the file came once.
    retry_data = next(b.callback for row in refusal.keyboard for b in row if b.text == "Try again")
    again = await bot.press(refusal, data=retry_data, user=USER)
    assert again.answer.text == "This request is too old: please ask again."
    assert received(bot) == ["Film.1.2019.1080p.mkv"]
    assert bot.app.metrics.value("mediabot_access_completions_total") == 1
    assert bot.app.metrics.value("mediabot_access_joins_total", {"chat": str(FILMS)}) == 1


async def test_a_member_gets_the_file_at_once_and_the_answer_is_cached(make_bot):
    bot = await shelf_bot(make_bot, ONE)
    bot.fake.set_member(FILMS, USER)
    shelf = (await bot.send("/shelf", user=USER)).last
    await bot.press(shelf, "Film.0.2019.1080p.mkv", user=USER)
    await bot.press(shelf, "Film.1.2019.1080p.mkv", user=USER)
    assert received(bot) == ["Film.0.2019.1080p.mkv", "Film.1.2019.1080p.mkv"]
    assert len(bot.fake.calls_of("get_chat_member")) == 1  # the second delivery read the cache


async def test_a_deep_link_is_refused_then_finished_by_try_again(make_bot):
    bot = await shelf_bot(make_bot, ONE)
    link = (await bot.send("/link 0", user=ADMIN)).last.text
    refusal = (await bot.send(f"/start {start_payload(link)}", user=USER)).last
    assert refusal.text == "To use this bot, join Films first, then press Try again."
    await join(bot, FILMS, link=urls(refusal)["Join Films"])
    await bot.press(refusal, "Try again", user=USER)
    assert received(bot) == ["Film.0.2019.1080p.mkv"]


async def test_request_mode_lets_a_user_with_a_pending_join_request_through(make_bot):
    bot = await shelf_bot(make_bot, access(f'{{ chat = {FILMS}, label = "Films", mode = "request" }}'))
    shelf = (await bot.send("/shelf", user=USER)).last
    refusal = (await bot.press(shelf, "Film.0.2019.1080p.mkv", user=USER)).last
    link = urls(refusal)["Join Films"]
    assert bot.fake.invite_links[link].creates_join_request
    await bot.fake.join_request(FILMS, USER, link)
    await bot.settle()
    await bot.press(refusal, "Try again", user=USER)
    assert received(bot) == ["Film.0.2019.1080p.mkv"]
    assert bot.fake.join_answers == {}  # never approved nor declined: left to the chat's admins


async def test_request_mode_can_approve_the_requests_it_sees(make_bot):
    bot = await shelf_bot(make_bot, access(f'{{ chat = {FILMS}, mode = "request" }}', approve_requests=True))
    shelf = (await bot.send("/shelf", user=USER)).last
    refusal = (await bot.press(shelf, "Film.0.2019.1080p.mkv", user=USER)).last
    await bot.fake.join_request(FILMS, USER, urls(refusal)["Join our channel"])
    await bot.settle()
    assert bot.fake.join_answers == {(FILMS, USER): "approved"}
    assert USER in bot.fake.members[FILMS]


async def test_several_chats_each_get_a_join_button_until_all_are_joined(make_bot):
    bot = await shelf_bot(make_bot, TWO)
    shelf = (await bot.send("/shelf", user=USER)).last
    refusal = (await bot.press(shelf, "Film.0.2019.1080p.mkv", user=USER)).last
    assert refusal.text == "To use this bot, join Films and Series first, then press Try again."
    assert set(urls(refusal)) == {"Join Films", "Join Series"}
    await join(bot, FILMS)
    partly = await bot.press(refusal, "Try again", user=USER)
    assert partly.answer.text == "You have not joined Series yet."
    await join(bot, SERIES)
    await bot.press(refusal, "Try again", user=USER)
    assert received(bot) == ["Film.0.2019.1080p.mkv"]


async def test_leaving_a_chat_revokes_access_at_the_next_action(make_bot):
    bot = await shelf_bot(make_bot, ONE)
    await join(bot, FILMS)
    shelf = (await bot.send("/shelf", user=USER)).last
    await bot.press(shelf, "Film.0.2019.1080p.mkv", user=USER)
    assert received(bot) == ["Film.0.2019.1080p.mkv"]
    await leave(bot, FILMS)
    refused = (await bot.press(shelf, "Film.1.2019.1080p.mkv", user=USER)).last
    assert refused.text.startswith("To use this bot, join Films")
    assert received(bot) == ["Film.0.2019.1080p.mkv"]


async def test_admins_and_exempt_users_never_have_to_join(make_bot):
    bot = await shelf_bot(make_bot, access(f"{{ chat = {FILMS} }}", exempt_users=[7]))
    for uid in (ADMIN, 7):
        shelf = (await bot.send("/shelf", user=uid)).last
        await bot.press(shelf, "Film.0.2019.1080p.mkv", user=uid)
        assert received(bot, uid) == ["Film.0.2019.1080p.mkv"]
    assert bot.fake.calls_of("get_chat_member") == []


async def test_with_exempt_admins_off_an_admin_is_asked_to_join_like_anyone(make_bot):
    bot = await shelf_bot(make_bot, access(f"{{ chat = {FILMS} }}", exempt_admins=False))
    shelf = (await bot.send("/shelf", user=ADMIN)).last
    refused = (await bot.press(shelf, "Film.0.2019.1080p.mkv", user=ADMIN)).last
    assert refused.text.startswith("To use this bot, join ")
    assert received(bot, ADMIN) == []
    await join(bot, FILMS, ADMIN)
    await bot.press(refused, "Try again", user=ADMIN)
    assert received(bot, ADMIN) == ["Film.0.2019.1080p.mkv"]


async def test_no_channel_configured_guards_nothing(make_bot):
    bot = await shelf_bot(make_bot, "[plugins.access]\n")
    shelf = (await bot.send("/shelf", user=USER)).last
    await bot.press(shelf, "Film.0.2019.1080p.mkv", user=USER)
    assert received(bot) == ["Film.0.2019.1080p.mkv"]
    assert bot.fake.calls_of("get_chat_member") == []


async def test_a_public_chat_in_member_mode_shows_its_public_link(make_bot):
    bot = await shelf_bot(make_bot, access('{ chat = "@filmsclub" }'))
    bot.fake.add_chat(-1003000000003, "channel", title="Films Club", username="filmsclub")
    shelf = (await bot.send("/shelf", user=USER)).last
    refusal = (await bot.press(shelf, "Film.0.2019.1080p.mkv", user=USER)).last
    assert urls(refusal) == {"Join @filmsclub": "https://t.me/filmsclub"}
    await join(bot, -1003000000003)
    await bot.press(refusal, "Try again", user=USER)
    assert received(bot) == ["Film.0.2019.1080p.mkv"]


async def test_commands_mode_guards_commands_but_not_start_and_help_and_try_again_runs_the_command(make_bot):
    bot = await shelf_bot(make_bot, access(f'{{ chat = {FILMS}, label = "Films" }}', actions=["commands"]))
    assert not (await bot.send("/help", user=USER)).last.text.startswith("To use this bot")
    refusal = (await bot.send("/shelf", user=USER)).last
    assert refusal.text.startswith("To use this bot, join Films")
    await join(bot, FILMS)
    assert (await bot.press(refusal, "Try again", user=USER)).texts[-1] == "The shelf:"


async def test_access_reports_each_chat_its_rights_link_joins_and_todays_numbers(make_bot):
    bot = await shelf_bot(make_bot, TWO)
    bot.fake.bot_status[SERIES] = "member"  # not an administrator there
    shelf = (await bot.send("/shelf", user=USER)).last
    refusal = (await bot.press(shelf, "Film.0.2019.1080p.mkv", user=USER)).last
    await join(bot, FILMS, link=urls(refusal)["Join Films"])
    bot.fake.set_member(SERIES, USER)
    await bot.press(refusal, "Try again", user=USER)
    [report] = (await bot.send("/access", user=ADMIN)).texts
    films, series = report.split("\n\n")[1:3]
    assert "the bot is an administrator" in films and "joined through the bot's link: 1" in films
    assert "https://t.me/+" in films
    assert "not an administrator: make it one" in series
    assert "link: none (the Join button is missing)" in series
    assert "1 refusal(s), 1 finished by Try again" in report
    assert (await bot.send("/access", user=USER)).texts == ["This command is for admins only."]
    assert any("Series" in n and "invite link" in n for n in bot.app.notices.sent)
