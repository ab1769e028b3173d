"""``/export_filters`` and ``/import_filters``: a group's filters move to another group as a JSON document."""

from __future__ import annotations

import json

from fhelpers import ADMIN, GROUP, MEMBER, OTHER_GROUP, filters_bot

from mediabot.testing.tl import FakeFile


async def export_of(bot, chat):
    [doc] = await bot.send("/export_filters", user=ADMIN, chat=chat)
    name, data = bot.fake.uploaded(doc.chat.id, doc.id)
    return doc, name, data


async def test_filters_exported_from_one_group_import_into_another(make_bot):
    bot = await filters_bot(make_bot)
    await bot.send("/filter rules <Be> kind [Site](buttonurl://https://example.org)", user=ADMIN, chat=GROUP)
    await bot.send('/filter "how to" Read the pinned message', user=ADMIN, chat=GROUP)
    _doc, name, data = await export_of(bot, GROUP)
    assert name == f"filters{GROUP}.json"
    exported = json.loads(data)
    assert exported["format"] == "mediabot-filters" and exported["version"] == 1
    assert sorted(f["keyword"] for f in exported["filters"]) == ["how to", "rules"]
    [done] = (await bot.send("/import_filters", user=ADMIN, chat=OTHER_GROUP, reply_to=await _repost(
        bot, OTHER_GROUP, data))).texts
    assert done == "Imported 2 filters into Other club."
    [reply] = await bot.send("the rules?", user=MEMBER, chat=OTHER_GROUP)
    assert reply.text == "<Be> kind" and reply.keyboard[0][0].url == "https://example.org"
    assert (await bot.send("how to join", user=MEMBER, chat=OTHER_GROUP)).texts == ["Read the pinned message"]


async def _repost(bot, chat, data: bytes, name: str = "filters.json") -> int:
    """The admin sends the document in ``chat`` (Telegram keeps its bytes); returns its message id."""
    file = FakeFile(file_name=name, kind="document", size=len(data))
    bot.fake.set_file_content(file, data)
    posted = await bot.fake.user_message(ADMIN, chat_id=chat, file=file)
    return posted.id


async def test_a_document_that_is_not_an_export_imports_nothing(make_bot):
    bot = await filters_bot(make_bot)
    await bot.send("/filter faq Pinned.", user=ADMIN, chat=GROUP)
    bad = json.dumps({"format": "mediabot-filters", "version": 1,
                      "filters": [{"keyword": "x", "reply": {"html": "ok", "buttons": [[{"text": "A",
                                                                                          "url": "javascript:1"}]]}}]})
    [told] = (await bot.send("/import_filters", user=ADMIN, chat=GROUP,
                             reply_to=await _repost(bot, GROUP, bad.encode()))).texts
    assert told == "Filter “x”: a button link must be http(s):// or tg://. Nothing was imported."
    [told] = (await bot.send("/import_filters", user=ADMIN, chat=GROUP,
                             reply_to=await _repost(bot, GROUP, b"not json"))).texts
    assert told.startswith("That is not a filters export:") and told.endswith("Nothing was imported.")
    assert (await bot.send("x", user=MEMBER, chat=GROUP)).texts == []
    assert (await bot.send("faq", user=MEMBER, chat=GROUP)).texts == ["Pinned."]


async def test_a_member_can_neither_export_nor_import(make_bot):
    bot = await filters_bot(make_bot)
    assert (await bot.send("/export_filters", user=MEMBER, chat=GROUP)).texts == [
        "Only this group's admins can manage its filters."]
    data = b'{"format": "mediabot-filters", "version": 1, "filters": []}'
    assert (await bot.send("/import_filters", user=MEMBER, chat=GROUP,
                           reply_to=await _repost(bot, GROUP, data))).texts == [
        "Only this group's admins can manage its filters."]
