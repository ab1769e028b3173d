"""Command lines and argument splitting, as users type them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mediabot.core.context import split_args
from mediabot.core.dispatch import parse_command


def test_a_command_with_arguments():
    assert parse_command("/search  the matrix 1999 ") == ("search", None, "the matrix 1999")


def test_a_command_addressed_to_a_bot_in_a_group():
    assert parse_command("/Help@MediaBot") == ("help", "MediaBot", "")
    assert parse_command("/get@other_bot 42") == ("get", "other_bot", "42")


def test_arguments_may_start_on_the_next_line():
    assert parse_command("/broadcast\nHello\neveryone") == ("broadcast", None, "Hello\neveryone")


def test_text_that_only_starts_with_a_slash_is_not_a_command():
    for text in ("/", "/ search", "/usr/bin/env", "/search/1", "/" + "x" * 33):
        assert parse_command(text) is None, text


def test_quotes_group_words():
    assert split_args('"the matrix" 1999 --res=1080p') == ["the matrix", "1999", "--res=1080p"]


def test_unbalanced_quotes_fall_back_to_words():
    assert split_args("it's a trap") == ["it's", "a", "trap"]


@given(st.text(max_size=200))
def test_splitting_never_fails(text):
    split_args(text)
