"""What the console prints: each side of the chat as ``who › text``, keyboards as ``[1] Text``.

The transcript also remembers what the bot said, so ``:wait-for TEXT`` can
wait for a reply that comes late (a broadcast's report, a job's message).
"""

from __future__ import annotations

import asyncio
from typing import TextIO

from mediabot.core.types import Message


class Transcript:
    """Renders what the bot does in the console's chats."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.keyboard_message: Message | None = None
        self.heard: list[str] = []  # every line the bot said, in order
        self.grew = asyncio.Event()  # set when :attr:`heard` grows; cleared by whoever waits on it

    def said(self, who: str, text: str) -> None:
        self.out.write(f"{who} › {text}\n")
        self.out.flush()
        if who.startswith("bot"):
            self._heard([text])

    def bot(self, message: Message, *, edited: bool = False, tag: str = "bot", document: int | None = None,
            keyboard: bool = True) -> None:
        """Print ``message``; ``document`` numbers a file ``:open N`` can write out."""
        body = message.text if message.text is not None else (message.caption or "")
        if message.invoice is not None:
            inv = message.invoice
            unit = " Stars" if inv.currency == "XTR" else f" {inv.currency}"
            body = f"[invoice: {inv.title}, {inv.total_amount}{unit}] {inv.description}".rstrip()
        if message.media is not None:
            name = message.media.file_name or message.media.kind
            number = f" {document}" if document is not None else ""
            body = f"[{message.media.kind}{number}: {name}]" + (f" {body}" if body else "")
        lines = body.splitlines() or [""]
        tag = f"{tag} (edited)" if edited else tag
        self.out.write(f"{tag} › {lines[0]}\n")
        for line in lines[1:]:
            self.out.write(f"{' ' * len(tag)}   {line}\n" if line else "\n")
        buttons = [b for row in message.keyboard or [] for b in row]
        if buttons and keyboard:
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
        if tag.startswith("bot"):
            self._heard(lines)

    def _heard(self, lines: list[str]) -> None:
        self.heard.extend(lines)
        self.grew.set()
