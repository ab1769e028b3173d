"""Shared pieces of the filters tests: a group, its admin and member, quiet kernel settings."""

from __future__ import annotations

from mediabot_filters import FiltersPlugin

GROUP = -1009876543211
OTHER_GROUP = -1009876543222
ADMIN = 11  # an admin of GROUP (Telegram says so), not of the bot
MEMBER = 12
BOT_ADMIN = 99
QUIET = "[catalog]\nban_refresh = 3600.0\nflush_interval = 3600.0\noutbox_grace = 3600.0\n"
FAST = QUIET + '[plugins.filters]\ngroup_rate = "1000/min"\n'


async def filters_bot(make_bot, *, plugins=(), config: str = FAST, clock=None):
    bot = await make_bot(plugins=[FiltersPlugin, *plugins], config=config, admins=[BOT_ADMIN], clock=clock)
    for chat, title in ((GROUP, "Film club"), (OTHER_GROUP, "Other club")):
        bot.fake.add_chat(chat, "supergroup", title=title)
        bot.fake.set_admin(chat, ADMIN)
        bot.fake.set_member(chat, MEMBER)
    return bot
