"""Property: the HTML splitter's parts are what Telegram accepts, and together show the original text.

The checker below parses a part the way Telegram's HTML mode does (and
independently of the splitter): supported tags only, properly nested and
closed; only ``&lt; &gt; &amp; &quot;`` and numeric references are entities.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mediabot.core.telegram.text import split_text, utf16_len

SUPPORTED = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code",
             "pre", "blockquote"}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot);|&#([0-9]+);|&#[xX]([0-9a-fA-F]+);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def telegram_visible_text(html: str) -> str:
    """The text Telegram shows for ``html``; AssertionError where Telegram would refuse it."""
    stack: list[str] = []
    out: list[str] = []
    i = 0
    while i < len(html):
        ch = html[i]
        if ch == "<":
            m = _TAG.match(html, i)
            assert m is not None, f"a stray '<' at {i}"
            name = m.group(2).lower()
            assert name in SUPPORTED, f"unsupported tag {name!r}"
            if m.group(1):
                assert stack and stack[-1] == name, f"</{name}> closes {stack[-1:] or 'nothing'}"
                stack.pop()
            else:
                stack.append(name)
            i = m.end()
        elif ch == "&" and (m := _ENTITY.match(html, i)) is not None:
            if m.group(1):
                out.append(_NAMED[m.group(1)])
            else:
                out.append(chr(int(m.group(2)) if m.group(2) else int(m.group(3), 16)))
            i = m.end()
        else:
            out.append(ch)
            i += 1
    assert not stack, f"left open: {stack}"
    return "".join(out)


# Text as a writer of Telegram HTML would put it: escaped where it must be, with
# lookalikes of entities Telegram does not have, emoji, and a lone surrogate.
_PIECES = st.sampled_from(["a", "b", "word", " ", " ", "\n", "\n\n", "é", "😀", "&lt;", "&gt;", "&amp;",
                           "&quot;", "&#65;", "&#x1F600;", "&nbsp;", "&copy", "&hellip;", "&amp", "&", "\ud800",
                           "x" * 30, "long" * 12])
_TEXT = st.lists(_PIECES, max_size=12).map("".join)
_OPEN = st.sampled_from(["<b>", "<i>", "<u>", "<s>", "<code>", "<pre>", "<tg-spoiler>", "<blockquote>",
                         '<span class="tg-spoiler">', '<a href="https://example.org/?a=1&amp;b=>">',
                         '<pre><code class="language-python">'])


def _wrap(opening: str, inner: str) -> str:
    names = re.findall(r"<([a-z-]+)", opening)
    return opening + inner + "".join(f"</{n}>" for n in reversed(names))


_HTML = st.recursive(_TEXT, lambda inner: st.one_of(
    st.tuples(_OPEN, inner).map(lambda t: _wrap(*t)),
    st.lists(inner, min_size=2, max_size=4).map("".join)), max_leaves=25)


def _no_space(text: str) -> str:
    return re.sub(r"\s", "", text)


@settings(max_examples=400, deadline=None)
@given(_HTML, st.integers(min_value=2, max_value=80))
def test_every_part_fits_parses_and_together_they_show_the_original(html, limit):
    original = telegram_visible_text(html)
    parts = split_text(html, limit=limit, html=True) if original.strip() or utf16_len(original) <= limit \
        else []
    if not parts:
        return
    shown = [telegram_visible_text(p) for p in parts]  # raises where Telegram would refuse a part
    assert all(utf16_len(s) <= limit for s in shown)
    if len(parts) > 1:
        assert all(s.strip() for s in shown), "a blank part"
    # What a cut drops is the whitespace it was made at, nothing else.
    assert _no_space("".join(shown)) == _no_space(original)


@given(st.lists(st.sampled_from(["a", "😀", "&amp;", "<b>", "</b>", "é"]), max_size=300).map("".join))
def test_text_without_whitespace_loses_nothing_at_a_cut(body):
    html = "<i>" + body.replace("<b>", "").replace("</b>", "") + "</i>"
    original = telegram_visible_text(html)
    if not original:
        return
    parts = split_text(html, limit=7, html=True)
    assert "".join(telegram_visible_text(p) for p in parts) == original
