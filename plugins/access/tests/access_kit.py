"""What the access tests share: a plugin that hands out catalogue files, configs, and the user's side."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from mediabot_access import AccessPlugin

from mediabot import Callback, Command, MediaFile, PluginMeta, hookimpl

FILES = -1001000000001    # where the catalogue's files were posted
FILMS = -1002000000001    # a private channel users must join
SERIES = -1002000000002   # a second one
USER = 5
ADMIN = 9


class Shelf:
    """``/shelf`` lists the catalogue's files as buttons; a press (or a deep link) delivers one."""

    meta = PluginMeta(name="shelf", description="Files on a shelf.")

    def __init__(self, ctx):
        self.files: list[MediaFile] = []

    @hookimpl
    def mediabot_commands(self):
        return [Command(name="shelf", description="The shelf", handler=self.show),
                Command(name="link", description="A link to file N", handler=self.link, usage="N")]

    @hookimpl
    def mediabot_callbacks(self):
        return [Callback("shelf.get", self.get)]

    @hookimpl
    async def mediabot_deep_link(self, ctx, action, args):
        if action != "shelf":
            return None
        await ctx.app.delivery.send(ctx.user, [self.files[int(args[0])]])
        return True

    async def show(self, ctx):
        await ctx.reply("The shelf:", keyboard=[[ctx.button(f.file_name, "shelf.get", i)]
                                                 for i, f in enumerate(self.files)])

    async def link(self, ctx):
        await ctx.reply(ctx.deep_link("shelf", int(ctx.args)))

    async def get(self, ctx):
        await ctx.answer("Sending…")
        await ctx.app.delivery.send(ctx.user, [self.files[int(ctx.args[0])]])


def access(*channels: str, **keys: object) -> str:
    """A ``[plugins.access]`` table: ``channels`` are TOML inline tables, ``keys`` TOML values."""
    lines = ["[plugins.access]"]
    for k, v in keys.items():
        lines.append(f"{k} = {_toml(v)}")
    lines.append("channels = [" + ", ".join(channels) + "]")
    return "\n".join(lines) + "\n"


def _toml(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return str(v)


async def shelf_bot(make_bot, config: str, *, n: int = 2, plugins: tuple = (), **kw):
    bot = await make_bot(plugins=[AccessPlugin, Shelf, *plugins], config=config, admins=[ADMIN], **kw)
    bot.fake.add_chat(FILMS, "channel", title="Films")
    bot.fake.add_chat(SERIES, "channel", title="Series")
    files = []
    for i in range(n):
        post = await bot.post(FILES, media=f"Film.{i}.2019.1080p.mkv", caption=f"Film {i}")
        files.append(MediaFile.from_message(post))
    await bot.app.files.insert_batch(files)
    bot.plugin("shelf").files = files
    return bot


def received(bot, user: int = USER) -> list[str]:
    """The names of the files ``user`` has received, in order."""
    return [m.media.file_name for m in bot.replies_to(user) if m.media is not None]


def urls(message) -> dict[str, str]:
    return {b.text: b.url for row in message.keyboard or [] for b in row if b.url}


def start_payload(url: str) -> str:
    return parse_qs(urlparse(url).query)["start"][0]


async def join(bot, chat: int, user: int = USER, link: str | None = None) -> None:
    """``user`` joins ``chat`` (by ``link``) and the bot has seen the ``chat_member`` update."""
    await bot.fake.user_joins(chat, user, link=link)
    await bot.settle()


async def leave(bot, chat: int, user: int = USER) -> None:
    await bot.fake.user_leaves(chat, user)
    await bot.settle()
