"""Sending a filter's reply: placeholders filled (escaped), buttons made, the file or the text sent.

Placeholders, replaced in the stored HTML by the sender's details, each
HTML-escaped (a name is never markup): ``{first}``, ``{last}``,
``{fullname}``, ``{username}`` (``@name``, or the full name without one),
``{mention}`` (a link to the user), ``{id}``, ``{chat}`` (the group's title).
"""

from __future__ import annotations

from html import escape
from typing import Any

from mediabot import Button, Keyboard, Message, User
from mediabot_filters.model import Filter

__all__ = ["ALERT_ACTION", "fill", "keyboard_of", "send_reply"]

ALERT_ACTION = "filters.a"


def fill(markup: str, user: User, chat_title: str | None) -> str:
    """``markup`` with the placeholders replaced by ``user``'s details (escaped)."""
    if "{" not in markup:
        return markup
    name = escape(user.display_name, quote=False)
    values = {
        "{first}": escape(user.first_name or user.display_name, quote=False),
        "{last}": escape(user.last_name or "", quote=False),
        "{fullname}": name,
        "{username}": escape(f"@{user.username}" if user.username else user.display_name, quote=False),
        "{mention}": f'<a href="tg://user?id={int(user.id)}">{name}</a>',
        "{id}": str(int(user.id)),
        "{chat}": escape(chat_title or "", quote=False),
    }
    for placeholder, value in values.items():
        markup = markup.replace(placeholder, value)
    return markup


def keyboard_of(app: Any, f: Filter) -> Keyboard | None:
    """The reply's buttons: links as they are, alerts as buttons anyone may press."""
    rows: Keyboard = []
    n = 0
    for row in f.reply.buttons:
        out: list[Button] = []
        for spec in row:
            if spec.url is not None:
                out.append(Button(text=spec.text, url=spec.url))
            else:
                out.append(app.button(None, spec.text, ALERT_ACTION, f.scope, f.id, n))
            n += 1
        rows.append(out)
    return rows or None


async def send_reply(app: Any, f: Filter, chat_id: int, *, user: User, chat_title: str | None,
                     reply_to: int | None) -> Message:
    """Send ``f``'s reply in ``chat_id`` (quoting ``reply_to`` for a text)."""
    text = fill(f.reply.html, user, chat_title).strip()
    keyboard = keyboard_of(app, f)
    tg = app.telegram
    if f.reply.file_id is not None:
        caption = None if f.reply.kind == "sticker" else (text or None)
        return await tg.send_media(chat_id, f.reply.file_id, caption=caption, keyboard=keyboard, html=True)
    return await tg.send_text(chat_id, text, keyboard=keyboard, html=True, reply_to=reply_to)
