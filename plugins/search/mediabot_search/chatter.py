"""Which group messages are plainly not searches: greetings, one-word chat, questions.

With ``groups = "all"`` every text in a group could be a search, but most of
a group's traffic is people talking. Answering "hello everyone" or "lol" with
"Nothing found" is noise, so these are left alone (``skip_chatter = true``,
the default). A message that mentions the bot is always a search.

The test is deliberately conservative: a title is never mistaken for chat
unless it is one of the few words below, ends with a question mark, or opens
like a question to people ("can you…", "anyone have…").
"""

from __future__ import annotations

__all__ = ["is_chatter"]

# Whole messages that are chat, never titles (compared after lower-casing and
# dropping punctuation). Titles that are also such words ("Hello", "Yes Man")
# are still found in a private chat or with a mention.
_CHAT_WORDS = frozenset("""
hi hii hiii hello helo hey heya hola yo sup hru gm gn ok okay okk k kk lol lmao lmfao rofl haha hahaha hehe
hmm hmmm umm uh thanks thank thx ty tq welcome yes yeah yep yup no nope nah sure bro bruh dude sis plz pls
please wow nice cool great good bad fine bye goodbye cya brb wtf omg ohh oh ah aha what why who when where how
""".split())

_CHAT_PHRASES = frozenset({
    "good morning", "good night", "good evening", "good afternoon", "thank you", "thank u", "thanks bro",
    "thanks a lot", "how are you", "hello everyone", "hi everyone", "hi all", "hello all", "hey guys",
    "hi guys", "hello guys", "ok thanks", "ok bro", "love you", "miss you", "see you", "same here",
})

# A request to people: "can you upload…", "anyone got…", "is there any…". Titles open with
# "how", "what", "can you" too ("How to Train Your Dragon", "Can You Ever Forgive Me"), so only
# these shapes count: an asking word, a person, then a request verb.
_ASKING = frozenset({"can", "could", "would", "will", "pls", "plz", "please"})
_PEOPLE = frozenset({"you", "u", "someone", "somebody", "anyone", "anybody", "admin", "admins", "bro"})
_REQUEST = frozenset({"send", "upload", "share", "give", "post", "add", "help", "tell", "find", "provide"})
_SOMEONE = frozenset({"anyone", "anybody", "someone", "somebody"})
_HAVING = frozenset({"have", "has", "got", "know", "share", "send", "upload"})


def _is_request(words: list[str]) -> bool:
    if len(words) >= 3 and words[0] in _ASKING and words[1] in _PEOPLE and words[2] in _REQUEST:
        return True
    if len(words) >= 2 and words[0] in _SOMEONE and words[1] in _HAVING:
        return True
    return len(words) >= 3 and words[:2] == ["is", "there"] and words[2] in {"any", "a", "an"}


#: past this many words a message is conversation, not a title
_MAX_SEARCH_WORDS = 12


def _words(text: str) -> list[str]:
    cleaned = "".join(ch.lower() if ch.isalnum() else " " for ch in text)
    return cleaned.split()


def is_chatter(text: str) -> bool:
    """Whether a group message is plainly talk, not a search (see the module docstring)."""
    stripped = text.strip()
    if not stripped:
        return True
    words = _words(stripped)
    if not words:
        return True  # emoji, stickers as text, punctuation
    if stripped.endswith("?"):
        return True
    if len(words) > _MAX_SEARCH_WORDS:
        return True
    joined = " ".join(words)
    if joined in _CHAT_PHRASES or all(w in _CHAT_WORDS for w in words):
        return True
    return _is_request(words)
