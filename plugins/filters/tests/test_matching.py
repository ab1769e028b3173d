"""Matching: whole words, phrases, accents, the longest keyword, global filters, one reply, search after."""

from __future__ import annotations

from fhelpers import ADMIN, BOT_ADMIN, FAST, GROUP, MEMBER, OTHER_GROUP, filters_bot

from mediabot import Handler, PluginMeta, UpdateContext, hookimpl


async def test_a_multi_word_keyword_matches_as_a_phrase_with_accents_folded(make_bot):
    bot = await filters_bot(make_bot)
    await bot.send('/filter "café menu" Coffee is 2€', user=ADMIN, chat=GROUP)
    assert (await bot.send("where is the CAFE Menu?", user=MEMBER, chat=GROUP)).texts == ["Coffee is 2€"]
    assert (await bot.send("menu of the café", user=MEMBER, chat=GROUP)).texts == []  # not the phrase


async def test_the_longest_matching_keyword_answers_once(make_bot):
    bot = await filters_bot(make_bot)
    await bot.send("/filter dune Dune is a film.", user=ADMIN, chat=GROUP)
    await bot.send('/filter "dune part two" Part Two is out.', user=ADMIN, chat=GROUP)
    assert (await bot.send("is dune part two here", user=MEMBER, chat=GROUP)).texts == ["Part Two is out."]
    assert (await bot.send("dune please", user=MEMBER, chat=GROUP)).texts == ["Dune is a film."]


async def test_global_filters_answer_in_every_group_and_a_groups_own_wins(make_bot):
    bot = await filters_bot(make_bot)
    [ok] = (await bot.send("/filter help Ask in @support", user=BOT_ADMIN)).texts  # private, not connected
    assert ok == "Filter “help” saved for the global filters."
    assert (await bot.send("help me", user=MEMBER, chat=OTHER_GROUP)).texts == ["Ask in @support"]
    await bot.send("/filter help Ask the admins of Film club", user=ADMIN, chat=GROUP)
    assert (await bot.send("help me", user=MEMBER, chat=GROUP)).texts == ["Ask the admins of Film club"]
    assert (await bot.send("help me", user=MEMBER, chat=OTHER_GROUP)).texts == ["Ask in @support"]


async def test_global_filters_answer_a_private_chat_only_on_an_exact_match(make_bot):
    bot = await filters_bot(make_bot)
    await bot.send("/filter hindi Hindi films are in @hindi_films", user=BOT_ADMIN)
    assert (await bot.send("Hindi", user=MEMBER)).texts == ["Hindi films are in @hindi_films"]
    assert (await bot.send("kgf hindi", user=MEMBER)).texts == []  # a search, not the filter


async def test_only_bot_admins_make_global_filters(make_bot):
    bot = await filters_bot(make_bot)
    [told] = (await bot.send("/filter help Ask me", user=MEMBER)).texts
    assert told.startswith("Use this in your group, or connect to it here first: /connect GROUP")


class Echo:
    """A stand-in for search: answers every text it is given (route order 100, like search)."""

    meta = PluginMeta(name="echo", description="answers what filters leave")

    @hookimpl
    def mediabot_handlers(self):
        return [Handler(name="text", handler=self.on_text, chats=("private", "group"))]

    async def on_text(self, ctx: UpdateContext):
        await ctx.reply(f"search: {ctx.text}")


async def test_a_match_is_answered_by_the_filter_alone_and_the_rest_goes_to_search(make_bot):
    bot = await filters_bot(make_bot, plugins=[Echo])
    await bot.send("/filter rules Be kind.", user=ADMIN, chat=GROUP)
    assert (await bot.send("the rules please", user=MEMBER, chat=GROUP)).texts == ["Be kind."]
    assert (await bot.send("dune 2021", user=MEMBER, chat=GROUP)).texts == ["search: dune 2021"]
    assert (await bot.send("rules", user=MEMBER)).texts == ["search: rules"]  # no global filter


async def test_a_match_with_the_real_search_plugin_keeps_search_silent(make_bot):
    from mediabot_search import SearchPlugin

    bot = await filters_bot(make_bot, plugins=[SearchPlugin],
                            config=FAST + '[plugins.search]\nrate = "1000/min"\ngroups = "all"\n'
                                          "quiet_misses = false\nskip_chatter = false\n")
    await bot.send('/filter "desert rose" Ask @uploader for it.', user=ADMIN, chat=GROUP)
    assert (await bot.send("desert rose 1990", user=MEMBER, chat=GROUP)).texts == ["Ask @uploader for it."]
    [miss] = (await bot.send("zebra quantum", user=MEMBER, chat=GROUP)).texts
    assert miss.startswith("Nothing found for “zebra quantum”")


async def test_a_flood_of_keywords_gets_at_most_the_group_rate_of_replies(make_bot):
    bot = await filters_bot(make_bot, plugins=[Echo], config=FAST.replace("1000/min", "3/min burst 3"))
    await bot.send("/filter rules Be kind.", user=ADMIN, chat=GROUP)
    texts = [t for i in range(8) for t in (await bot.send("rules", user=100 + i, chat=GROUP)).texts]
    assert texts == ["Be kind."] * 3  # and search did not answer the rest either
