"""Updates per second through the mediabot kernel vs aiogram 3's Dispatcher.feed_update.

Both sides get the same stream of ``/ping`` commands from many private users
and run an equivalent handler that answers "pong". Telegram I/O is stubbed on
both sides (aiogram: a session that answers every request at once; mediabot:
a gateway that returns the sent message), so what is measured is the update
path: parsing, routing, filters, the handler, the reply call.

The mediabot side runs with ALL builtin plugins enabled on real Redis and
MongoDB servers, so each update also passes the ban check, user tracking and
a real Redis rate-limit check (one round trip). aiogram has no rate limiting
or user tracking by default, so its side does strictly less work.

Rounds alternate between the two sides (interleaved, same process, same
loop); each round feeds ``--batch`` updates ``--concurrency`` at a time.

    uv run --group bench python bench/dispatch.py --quick

Ends with: RESULT updates_per_s=<mediabot median> ratio_vs_aiogram=<mediabot/aiogram>
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
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


async def build_mediabot(redis_url: str, mongo_uri: str, workdir: Path) -> tuple[Any, NullGateway]:
    from mediabot import create_app

    config = workdir / "plugins.toml"
    # A per-user rate high enough that no /ping is refused: the check still runs on every update.
    config.write_text("[services]\nuser_rate = \"1000000/s\"\n"
                      + "".join(f"[plugins.{n}]\nenabled = true\n" for n in BUILTIN))
    gateway = NullGateway()
    env = {"MEDIABOT_REDIS_URL": redis_url, "MEDIABOT_MONGO_URI": mongo_uri,
           "MEDIABOT_CALLBACK_SECRET": "bench" * 8, "MEDIABOT__MONGO__DATABASE": "bench"}
    app = create_app(config, env=env, plugins=[make_ping_plugin()], enable=("ping",), gateway=gateway)
    await app.start()
    return app, gateway


def mediabot_updates(n: int, users: int) -> list[Any]:
    from mediabot import Chat, Message, User

    return [Message(id=i, chat=Chat(id=10_000 + i % users, type="private"), date=1_700_000_000,
                    from_user=User(id=10_000 + i % users, first_name="U"), text="/ping")
            for i in range(n)]


async def feed_mediabot(app: Any, updates: list[Any], concurrency: int) -> None:
    for start in range(0, len(updates), concurrency):
        tasks = [app.submit(u) for u in updates[start:start + concurrency]]
        await asyncio.gather(*tasks)


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
    args = parser.parse_args()
    rounds = args.rounds or (6 if args.quick else 20)
    logging.getLogger("mediabot").setLevel(logging.WARNING)
    logging.getLogger("aiogram").setLevel(logging.WARNING)

    from mediabot.testing.servers import MongoServer, RedisServer

    with RedisServer() as redis, MongoServer() as mongo, tempfile.TemporaryDirectory() as tmp:
        app, gateway = await build_mediabot(redis.url, mongo.uri, Path(tmp))
        dp, bot, counter = build_aiogram()
        ours_updates = mediabot_updates(args.batch, args.users)
        theirs_updates = aiogram_updates(args.batch, args.users)
        # Warm-up: imports, script load, connection pools, first user writes.
        await feed_mediabot(app, ours_updates, args.concurrency)
        await feed_aiogram(dp, bot, theirs_updates, args.concurrency)
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(rounds):
            t = time.perf_counter()
            await feed_mediabot(app, ours_updates, args.concurrency)
            ours.append(args.batch / (time.perf_counter() - t))
            t = time.perf_counter()
            await feed_aiogram(dp, bot, theirs_updates, args.concurrency)
            theirs.append(args.batch / (time.perf_counter() - t))
        expected = args.batch * (rounds + 1)
        assert gateway.sent == expected, f"mediabot answered {gateway.sent} of {expected} updates"
        assert counter["sent"] == expected, f"aiogram answered {counter['sent']} of {expected} updates"
        await app.stop()
        await bot.session.close()

    m_ours, m_theirs = statistics.median(ours), statistics.median(theirs)
    print(f"machine: {sys.platform} python {sys.version.split()[0]}; {rounds} interleaved rounds of "
          f"{args.batch} updates, {args.concurrency} in flight, {args.users} users")
    print(f"mediabot (plugins: {', '.join(BUILTIN)}, ping; Redis rate limit per update): "
          f"median {m_ours:,.0f} updates/s (min {min(ours):,.0f}, max {max(ours):,.0f})")
    print(f"aiogram {__import__('aiogram').__version__} feed_update: "
          f"median {m_theirs:,.0f} updates/s (min {min(theirs):,.0f}, max {max(theirs):,.0f})")
    print(f"RESULT updates_per_s={m_ours:.0f} ratio_vs_aiogram={m_ours / m_theirs:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
