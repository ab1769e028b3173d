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
``:pick N``            choose inline result N: its message appears in the chat, as Telegram sends it
``:open N``            write document N the bot sent (``[document N: …]``) to a file; prints its path
``:wait SECONDS``      let the bot work for SECONDS (what it says meanwhile is shown)
``:wait-for TEXT``     wait (10 s, or ``--timeout S``) for the bot to say TEXT; a miss fails the script
``:reply TEXT``        send TEXT as a reply to your previous message (e.g. ``:reply /broadcast``)
``:pay``               pay the latest invoice the bot sent you (Telegram Stars; nothing real is charged)
``:join CHAT``         join channel or group CHAT (made on first use, the bot an admin of it), e.g. to pass force-subscribe
``:leave CHAT``        leave CHAT
``:request CHAT``      ask to join CHAT through the bot's join-request link (force-subscribe in request mode)
``:admin [CHAT]``      become an admin of group CHAT (default: the current group), e.g. to add /filter replies
``:group [CHAT]``      talk in group CHAT (default -1001000000002, made on first use) instead
``:private``           back to your private chat with the bot
``:help``              this table
``:quit``              stop (so does end of input and Ctrl-C)
``# comment``          ignored (a ``#`` followed by a space)
=====================  ==========================================================

Every line waits until the bot has finished reacting before the next one,
so a script's transcript is deterministic; what the bot does later (a job,
a broadcast) is waited for with ``:wait-for``.
"""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from typing import TextIO

import msgspec

from mediabot.core.app import App
from mediabot.core.telegram.convert import message_from_pyrogram
from mediabot.core.types import InlineResult
from mediabot.dev.transcript import Transcript
from mediabot.testing.fake import FakeTelegram
from mediabot.testing.records import Call
from mediabot.testing.tl import FakeFile

USER_ID = 1001
ADMIN_ID = 1000
MAX_USER_ID = 2**63  # ids are positive signed 64-bit integers
DEMO_GROUP = -1001000000002
_SENDS = ("send_message", "send_cached_media", "send_document", "copy_message", "send_invoice")
_EDITS = ("edit_message_text", "edit_message_reply_markup")
WAIT_FOR_TIMEOUT = 10.0  # seconds; long enough for a job's report, short enough to notice a miss
MAX_WAIT = 3600.0

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


class DevConsole:
    """The chat: reads lines, drives the fake Telegram, prints the bot's side."""

    def __init__(self, app: App, fake: FakeTelegram, out: TextIO, *, downloads: Path) -> None:
        self.app = app
        self.fake = fake
        self.transcript = Transcript(out)
        self.downloads = downloads  # where :open writes documents
        self.documents: list[tuple[int, int]] = []  # (chat, message) of each uploaded document, for :open N
        self.inline_results: list[InlineResult] = []  # of the latest :inline, for :pick N
        self.invoices: dict[int, int] = {}  # chat -> the latest invoice the bot sent there, for :pay
        self.failed = False  # a :wait-for timed out: a script ends with exit code 1
        self._mark = 0  # :wait-for looks at what the bot said from here on (since the last action)
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
                number = None
                if call.method == "send_document":  # an upload: its bytes exist, :open can write them
                    self.documents.append((message.chat.id, message.id))
                    number = len(self.documents)
                if message.invoice is not None:  # :pay pays the latest one
                    self.invoices[message.chat.id] = message.id
                self.transcript.bot(message, document=number)
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
        if not line.startswith((":wait ", ":wait-for ")):
            self._mark = len(self.transcript.heard)
        if line.startswith(":"):
            return await self._directive(line)
        await self._send(line)
        return True

    async def _send(self, text: str, reply_to: int | None = None) -> None:
        # Shown when handled, at a terminal too (the prompt erases the typed line): lines typed ahead stay in order.
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
        elif name in ("join", "leave", "request"):
            await self._membership(name, args)
        elif name == "admin":
            self._admin(args)
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
            self.inline_results = list(answer.results) if answer is not None else []
        elif name == "pick":
            await self._pick(args)
        elif name == "pay":
            await self._pay()
        elif name == "open":
            self._open(args)
        elif name == "wait":
            await self._wait(args)
        elif name == "wait-for":
            await self._wait_for(line.strip()[len(":wait-for"):].strip())
        else:
            self.transcript.said("console", f"unknown directive {line!r}; type :help")
        return True

    async def _pay(self) -> None:
        """Pay the latest invoice in this chat, as a user pressing "Pay" would: checkout, then the payment."""
        message_id = self.invoices.get(self.chat)
        if message_id is None:
            self.transcript.said("console", "no invoice to pay here: ask the bot for one first (e.g. /plans, Buy)")
            return
        self.transcript.said(self.who, "[pays the invoice]")
        await self.fake.pay(self.identity, message_id, chat_id=self.chat)
        await self.settle()
        await self.settle()  # the payment message follows the checkout's answer

    async def _pick(self, args: list[str]) -> None:
        """Choose inline result N: Telegram sends its message in the chat, from you, "via @bot"."""
        results = self.inline_results
        if len(args) != 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= len(results):
            self.transcript.said("console", f"usage: :pick N, N a result of the latest :inline (1–{len(results)})"
                                 if results else "usage: :pick N after :inline QUERY showed results")
            return
        result = results[int(args[0]) - 1]
        media = self.fake.world.media_for_file_id(result.file_id) if result.file_id else None
        stored = await self.fake.chats.add(self.chat, from_id=self.identity, out=False,
                                           text=result.caption if media is not None else result.text, media=media)
        message = message_from_pyrogram(stored.parsed)
        if message is not None and message.media is not None and result.title:
            # The fake knows a cached file by its id only; show it by the title you chose it by.
            message = msgspec.structs.replace(message, media=msgspec.structs.replace(message.media,
                                                                                    file_name=result.title))
        if message is not None:
            self.transcript.bot(message, tag=f"{self.who} (via @{self.fake.world.bot_username})", keyboard=False)
        await self.settle()

    def _open(self, args: list[str]) -> None:
        """Write document N (an upload, e.g. ``/logs``) to the downloads folder and say where."""
        if len(args) != 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= len(self.documents):
            have = f"1–{len(self.documents)}" if self.documents else "none yet"
            self.transcript.said("console", f"usage: :open N, N a document the bot sent ({have})")
            return
        n = int(args[0])
        name, data = self.fake.uploaded(*self.documents[n - 1])
        # The name comes from the bot: keep only its last part, so it cannot point outside the folder.
        safe = Path(name.replace("\\", "/")).name.lstrip(".") or "document"
        self.downloads.mkdir(parents=True, exist_ok=True)
        path = self.downloads / f"{n}-{safe}"
        path.write_bytes(data)
        self.transcript.said("console", f"document {n} ({len(data)} bytes) written to {path}")

    async def _wait(self, args: list[str]) -> None:
        try:
            seconds = float(args[0]) if len(args) == 1 else -1.0
        except ValueError:
            seconds = -1.0
        if not 0 <= seconds <= MAX_WAIT:  # also refuses nan and inf
            self.transcript.said("console", f"usage: :wait SECONDS (0 to {MAX_WAIT:.0f})")
            return
        await asyncio.sleep(seconds)  # the point of :wait: the bot's jobs run meanwhile
        await self.settle()

    async def _wait_for(self, rest: str) -> None:
        """Wait until the bot says ``TEXT`` (since the last action), up to the timeout."""
        timeout = WAIT_FOR_TIMEOUT
        if rest.startswith("--timeout"):
            _, _, after = rest.partition(" ")
            value, _, rest = after.strip().partition(" ")
            try:
                timeout = float(value)
            except ValueError:
                timeout = -1.0
            if not 0 < timeout <= MAX_WAIT:
                rest = ""
        text = rest.strip()
        if not text:
            self.transcript.said("console", f"usage: :wait-for [--timeout S] TEXT (S up to {MAX_WAIT:.0f}, "
                                            f"default {WAIT_FOR_TIMEOUT:.0f})")
            return
        heard, wanted = self.transcript.heard, text.casefold()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self.transcript.grew.clear()
            found = next((i for i in range(self._mark, len(heard)) if wanted in heard[i].casefold()), None)
            if found is not None:
                self._mark = found + 1  # the next :wait-for waits for a later line
                await self.settle()
                return
            try:
                await asyncio.wait_for(self.transcript.grew.wait(), max(deadline - loop.time(), 0))
            except TimeoutError:
                self.failed = True
                self.transcript.said("console", f"timed out: the bot did not say “{text}” within {timeout:g} s")
                return

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

    def _chat_arg(self, args: list[str], usage: str) -> int | None:
        if len(args) != 1 or not args[0].startswith("-") or not args[0][1:].isdigit():
            self.transcript.said("console", f"usage: {usage}")
            return None
        return int(args[0])

    async def _membership(self, what: str, args: list[str]) -> None:
        """Join, leave or ask to join a chat as the current identity, as Telegram tells the bot."""
        chat_id = self._chat_arg(args, f":{what} CHAT (a channel or group id, e.g. -1001234567890)")
        if chat_id is None:
            return
        if chat_id not in self.fake.world.chats:
            kind = "channel" if what != "leave" else None
            if kind is None:
                self.transcript.said("console", f"there is no chat {chat_id}")
                return
            try:
                self.fake.add_chat(chat_id, "channel", title="Dev channel")
            except ValueError as exc:
                self.transcript.said("console", str(exc))
                return
        try:
            if what == "join":
                await self.fake.user_joins(chat_id, self.identity)
            elif what == "leave":
                await self.fake.user_leaves(chat_id, self.identity)
            else:
                links = [lk.link for lk in self.fake.invite_links.values()
                         if lk.chat_id == chat_id and lk.creates_join_request and not lk.revoked]
                if not links:
                    self.transcript.said("console", f"the bot has no join-request link for {chat_id} yet "
                                                    "(it makes one when it first asks someone to join)")
                    return
                await self.fake.join_request(chat_id, self.identity, links[-1])
        except Exception as exc:  # noqa: BLE001 - Telegram's refusal (already a member...), told as it is
            self.transcript.said("console", f"Telegram refused: {type(exc).__name__}")
            return
        done = {"join": "joined", "leave": "left", "request": "asked to join"}[what]
        self.transcript.said("console", f"{self.who} {done} {chat_id}")
        await self.settle()

    def _admin(self, args: list[str]) -> None:
        """Make the current identity an admin of a group (group admins manage that group's filters)."""
        if not args and self.group is not None:
            chat_id: int | None = self.group
        else:
            chat_id = self._chat_arg(args, ":admin [CHAT] (a group id; default: the group you talk in)")
        if chat_id is None:
            return
        if chat_id not in self.fake.world.chats or self.fake.world.chats[chat_id].kind == "channel":
            self.transcript.said("console", f"{chat_id} is not a group (make it with :group {chat_id})")
            return
        self.fake.set_admin(chat_id, self.identity)
        self.transcript.said("console", f"{self.who} is an admin of group {chat_id}")

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
        self.transcript.said("console", f"now talking in group {chat_id}; {self._group_hint()}; "
                                        ":private goes back")

    def _group_hint(self) -> str:
        """When the bot answers in a group, as the deployment's ``[plugins.search] groups`` says."""
        search = self.app.config.plugin_tables().get("search", {})
        mode = search.get("groups", "mention") if search.get("enabled") else "off"
        mention = f"@{self.fake.world.bot_username}"
        if mode == "all":
            return f"the bot answers searches there (chit-chat is left alone; mention {mention} to insist)"
        if mode == "off":
            return "search does not answer in groups here ([plugins.search] groups = \"off\")"
        return f"the bot answers there when mentioned ({mention})"

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
