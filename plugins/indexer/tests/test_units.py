"""Posts, batch sizing, batch dedup and gap detection, without Redis."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from mediabot_indexer.batching import BatchSizer, dedup
from mediabot_indexer.gaps import GapDetector, GapLog, id_ranges
from mediabot_indexer.posts import Post, decode_post, encode_post

from mediabot import Chat, Media, MediaFile, Message

CHANNEL = -1001234567890


def post(message_id: int, *, unique: str | None = None) -> Post:
    return Post(channel=CHANNEL, message_id=message_id, date=1_700_000_000, kind="video",
                file_unique_id=unique or f"u{message_id}", file_id=f"f{message_id}",
                caption="Show S01E02 1080p", file_name=f"show.{message_id}.mkv", file_size=1000 + message_id)


def staged_log(max_ranges: int = 10_000) -> GapLog:
    """A gap log whose Redis is never reached (only its in-memory side is used)."""
    return GapLog(SimpleNamespace(register_script=lambda _s: None), "p:", max_ranges=max_ranges)


def staged(log: GapLog, channel: int = CHANNEL) -> list[tuple[int, int]]:
    return list(log._staged.get(channel, []))


# -- posts --------------------------------------------------------------------------

def test_a_post_keeps_what_the_catalogue_entry_needs() -> None:
    message = Message(id=42, chat=Chat(id=CHANNEL, type="channel", title="Films"), date=1_700_000_000,
                      caption="Dune Part Two 2024 2160p",
                      media=Media(kind="video", file_id="F", file_unique_id="U", file_name="dune.2.mkv",
                                  mime_type="video/x-matroska", file_size=5_000_000, duration=9000,
                                  width=3840, height=2160))
    p = Post.from_message(message)
    assert p is not None
    again = decode_post(encode_post(p))
    assert again == p
    assert again.to_media_file().year == 2024
    direct, via_queue = again.to_media_file(), MediaFile.from_message(message)
    for field in ("file_unique_id", "file_id", "kind", "file_name", "caption", "size", "mime_type",
                  "chat_id", "message_id", "duration", "resolution", "season", "episode", "year", "tokens"):
        assert getattr(direct, field) == getattr(via_queue, field), field


def test_a_message_without_a_file_is_no_post() -> None:
    assert Post.from_message(Message(id=1, chat=Chat(id=CHANNEL, type="channel"), date=0, text="hi")) is None


def test_a_post_is_encoded_compactly() -> None:
    # An array, not a map: no field names repeated in every stream entry.
    assert len(encode_post(post(123456))) < 110


# -- batch size ---------------------------------------------------------------------

def test_batch_size_doubles_towards_a_deep_backlog_and_halves_when_quiet() -> None:
    sizer = BatchSizer(10, 500)
    grown = [sizer.update(backlog) for backlog in (5000, 5000, 5000, 5000, 5000, 5000, 5000)]
    assert grown == [20, 40, 80, 160, 320, 500, 500]
    shrunk = [sizer.update(backlog) for backlog in (300, 0, 0, 0, 0, 0, 0)]
    assert shrunk == [300, 150, 75, 37, 18, 10, 10]


def test_batch_size_follows_a_moderate_backlog_exactly() -> None:
    sizer = BatchSizer(10, 500)
    assert [sizer.update(b) for b in (25, 25, 3, 60)] == [20, 25, 12, 24]


def test_batch_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="min"):
        BatchSizer(0, 10)
    with pytest.raises(ValueError, match="min"):
        BatchSizer(20, 10)


def test_duplicates_inside_a_batch_are_counted_and_passed_once() -> None:
    posts = [post(1), post(2, unique="u1"), post(3), post(4, unique="u3"), post(5, unique="u1")]
    unique, repeats = dedup(posts)
    assert [p.message_id for p in unique] == [1, 3]
    assert repeats == 3


# -- gaps ---------------------------------------------------------------------------

def test_an_id_jump_is_recorded_as_a_suspected_gap() -> None:
    log = staged_log()
    detector = GapDetector(log)
    for message_id in (10, 14, 15, 20):
        assert detector.observe(CHANNEL, message_id) is False
    assert staged(log) == [(11, 13), (16, 19)]
    assert log.recorded == 7
    assert detector.highest(CHANNEL) == 20


def test_the_first_id_of_a_channel_only_sets_the_mark() -> None:
    log = staged_log()
    detector = GapDetector(log)
    detector.observe(CHANNEL, 1000)
    detector.observe(7, 5)
    assert log.unpersisted == 0


def test_an_id_older_than_the_highest_is_late_not_a_jump() -> None:
    log = staged_log()
    detector = GapDetector(log)
    detector.observe(CHANNEL, 10)
    detector.observe(CHANNEL, 13)
    assert detector.observe(CHANNEL, 12) is True
    log.forget(CHANNEL, 12)
    assert staged(log) == [(11, 11)]


def test_recorded_ranges_merge_and_split() -> None:
    log = staged_log()
    for a, b in ((5, 5), (7, 9), (6, 6), (20, 22), (1, 2)):
        log.record(CHANNEL, a, b)
    assert staged(log) == [(1, 2), (5, 9), (20, 22)]
    log.forget(CHANNEL, 7)
    log.forget(CHANNEL, 20, 30)
    assert staged(log) == [(1, 2), (5, 6), (8, 9)]
    assert log.unpersisted == 3


def test_the_gap_log_stays_bounded_by_merging_the_closest_ranges() -> None:
    log = staged_log(max_ranges=3)
    for message_id in (10, 20, 21 + 1, 40, 100):
        log.record(CHANNEL, message_id)
    # Never forgets an id: the closest ranges are merged, covering a few ids too many.
    assert log.unpersisted == 3
    covered = {i for a, b in staged(log) for i in range(a, b + 1)}
    assert {10, 20, 22, 40, 100} <= covered
    assert staged(log) == [(10, 22), (40, 40), (100, 100)]


def test_id_ranges() -> None:
    assert id_ranges([7, 1, 2, 3, 3, 9, 8]) == [(1, 3), (7, 9)]
    assert id_ranges([]) == []
