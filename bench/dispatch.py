"""Updates per second through the mediabot kernel vs aiogram 3's Dispatcher.feed_update.

Both sides get the same stream of ``/ping`` commands from many private users
and run an equivalent handler that answers "pong". Telegram I/O is stubbed on
both sides at the same depth: aiogram gets a session that answers every
request at once (it still builds and routes a real ``SendMessage``);
mediabot gets its real :class:`~mediabot.core.telegram.gateway.Gateway`
(flood control, send pacing per chat and global, with limits set high enough
not to bind, call metrics) over a no-op pyrogram client, and its updates are
pyrogram ``Message`` objects handed to the gateway's registered pyrogram
handler, so each one also goes through the real conversion
(:mod:`mediabot.core.telegram.convert`) and ``app.submit``'s admission.
What is measured is the update path: conversion, parsing, routing, filters,
the handler, the reply call down to the client.

The mediabot side runs with ALL builtin plugins enabled on real Redis and
MongoDB servers, so each update also passes the ban check, user tracking and
a real Redis rate-limit check (one round trip), and each reply books its
global send slot in the Redis send budget shared by every process
(``[telegram] shared_budget``, on by default: a second round trip).
aiogram has no rate limiting, send pacing or user tracking by default, so
its side does strictly less work.

Then, with that app stopped, half as many rounds repeat the earlier
measurement, where a stand-in replaced the whole gateway (no conversion, no
flood control, no pacing), against aiogram again: the difference between
the two figures is what the Telegram edge costs.

Rounds alternate between the sides (interleaved, same process, same loop);
each round feeds ``--batch`` updates ``--concurrency`` at a time.
``--local-budget`` paces sends in the process only (no second Redis round
trip); the app's objects are frozen after the start (``gc.freeze()``) as
``mediabot run`` does, unless ``--no-freeze``.

    uv run --group bench python bench/dispatch.py --quick

Ends with: RESULT updates_per_s=<mediabot median> ratio_vs_aiogram=<mediabot/aiogram>
    no_gateway_updates_per_s=<...> no_gateway_ratio_vs_aiogram=<...>
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BUILTIN = ("search", "quota", "indexer", "broadcast", "ops")  # dbrouter needs several databases: see below


# -- mediabot side ---------------------------------------------------------------------------
class NullGateway:
    """The gateway surface the dispatcher uses, answering at once (no Telegram, no pacing)."""

    def __init__(self) -> None:
        self.sent = 0
        self._next_id = 0

    async def start(self, app: Any) -> None: ...
    async def stop_updates(self) -> None: ...
    async def close(self) -> None: ...
    async def set_commands(self, *args: Any, **kwargs: Any) -> None: ...
    async def answer_callback(self, *args: Any, **kwargs: Any) -> None: ...

    async def send_text(self, chat_id: int, text: str, **kwargs: Any) -> Any:
        from mediabot import Chat, Message

        self.sent += 1
        self._next_id += 1
        return Message(id=self._next_id, chat=Chat(id=chat_id, type="private"), date=0, text=text)


class NoopClient:
    """A pyrogram ``Client`` that does nothing: what the real gateway wraps here instead of Kurigram's.

    Handlers are kept so updates can be handed to them as pyrogram's own
    dispatcher does; every send answers at once with one prebuilt message
    (as aiogram's side answers with one prebuilt reply).
    """

    def __init__(self) -> None:
        from pyrogram import enums
        from pyrogram import types as pt

        self.handlers: list[Any] = []
        self.sent = 0
        self._me = pt.User(id=42, is_bot=True, first_name="Bench", username="benchbot")
        self._reply = pt.Message(id=1, date=datetime.now(), text="pong",
                                 chat=pt.Chat(id=1, type=enums.ChatType.PRIVATE, first_name="U"))

    def add_handler(self, handler: Any, group: int = 0) -> None:
        self.handlers.append(handler)

    def remove_handler(self, handler: Any, group: int = 0) -> None:
        self.handlers.remove(handler)

    async def start(self) -> None: ...
    async def stop(self) -> None: ...

    async def get_me(self) -> Any:
        return self._me

    async def set_bot_commands(self, **kwargs: Any) -> bool:
        return True

    async def answer_callback_query(self, **kwargs: Any) -> bool:
        return True

    async def send_message(self, **kwargs: Any) -> Any:
        self.sent += 1
        return self._reply


def make_ping_plugin() -> Any:
    from mediabot import Command, PluginMeta, hookimpl

    class Ping:
        meta = PluginMeta(name="ping", description="answers /ping")

        def __init__(self, ctx: Any) -> None:
            pass

        @hookimpl
        def mediabot_commands(self) -> list[Any]:
            return [Command(name="ping", description="pong", handler=self.ping)]

        async def ping(self, ctx: Any) -> None:
            await ctx.reply("pong")

    return Ping


# Limits far above what the run reaches: pacing runs on every send, but never makes one wait.
UNBOUND_TELEGRAM = ("[telegram]\nsend_concurrency = 1000\nedit_concurrency = 1000\n"
                    "global_rate = 1000000000.0\nprivate_chat_rate = 1000000000.0\n"
                    "group_per_minute = 1000000000\nbulk_share = 1.0\n")


async def build_mediabot(redis_url: str, mongo_uri: str, workdir: Path, gateway: Any, name: str,
                         shared_budget: bool = True) -> Any:
    from mediabot import create_app

    config = workdir / f"{name}.toml"
    # A per-user rate high enough that no /ping is refused: the check still runs on every update.
    config.write_text(f"[runtime]\ndata_dir = \"{workdir / name}\"\n"
                      "[services]\nuser_rate = \"1000000/s\"\n" + UNBOUND_TELEGRAM
                      + f"shared_budget = {'true' if shared_budget else 'false'}\n"
                      # Two apps in one process: the ops HTTP server of each takes a free port.
                      + "".join(f"[plugins.{n}]\nenabled = true\n" + ('listen = "127.0.0.1:0"\n' if n == "ops" else "")
                                for n in BUILTIN))
    env = {"MEDIABOT_REDIS_URL": redis_url, "MEDIABOT_MONGO_URI": mongo_uri,
           "MEDIABOT_CALLBACK_SECRET": "bench" * 8, "MEDIABOT__MONGO__DATABASE": f"bench_{name}",
           "MEDIABOT__REDIS__KEY_PREFIX": f"bench_{name}"}
    app = create_app(config, env=env, plugins=[make_ping_plugin()], enable=("ping",), gateway=gateway)
    await app.start()
    return app


def pyrogram_updates(n: int, users: int) -> list[Any]:
    """Inbound ``/ping`` messages as pyrogram's parser hands them to a handler."""
    from pyrogram import enums
    from pyrogram import types as pt

    now = datetime.now()
    out = []
    for i in range(n):
        uid = 10_000 + i % users
        out.append(pt.Message(id=i + 1, date=now, text="/ping",
                              chat=pt.Chat(id=uid, type=enums.ChatType.PRIVATE, first_name="U"),
                              from_user=pt.User(id=uid, is_bot=False, first_name="U")))
    return out


async def feed_gateway(app: Any, client: NoopClient, updates: list[Any], concurrency: int) -> None:
    """Hand updates to the gateway's pyrogram message handler, as pyrogram's dispatcher would."""
    from pyrogram.handlers import MessageHandler

    handler = next(h for h in client.handlers if isinstance(h, MessageHandler))
    for start in range(0, len(updates), concurrency):
        for u in updates[start:start + concurrency]:
            if await handler.check(client, u):
                await handler.callback(client, u)
        await app.supervisor.wait_idle()


def mediabot_updates(n: int, users: int) -> list[Any]:
    from mediabot import Chat, Message, User

    return [Message(id=i, chat=Chat(id=10_000 + i % users, type="private"), date=1_700_000_000,
                    from_user=User(id=10_000 + i % users, first_name="U"), text="/ping")
            for i in range(n)]


async def feed_mediabot(app: Any, updates: list[Any], concurrency: int) -> None:
    for start in range(0, len(updates), concurrency):
        tasks = [t for t in (app.submit(u) for u in updates[start:start + concurrency]) if t is not None]
        await asyncio.gather(*tasks)
        await app.supervisor.wait_idle()


# -- aiogram side ----------------------------------------------------------------------------
def build_aiogram() -> tuple[Any, Any, dict[str, int]]:
    from aiogram import Bot, Dispatcher, Router
    from aiogram.client.session.base import BaseSession
    from aiogram.filters import Command
    from aiogram.types import Chat, Message

    counter = {"sent": 0}
    reply = Message(message_id=1, date=datetime.now(UTC), chat=Chat(id=1, type="private"), text="pong")

    class InstantSession(BaseSession):
        async def make_request(self, bot: Any, method: Any, timeout: int | None = None) -> Any:
            counter["sent"] += 1
            return reply

        async def stream_content(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - unused
            raise NotImplementedError

        async def close(self) -> None: ...

    router = Router()

    @router.message(Command("ping"))
    async def ping(message: Message) -> None:
        await message.answer("pong")

    dp = Dispatcher()
    dp.include_router(router)
    bot = Bot("123456:" + "A" * 35, session=InstantSession())
    return dp, bot, counter


def aiogram_updates(n: int, users: int) -> list[Any]:
    from aiogram.types import Chat, Message, Update, User

    now = datetime.now(UTC)
    return [Update(update_id=i, message=Message(
        message_id=i, date=now, chat=Chat(id=10_000 + i % users, type="private"),
        from_user=User(id=10_000 + i % users, is_bot=False, first_name="U"), text="/ping"))
        for i in range(n)]


async def feed_aiogram(dp: Any, bot: Any, updates: list[Any], concurrency: int) -> None:
    for start in range(0, len(updates), concurrency):
        await asyncio.gather(*(dp.feed_update(bot, u) for u in updates[start:start + concurrency]))


# -- the run ---------------------------------------------------------------------------------
async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a run under a minute")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--no-freeze", action="store_true",
                        help="skip the gc.freeze() `mediabot run` does once the app has started (it takes the "
                             "~190,000 objects a started app keeps for life out of the collector's full passes; "
                             "the process is shared, so aiogram's side gains too)")
    parser.add_argument("--local-budget", action="store_true",
                        help="pace sends in this process only ([telegram] shared_budget = false: one "
                             "Redis round trip less per reply), as a single-process deployment may")
    args = parser.parse_args()
    rounds = args.rounds or (6 if args.quick else 20)
    logging.getLogger("mediabot").setLevel(logging.WARNING)
    logging.getLogger("aiogram").setLevel(logging.WARNING)

    from mediabot.core.telegram.gateway import Gateway
    from mediabot.testing.servers import MongoServer, RedisServer

    dp, bot, counter = build_aiogram()
    theirs_updates = aiogram_updates(args.batch, args.users)

    async def interleaved(feed: Callable[[], Awaitable[None]], n: int) -> tuple[list[float], list[float]]:
        """``n`` rounds of mediabot's ``feed`` and aiogram's, alternating, after one warm-up of each."""
        await feed()  # warm-up: imports, script load, connection pools, first user writes
        await feed_aiogram(dp, bot, theirs_updates, args.concurrency)
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(n):
            t = time.perf_counter()
            await feed()
            ours.append(args.batch / (time.perf_counter() - t))
            t = time.perf_counter()
            await feed_aiogram(dp, bot, theirs_updates, args.concurrency)
            theirs.append(args.batch / (time.perf_counter() - t))
        return ours, theirs

    # One app at a time: a second app's background work would run during the first's rounds.
    stand_in_rounds = max(2, rounds // 2)
    with RedisServer() as redis, MongoServer() as mongo, tempfile.TemporaryDirectory() as tmp:
        client = NoopClient()
        app = await build_mediabot(redis.url, mongo.uri, Path(tmp), Gateway(client), "gateway",
                                   shared_budget=not args.local_budget)
        ours_updates = pyrogram_updates(args.batch, args.users)
        if not args.no_freeze:
            gc.freeze()  # as App.run does after the start
        ours, theirs = await interleaved(lambda: feed_gateway(app, client, ours_updates, args.concurrency),
                                         rounds)
        await app.stop()
        assert client.sent == args.batch * (rounds + 1), f"mediabot answered {client.sent} updates"

        null_gateway = NullGateway()
        old_app = await build_mediabot(redis.url, mongo.uri, Path(tmp), null_gateway, "null")
        old_updates = mediabot_updates(args.batch, args.users)
        old, theirs_old = await interleaved(lambda: feed_mediabot(old_app, old_updates, args.concurrency),
                                            stand_in_rounds)
        await old_app.stop()
        assert null_gateway.sent == args.batch * (stand_in_rounds + 1), "the stand-in missed updates"
    assert counter["sent"] == args.batch * (rounds + stand_in_rounds + 2), "aiogram missed updates"
    await bot.session.close()

    m_ours, m_theirs = statistics.median(ours), statistics.median(theirs)
    m_old, m_theirs_old = statistics.median(old), statistics.median(theirs_old)
    print(f"machine: {sys.platform} python {sys.version.split()[0]}; {rounds} interleaved rounds of "
          f"{args.batch} updates, {args.concurrency} in flight, {args.users} users"
          + ("" if args.no_freeze else "; gc.freeze() after start, as `mediabot run` does"))
    print(f"mediabot, real Gateway over a no-op client, pyrogram updates (plugins: {', '.join(BUILTIN)}, "
          f"ping; Redis rate limit{'' if args.local_budget else ' and send budget'} per update): "
          f"median {m_ours:,.0f} updates/s (min {min(ours):,.0f}, max {max(ours):,.0f})")
    print(f"aiogram {__import__('aiogram').__version__} feed_update, same rounds: "
          f"median {m_theirs:,.0f} updates/s (min {min(theirs):,.0f}, max {max(theirs):,.0f})")
    print(f"then {stand_in_rounds} rounds of the earlier measurement (gateway replaced by a stand-in, "
          f"kernel updates): median {m_old:,.0f} updates/s, aiogram {m_theirs_old:,.0f}")
    print(f"RESULT updates_per_s={m_ours:.0f} ratio_vs_aiogram={m_ours / m_theirs:.3f} "
          f"no_gateway_updates_per_s={m_old:.0f} no_gateway_ratio_vs_aiogram={m_old / m_theirs_old:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
