"""What the fake Telegram records: calls, button answers, inline answers, command menus."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyrogram import types as pt

from mediabot.core.telegram.convert import keyboard_from_pyrogram
from mediabot.core.types import InlineResult

__all__ = ["Call", "CallbackAnswer", "InlineAnswer", "inline_result_from_pyrogram", "scope_key"]


@dataclass
class Call:
    """One call the gateway made.

    :param method: the ``pyrogram.Client`` method name.
    :param params: its arguments, by name.
    :param at: the fake's clock when the call arrived.
    :param error: what it raised, if it failed.
    :param result: what it returned.
    """

    method: str
    params: dict[str, Any]
    at: float
    error: BaseException | None = None
    result: Any = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")


@dataclass(frozen=True)
class CallbackAnswer:
    """How the bot answered a button press (the toast or alert the user saw)."""

    text: str | None
    alert: bool


@dataclass(frozen=True)
class InlineAnswer:
    """How the bot answered an inline query."""

    results: list[InlineResult]
    next_offset: str
    cache_time: int
    personal: bool


def inline_result_from_pyrogram(r: Any) -> InlineResult:
    """Our view of a pyrogram inline result, for assertions (audio results have no title: ``""``)."""
    file_id = next((getattr(r, a) for a in ("document_file_id", "video_file_id", "audio_file_id",
                                             "photo_file_id") if getattr(r, a, None)), None)
    text = None
    content = getattr(r, "input_message_content", None)
    if file_id is None and content is not None:
        text = content.message_text
    return InlineResult(id=r.id, title=getattr(r, "title", None) or "", file_id=file_id, text=text,
                        description=getattr(r, "description", None),
                        caption=getattr(r, "caption", None) or None,
                        keyboard=keyboard_from_pyrogram(getattr(r, "reply_markup", None)))


def scope_key(scope: Any) -> str | int:
    """How :attr:`FakeTelegram.commands` names a command scope."""
    if scope is None or isinstance(scope, pt.BotCommandScopeDefault):
        return "default"
    if isinstance(scope, pt.BotCommandScopeAllPrivateChats):
        return "all_private_chats"
    if isinstance(scope, pt.BotCommandScopeChat):
        return scope.chat_id
    return type(scope).__name__
