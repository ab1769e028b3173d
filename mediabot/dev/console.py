"""`mediabot dev`: the whole app on embedded services, with the fake Telegram as a chat in the terminal.

Input syntax (interactive and ``--script``), one line each:

=====================  ==========================================================
``text`` or ``/cmd``   send it as the current identity in a private chat
``#N``                 press button N of the latest message that has buttons
``:press N``           the same
``:as user``           talk as the console user (id 1001)
``:as admin``          talk as the console admin (id 1000, always in ``[bot] admins``)
``:as ID``             talk as any user id
``:channel CHAT [@NAME] [TITLE]``  channel CHAT (e.g. -1001234567890) exists, the bot an admin of it
``:post CHAT FILE [CAPTION]``  a post with file FILE appears in channel CHAT (made on first use)
``:inline QUERY``      type ``@bot QUERY`` and show the inline results
``:reply TEXT``        send TEXT as a reply to your previous message (e.g. ``:reply /broadcast``)
``:group [CHAT]``      talk in group CHAT (default -1001000000002, made on first use) instead
``:private``           back to your private chat with the bot
``:help``              this table
``:quit``              stop (so does end of input and Ctrl-C)
``# comment``          ignored (a ``#`` followed by a space)
=====================  ==========================================================

Every line waits until the bot has finished reacting before the next one,
so a script's transcript is deterministic.
"""

from __future__ import annotations

import asyncio
import shlex
import sys
import threading
from collections.abc import AsyncIterator, Callable
from typing import TextIO

from mediabot.core.app import App
from mediabot.core.factory import create_app
from mediabot.core.telegram.clock import MonotonicClock
from mediabot.core.telegram.convert import message_from_pyrogram
from mediabot.core.telegram.gateway import Gateway
from mediabot.core.types import Message
from mediabot.testing.fake import FakeTelegram
from mediabot.testing.records import Call
from mediabot.testing.tl import FakeFile

USER_ID = 1001
ADMIN_ID = 1000
MAX_USER_ID = 2**63  # ids are positive signed 64-bit integers
DEMO_CHANNEL = -1001000000001  # a well-formed channel id (-100 + 10 digits)
DEMO_GROUP = -1001000000002
_SENDS = ("send_message", "send_cached_media", "send_document", "copy_message")
_EDITS = ("edit_message_text", "edit_message_reply_markup")

def _help_table(doc: str) -> str:
    """The module docstring's input table, without its reStructuredText markup."""
    rows = doc.split("Input syntax", 1)[1].split("Every line", 1)[0]
    out = ["Console directives:"]
    for line in rows.splitlines()[1:]:
        if not line.strip() or set(line.strip()) <= {"=", " "}:
            continue
        what, _, means = line.replace("``", "").strip().partition("  ")
        out.append(f"  {what:<27} {means.strip()}")
    return "\n".join(out)


HELP = _help_table(__doc__ or "")


class Transcript:
    """Renders what the bot does in the console's chats."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.keyboard_message: Message | None = None

    def said(self, who: str, text: str) -> None:
        self.out.write(f"{who} › {text}\n")
        self.out.flush()

    def bot(self, message: Message, *, edited: bool = False) -> None:
        body = message.text if message.text is not None else (message.caption or "")
        if message.media is not None:
            name = message.media.file_name or message.media.kind
            body = f"[{message.media.kind}: {name}]" + (f" {body}" if body else "")
        lines = body.splitlines() or [""]
        tag = "bot (edited)" if edited else "bot"
        self.out.write(f"{tag} › {lines[0]}\n")
        for line in lines[1:]:
            self.out.write(f"{' ' * len(tag)}   {line}\n" if line else "\n")
        buttons = [b for row in message.keyboard or [] for b in row]
        if buttons:
            self.keyboard_message = message
            n = 0
            for row in message.keyboard or []:
                cells = []
                for b in row:
                    n += 1
                    target = f" → {b.url}" if b.url else (f" → @bot {b.switch_inline}" if b.switch_inline is not None else "")
                    cells.append(f"[{n}] {b.text}{target}")
                self.out.write(f"{' ' * len(tag)}   " + "   ".join(cells) + "\n")
        self.out.flush()


class DevConsole:
    """The chat: reads lines, drives the fake Telegram, prints the bot's side."""

    def __init__(self, app: App, fake: FakeTelegram, out: TextIO, *, echo: bool = True) -> None:
        self.app = app
        self.echo = echo  # a transcript shows the input; a terminal already shows what was typed
        self.fake = fake
        self.transcript = Transcript(out)
        self.identity = USER_ID
        self._last_sent: dict[tuple[int, int], int] = {}  # (identity, chat) -> its latest message, for :reply
        self.group: int | None = None  # the group the console talks in; None: the private chat
        fake.add_user(USER_ID, first_name="Dev", last_name="User", username="dev_user")
        fake.add_user(ADMIN_ID, first_name="Dev", last_name="Admin", username="dev_admin")
        fake.observe(self._on_call)

    @property
    def who(self) -> str:
        name = {USER_ID: "user", ADMIN_ID: "admin"}.get(self.identity, f"user {self.identity}")
        return name if self.group is None else f"{name} in {self.group}"

    @property
    def chat(self) -> int:
        """The chat the console shows and writes in."""
        return self.identity if self.group is None else self.group

    def _on_call(self, call: Call) -> None:
        if not call.ok:
            return
        # Answers to button presses carry no chat: a toast or alert is for whoever pressed.
        if call.method == "answer_callback_query":
            if call.params.get("text"):
                kind = "alert" if call.params.get("show_alert") else "toast"
                self.transcript.said(f"bot ({kind})", str(call.params["text"]))
            return
        if call.params.get("chat_id") != self.chat:
            return
        if call.method in _SENDS and call.result is not None:
            message = message_from_pyrogram(call.result)
            if message is not None:
                self.transcript.bot(message)
        elif call.method in _EDITS:
            current = self.fake.message(self.chat, call.params["message_id"])
            if current is not None:
                self.transcript.bot(current, edited=True)

    async def settle(self) -> None:
        await self.app.supervisor.wait_idle()

    async def handle(self, line: str) -> bool:
        """Act on one input line; ``False`` ends the session."""
        line = line.strip()
        if not line or line.startswith("# "):
            return True
        if line.startswith("#") and line[1:].isdigit():
            line = f":press {line[1:]}"
        if line.startswith(":"):
            return await self._directive(line)
        await self._send(line)
        return True

    async def _send(self, text: str, reply_to: int | None = None) -> None:
        if self.echo:
            self.transcript.said(self.who if reply_to is None else f"{self.who} (reply)", text)
        sent = await self.fake.user_message(self.identity, text, chat_id=self.group, reply_to=reply_to)
        self._last_sent[self.identity, self.chat] = sent.id
        await self.settle()

    async def _directive(self, line: str) -> bool:
        try:
            parts = shlex.split(line[1:])
        except ValueError:
            parts = line[1:].split()
        name, args = (parts[0].lower(), parts[1:]) if parts else ("", [])
        if name in ("quit", "exit", "q"):
            return False
        if name == "help":
            self.transcript.out.write(HELP.strip("\n") + "\n")
        elif name == "as":
            if not args:
                self.transcript.said("console", "usage: :as user | :as admin | :as ID")
                return True
            target = {"user": USER_ID, "admin": ADMIN_ID}.get(args[0].lower())
            if target is None and args[0].isdigit() and 0 < int(args[0]) < MAX_USER_ID:
                target = int(args[0])  # Telegram user ids are positive 64-bit integers
            if target is None:
                self.transcript.said("console", "usage: :as user | :as admin | :as ID")
            else:
                self.identity = target
                role = self.app.role_of(target)
                self.transcript.said("console", f"now talking as {self.who} (id {target}, role {role})")
        elif name == "press":
            if not args or not args[0].isdigit():
                self.transcript.said("console", "usage: :press N (or #N): press button N of the latest message")
                return True
            await self._press(int(args[0]))
        elif name == "channel" and args and args[0].lstrip("-").isdigit():
            await self._channel(int(args[0]), args[1:])
        elif name == "post" and len(args) >= 2 and args[0].lstrip("-").isdigit():
            caption = " ".join(args[2:]) or None
            try:
                post = await self.fake.channel_post(int(args[0]), file=FakeFile(file_name=args[1]), caption=caption)
            except ValueError as exc:  # e.g. not a channel id: tell the person at the keyboard
                self.transcript.said("console", str(exc))
                return True
            self.transcript.said("channel", f"{args[0]} posted {args[1]}" + (f" ({caption})" if caption else ""))
            await self.settle()
            await self._until_catalogued(post.chat.id, post.id)
        elif name == "reply":
            text = line.strip()[len(":reply"):].strip()
            previous = self._last_sent.get((self.identity, self.chat))
            if not text or previous is None:
                self.transcript.said("console", "usage: :reply TEXT: send TEXT as a reply to your previous "
                                                "message (send one first)")
                return True
            await self._send(text, reply_to=previous)
        elif name == "group":
            await self._group(args)
        elif name == "private":
            self.group = None
            self.transcript.said("console", f"now in the private chat of {self.who} with the bot")
        elif name == "inline":
            query = " ".join(args)
            self.transcript.said(self.who, f"@bot {query}")
            query_id = await self.fake.user_inline_query(self.identity, query)
            await self.settle()
            answer = self.fake.inline_answers.get(query_id)
            if answer is None or not answer.results:
                self.transcript.said("bot (inline)", "no results")
            else:
                for i, r in enumerate(answer.results, 1):
                    self.transcript.said("bot (inline)", f"{i}. {r.title}")
        else:
            self.transcript.said("console", f"unknown directive {line!r}; type :help")
        return True

    async def _until_catalogued(self, chat_id: int, message_id: int, wait: float = 2.0) -> None:
        """Wait (up to ``wait`` s) for a post to reach the catalogue, so the next line's search finds it.

        An indexed channel's post goes through the indexer's queue a moment
        after the bot has taken it; a post nobody indexes just waits it out.
        """
        files = self.app.files
        if files is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while loop.time() < deadline:
            try:
                if await files.by_message(chat_id, [message_id]):
                    return
            except Exception:  # noqa: BLE001 - the catalogue is away: the bot will say so itself
                return
            await asyncio.sleep(0.05)

    async def _channel(self, chat_id: int, rest: list[str]) -> None:
        """Make a channel exist as adding the bot to it as an admin would: ``/channel_add`` then finds it."""
        username = rest[0][1:] if rest and rest[0].startswith("@") and len(rest[0]) > 1 else None
        title = " ".join(rest[1:] if username else rest) or None
        if chat_id in self.fake.world.chats:
            self.transcript.said("console", f"channel {chat_id} already exists")
            return
        try:
            self.fake.add_chat(chat_id, "channel", title=title, username=username)
        except ValueError as exc:  # not a channel id: tell the person at the keyboard
            self.transcript.said("console", str(exc))
            return
        named = f" (@{username})" if username else ""
        self.transcript.said("console", f"channel {chat_id}{named} exists and the bot is an admin of it")

    async def _group(self, args: list[str]) -> None:
        """Talk in a group (made on first use, with the bot a member), as the current identity."""
        if len(args) > 1 or (args and not args[0].lstrip("-").isdigit()):
            self.transcript.said("console", "usage: :group [CHAT] (a group id, e.g. -1001000000002)")
            return
        chat_id = int(args[0]) if args else DEMO_GROUP
        if chat_id not in self.fake.world.chats:
            try:
                self.fake.add_chat(chat_id, "supergroup", title="Dev group")
            except ValueError as exc:  # not a group id: tell the person at the keyboard
                self.transcript.said("console", str(exc))
                return
        elif chat_id > 0 or self.fake.world.chats[chat_id].kind == "channel":
            self.transcript.said("console", f"{chat_id} is not a group")
            return
        self.group = chat_id
        self.transcript.said("console", f"now talking in group {chat_id}; the bot answers there when "
                                        f"mentioned (@{self.fake.world.bot_username}); :private goes back")

    async def _open_link(self, url: str) -> bool:
        """Open a ``t.me/<bot>?start=...`` link as Telegram does: the private chat, then ``/start``."""
        prefix = f"https://t.me/{self.fake.world.bot_username}?start="
        if not url.startswith(prefix):
            return False
        self.group = None
        self.transcript.said("console", f"the link opens the private chat of {self.who} with the bot")
        await self._send(f"/start {url[len(prefix):]}")
        return True

    async def _press(self, n: int) -> None:
        message = self.transcript.keyboard_message
        buttons = [b for row in (message.keyboard if message else None) or [] for b in row]
        if message is None or not 1 <= n <= len(buttons):
            self.transcript.said("console", f"no button {n} on the latest message with buttons")
            return
        current = self.fake.message(message.chat.id, message.id) or message
        buttons = [b for row in current.keyboard or [] for b in row]
        if 1 <= n <= len(buttons) and buttons[n - 1].url and await self._open_link(buttons[n - 1].url or ""):
            return
        if not 1 <= n <= len(buttons) or buttons[n - 1].callback is None:
            self.transcript.said("console", f"button {n} cannot be pressed (it is gone or opens a link)")
            return
        button = buttons[n - 1]
        self.transcript.said(self.who, f"[presses {button.text}]")
        await self.fake.user_press(self.identity, message.chat.id, message.id, button.callback)
        await self.settle()


async def _stdin_lines(prompt: Callable[[], str] | None) -> AsyncIterator[str]:
    """Lines from stdin without blocking the loop; a daemon thread never holds up exit."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    ready = threading.Event()

    def reader() -> None:
        try:
            while True:
                ready.wait()
                ready.clear()
                line = input(prompt()) if prompt else sys.stdin.readline()
                if not prompt and line == "":
                    break
                loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\n"))
        except (EOFError, KeyboardInterrupt, ValueError):
            pass
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=reader, name="dev-console-input", daemon=True).start()
    while True:
        ready.set()
        line = await queue.get()
        if line is None:
            return
        yield line


async def seed_demo(app: App, out: TextIO) -> None:
    """Put the demo catalogue in the database (idempotent: duplicates are counted, not added)."""
    from mediabot.catalog.models import MediaFile
    from mediabot.core.types import Chat
    from mediabot.dev.demo import demo_catalogue

    files = getattr(app, "files", None)
    if files is None:
        out.write("console › --demo needs MongoDB; the catalogue was not seeded\n")
        return
    items = list(demo_catalogue())
    already = await files.count({"chat_id": DEMO_CHANNEL})
    if already >= len(items):
        out.write(f"console › demo catalogue: {await files.count()} files in the catalogue\n")
        return
    channel = Chat(id=DEMO_CHANNEL, type="channel", title="Demo Library")
    batch = [MediaFile.from_message(Message(id=i, chat=channel, date=1_700_000_000 + i, media=media,
                                            caption=caption))
             for i, (media, caption) in enumerate(items, 1)]
    report = await files.insert_batch(batch)
    total = await files.count()
    out.write(f"console › demo catalogue: {report.inserted} files added, {report.duplicates} already there, "
              f"{total} in the catalogue\n")


async def run_console(*, config: str | None, demo: bool, script: TextIO | None, env: dict[str, str],
                      out: TextIO = sys.stdout) -> int:
    """Run the app (on the services ``env`` points at) and the chat until the input ends; shut down."""
    clock = MonotonicClock()
    fake = FakeTelegram(clock)
    app = create_app(config, env=env, gateway=Gateway(fake, clock=clock), clock=clock)
    await app.start()
    interactive = script is None and sys.stdin.isatty()
    console = DevConsole(app, fake, out, echo=not interactive)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig_name in ("SIGINT", "SIGTERM"):
        import signal

        loop.add_signal_handler(getattr(signal, sig_name), stop.set)
    try:
        out.write(f"console › {app.section('bot').name} is running with plugins: "
                  f"{', '.join(app.started) or 'none'}; you are the user (id {USER_ID}); "
                  f"type :help for the console's commands\n")
        if demo:
            await seed_demo(app, out)
        lines = _stdin_lines((lambda: f"{console.who}> ") if interactive else None) if script is None \
            else _aiter_lines(script)
        async for line in _until(lines, stop):
            if not await console.handle(line):
                break
        return 0
    finally:
        out.write("console › shutting down\n")
        out.flush()
        await app.stop("console closed")


async def _aiter_lines(stream: TextIO) -> AsyncIterator[str]:
    for line in stream:
        yield line.rstrip("\n")


async def _until(lines: AsyncIterator[str], stop: asyncio.Event) -> AsyncIterator[str]:
    """Yield lines until ``stop`` is set (Ctrl-C) or the input ends."""
    iterator = aiter(lines)
    while not stop.is_set():
        nxt = asyncio.ensure_future(anext(iterator))
        stopper = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({nxt, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if nxt not in done:
            nxt.cancel()
            return
        try:
            yield nxt.result()
        except StopAsyncIteration:
            return
