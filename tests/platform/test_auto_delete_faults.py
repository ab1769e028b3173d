"""Auto-delete while Redis is killed: the deletion is held in memory and still happens on time.

Each test owns a Redis server it kills. Asserted: the user gets the file and
the notice, the message goes at its time (whether Redis is back by then or
not), the operator sees the held count, and nothing is deleted twice. The
delivering plugin is not search: the schedule is delivery's.
"""

from __future__ import annotations

from collections import Counter

from mediabot import Command, MediaFile, PluginMeta, hookimpl
from mediabot.testing import FakeClock, eventually

CHANNEL = -1001234567890
QUIET = "[catalog]\nban_refresh = 3600.0\nflush_interval = 3600.0\noutbox_grace = 3600.0\n"
# A short socket timeout: a dead Redis costs a test little real time.
TEN_MINUTES = (QUIET + "[redis]\nsocket_timeout = 0.3\n[services]\nretry_interval = 0.1\n"
               "[delivery]\nauto_delete = 600\n")
HELD = "mediabot_autodelete_held"


class Gift:
    """``/gift``: delivers the catalogue's one file."""

    meta = PluginMeta(name="gift", description="Sends a file.")

    def __init__(self, ctx):
        self.files: list[MediaFile] = []

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="gift", description="Get the file", handler=self.gift)]

    async def gift(self, ctx):
        await ctx.app.delivery.send(ctx.user, self.files)


def deletions(bot) -> Counter[tuple[int, int]]:
    return Counter((c.params["chat_id"], m) for c in bot.fake.calls_of("delete_messages")
                   for m in c.params["message_ids"])


async def receive_while_redis_is_down(bot, server, user: int) -> tuple[tuple[int, int], float]:
    """A file in the catalogue, Redis killed, ``/gift``: the file message that arrived and when."""
    post = await bot.post(CHANNEL, media="Quiet.Harbour.2019.1080p.mkv")
    bot.plugin("gift").files = files = [MediaFile.from_message(post)]
    await bot.app.files.insert_batch(files)
    server.kill()
    sent_at = bot.clock.now()
    await bot.send("/gift", user=user)
    [file] = [m for m in bot.fake.sent_to(user) if m.media is not None]
    return (user, file.id), sent_at


async def test_a_file_delivered_while_redis_is_down_is_deleted_on_time_once_redis_is_back(make_bot, redis_factory):
    server = redis_factory()
    clock = FakeClock()
    bot = await make_bot(plugins=[Gift], config=TEN_MINUTES, clock=clock, env={"MEDIABOT_REDIS_URL": server.url})
    message, sent_at = await receive_while_redis_is_down(bot, server, user=5)
    assert bot.replies_to(5)[-1].text == "This file will be deleted in 10 min: save it elsewhere."
    auto_delete = bot.app.delivery.auto_delete
    assert auto_delete.held == 1 and bot.app.metrics.value(HELD) == 1  # what the operator sees

    await clock.sleep(120)
    server.restart()  # an empty Redis: only this process knows the deletion
    await eventually(lambda: auto_delete.held == 0, clock=clock, step=10.0, deadline=20.0)
    assert await auto_delete.pending() == 1 and bot.app.metrics.value(HELD) == 0  # in the shared schedule now
    assert deletions(bot) == Counter()

    await eventually(lambda: bot.fake.message(*message) is None, clock=clock, step=10.0, deadline=20.0)
    [call] = bot.fake.calls_of("delete_messages")
    assert sent_at + 600 <= call.at <= sent_at + 600 + 30  # on time: the loop looks at least every 30 s
    assert deletions(bot) == Counter({message: 1}) and await auto_delete.pending() == 0


async def test_a_deletion_that_comes_due_while_redis_is_still_down_happens_from_memory(make_bot, redis_factory):
    server = redis_factory()
    clock = FakeClock()
    bot = await make_bot(plugins=[Gift], config=TEN_MINUTES, clock=clock, env={"MEDIABOT_REDIS_URL": server.url})
    message, sent_at = await receive_while_redis_is_down(bot, server, user=6)

    await eventually(lambda: bot.fake.message(*message) is None, clock=clock, step=60, deadline=20.0)
    [call] = bot.fake.calls_of("delete_messages")
    assert sent_at + 600 <= call.at <= sent_at + 600 + 60
    assert bot.app.delivery.auto_delete.held == 0
    server.restart()
    for _ in range(3):  # Redis back: nothing is deleted again
        await clock.sleep(600)
    assert deletions(bot) == Counter({message: 1})


async def test_a_bot_stopping_while_redis_is_down_deletes_the_held_files_rather_than_forget_them(
        make_bot, redis_factory):
    server = redis_factory()
    bot = await make_bot(plugins=[Gift], config=TEN_MINUTES, clock=FakeClock(),
                         env={"MEDIABOT_REDIS_URL": server.url})
    message, _ = await receive_while_redis_is_down(bot, server, user=7)
    await bot.stop()
    assert deletions(bot) == Counter({message: 1}) and bot.fake.message(*message) is None
