"""With the search plugin: the search they typed and inline queries, finished once the user has joined."""

from __future__ import annotations

from access_kit import FILMS, USER, access, join, received, shelf_bot, start_payload, urls
from mediabot_search import SearchPlugin

SEARCH = '[plugins.search]\nrate = "1000/min"\n'


async def searching_bot(make_bot, **keys):
    bot = await shelf_bot(make_bot, access(f'{{ chat = {FILMS}, label = "Films" }}', **keys) + SEARCH,
                          plugins=(SearchPlugin,))
    await bot.plugin("search").sync()
    return bot


async def test_a_refused_search_runs_after_try_again_without_retyping(make_bot):
    bot = await searching_bot(make_bot, actions=["search", "delivery"])
    refusal = (await bot.send("Film 1 2019", user=USER)).last
    assert refusal.text == "To use this bot, join Films first, then press Try again."
    await join(bot, FILMS)
    results = (await bot.press(refusal, "Try again", user=USER)).last
    files = [b.text for row in results.keyboard for b in row if b.text.startswith("Film 1")]
    assert files, results.text  # the result list of the search typed before joining
    await bot.press(results, files[0], user=USER)
    assert received(bot) == ["Film.1.2019.1080p.mkv"]


async def test_inline_shows_a_non_member_an_article_that_opens_the_private_chat_and_finishes_there(make_bot):
    bot = await searching_bot(make_bot, actions=["inline", "delivery"])
    answer = await bot.inline("Film 1 2019", user=USER)
    [article] = answer.results
    assert article.file_id is None and "join Films" in article.text  # no file before joining
    opened = (await bot.send(f"/start {start_payload(article.keyboard[0][0].url)}", user=USER)).last
    assert opened.text == "To use this bot, join Films first, then press Try again."
    await join(bot, FILMS, link=urls(opened)["Join Films"])
    results = (await bot.press(opened, "Try again", user=USER)).last
    assert any(b.text.startswith("Film 1") for row in results.keyboard for b in row), results.text


async def test_inline_typing_by_a_non_member_asks_telegram_once_then_a_join_clears_the_no(make_bot):
    bot = await searching_bot(make_bot, actions=["inline"])
    for typed in ("F", "Fi", "Fil", "Film"):
        answer = await bot.inline(typed, user=USER)
        assert [r.id for r in answer.results] == ["access-join"]
    assert len(bot.fake.calls_of("get_chat_member")) == 1  # "not a member" kept for a few seconds
    await join(bot, FILMS)
    answer = await bot.inline("Film 1", user=USER)
    assert answer.results and all(r.id != "access-join" for r in answer.results)
    assert len(bot.fake.calls_of("get_chat_member")) == 1  # the join update answered it
