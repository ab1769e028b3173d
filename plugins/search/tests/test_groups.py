"""Search in groups: chit-chat is left alone, misses stay quiet, result lists page for the member who asked."""

from __future__ import annotations

import pytest
from helpers import FAST, release
from mediabot_search import SearchPlugin
from mediabot_search.chatter import is_chatter

GROUP = -1009876543211


async def group_bot(make_bot, extra: str = ""):
    bot = await make_bot(plugins=[SearchPlugin], config=FAST + 'groups = "all"\n' + extra)
    bot.fake.add_chat(GROUP, "supergroup", title="Film club")
    files = [release(1, "Desert.Rose.1990.mkv")] + [release(10 + i, f"Ocean.Waves.Part.{i}.2020.mkv")
                                                    for i in range(12)]
    await bot.app.files.insert_batch(files)
    await bot.plugin("search").sync()
    return bot


async def test_a_group_with_groups_all_ignores_chitchat_and_answers_titles(make_bot):
    bot = await group_bot(make_bot)
    for chat in ("hello everyone, how are you?", "lol", "ok", "good morning", "can you send me that?",
                 "anyone have the new one", "👍👍"):
        assert (await bot.send(chat, user=5, chat=GROUP)).texts == [], chat
    [listing] = await bot.send("desert rose", user=5, chat=GROUP)
    assert listing.text.startswith("Results for “desert rose”")


# One bot per test: two bots of one test share Redis, hence the group's send pace, on two clocks.
async def test_a_group_search_that_finds_nothing_says_nothing(make_bot):
    bot = await group_bot(make_bot)
    assert (await bot.send("zebra quantum", user=5, chat=GROUP)).texts == []
    assert (await bot.send("z", user=5, chat=GROUP)).texts == []  # too short: no hint in a group either


async def test_a_group_search_that_finds_nothing_says_so_with_quiet_misses_off(make_bot):
    bot = await group_bot(make_bot, "quiet_misses = false\n")
    [miss] = (await bot.send("zebra quantum", user=5, chat=GROUP)).texts
    assert miss.startswith("Nothing found for “zebra quantum”")


async def test_chitchat_is_searched_when_skip_chatter_is_off(make_bot):
    bot = await group_bot(make_bot, "skip_chatter = false\nquiet_misses = false\n")
    [miss] = (await bot.send("lol", user=5, chat=GROUP)).texts
    assert miss.startswith("Nothing found for “lol”")


async def test_a_message_that_mentions_the_bot_is_a_search_even_as_a_question(make_bot):
    bot = await group_bot(make_bot)
    [listing] = await bot.send("@mediabot_test_bot desert rose?", user=5, chat=GROUP)
    assert listing.text.startswith("Results for “desert rose?”")


async def test_a_group_result_list_pages_for_the_member_who_searched(make_bot):
    bot = await group_bot(make_bot)
    [first] = await bot.send("ocean waves", user=5, chat=GROUP)
    assert first.text.startswith("Results for “ocean waves”: 1–10 of 12")
    assert all(row[0].url for row in first.keyboard[:10])  # deep links: files arrive in private
    second = (await bot.press(first, "▶", user=5)).last
    assert second.text.startswith("Results for “ocean waves”: 11–12 of 12")
    assert [row[0].url is not None for row in second.keyboard[:2]] == [True, True]
    assert bot.button(second, "◀") is not None
    assert (await bot.press(second, "◀", user=6)).answer.text == "This button has expired."  # not theirs


@pytest.mark.parametrize("title", [
    "How to Train Your Dragon", "What Women Want", "Where the Crawdads Sing", "Yes Man", "The Who",
    "Is It Wrong to Try to Pick Up Girls in a Dungeon", "Can You Ever Forgive Me", "dune 2021",
    "money heist s02 720p", "kgf hindi",
])
def test_titles_are_not_taken_for_chitchat(title):
    assert not is_chatter(title)


@pytest.mark.parametrize("chat", [
    "hi", "Hello!!", "thanks bro", "thank you", "lol 😂", "good night", "what?", "how are you",
    "can you upload it", "anyone got this", "is there any link", "...",
    "i was watching it yesterday with my friends and it was really good but the ending",
])
def test_greetings_one_word_chat_and_questions_are_chitchat(chat):
    assert is_chatter(chat)
