"""The family's button syntax in a reply's text, and the HTML cut that keeps a command's reply formatted.

Buttons, one per ``[Text](...)``, in the order written:

* ``[Text](buttonurl://https://example.org)`` (or ``buttonurl:https://...``): a link button on a new row;
* ``[Text](buttonurl://https://example.org:same)``: the same, on the previous button's row;
* ``[Text](buttonalert:Some words)``: pressing it shows ``Some words`` in an alert (``:same`` works too).

The syntax is read from the reply's HTML with one fixed pattern; button
texts and alerts are plain text (HTML entities are decoded, tags dropped),
URLs must be ``http(s)://``, ``tg://`` or ``t.me/...`` links.
"""

from __future__ import annotations

import html
import re

from mediabot_filters.model import ButtonSpec

__all__ = ["MAX_BUTTONS", "ButtonError", "html_after", "parse_buttons"]

MAX_BUTTONS = 30
MAX_ROW = 8
_BUTTON = re.compile(r"\[([^\[\]]+?)\]\(button(url|alert):(?://)?([^()]*?)(:same)?\)")
_TAG = re.compile(r"<[^>]*>")
_URL = re.compile(r"^(https?://[^\s<>\"]+|tg://[^\s<>\"]+)$", re.IGNORECASE)
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")


class ButtonError(ValueError):
    """A button the syntax names cannot be made (its message says which and why)."""


def _plain(fragment: str) -> str:
    return html.unescape(_TAG.sub("", fragment)).strip()


def parse_buttons(text: str) -> tuple[str, list[list[ButtonSpec]]]:
    """``text`` (HTML) without its button markup, and the rows of buttons it named."""
    rows: list[list[ButtonSpec]] = []
    count = 0
    for m in _BUTTON.finditer(text):
        label, kind, target, same = _plain(m.group(1)), m.group(2), _plain(m.group(3)), m.group(4)
        if not label:
            raise ButtonError("a button needs a text: [Text](buttonurl://https://example.org)")
        if len(label) > 64:
            raise ButtonError(f"button text {label[:20]!r}... is over 64 characters")
        if kind == "url":
            url = target if "://" in target else ("https://" + target if target.startswith("t.me/") else target)
            if not _URL.match(url):
                raise ButtonError(f"button {label!r}: {target!r} is not an http(s):// or tg:// link")
            spec = ButtonSpec(text=label, url=url)
        else:
            if not target:
                raise ButtonError(f"button {label!r}: buttonalert: needs a text to show")
            if len(target) > 200:
                raise ButtonError(f"button {label!r}: an alert shows at most 200 characters")
            spec = ButtonSpec(text=label, alert=target)
        count += 1
        if count > MAX_BUTTONS:
            raise ButtonError(f"a reply may carry at most {MAX_BUTTONS} buttons")
        if same and rows and len(rows[-1]) < MAX_ROW:
            rows[-1].append(spec)
        else:
            rows.append([spec])
    stripped = _BUTTON.sub("", text)
    # Lines the markup left empty at the end go too.
    return stripped.rstrip(), rows


def html_after(markup: str, offset: int) -> str:
    """The HTML of the text from plain-text character ``offset`` on, tags open at the cut reopened.

    ``markup`` is pyrogram's HTML of a message (``Message.html``); ``offset``
    counts characters of the message's plain text. Used to keep the
    formatting of ``/filter KEYWORD reply...``'s reply part.
    """
    stack: list[tuple[str, str]] = []  # (name, opening tag) of tags open here
    plain = 0
    i = 0
    n = len(markup)
    while i < n and plain < offset:
        ch = markup[i]
        if ch == "<":
            end = markup.find(">", i)
            if end < 0:
                break
            tag = markup[i:end + 1]
            name = tag[1:-1].split()[0].lstrip("/") if len(tag) > 2 else ""
            if tag.startswith("</"):
                for k in range(len(stack) - 1, -1, -1):
                    if stack[k][0] == name:
                        del stack[k]
                        break
            elif not tag.endswith("/>"):
                stack.append((name, tag))
            i = end + 1
            continue
        if ch == "&" and (m := _ENTITY.match(markup, i)):
            i = m.end()
        else:
            i += 1
        plain += 1
    return "".join(tag for _, tag in stack) + markup[i:]
