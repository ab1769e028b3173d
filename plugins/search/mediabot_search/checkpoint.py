"""The index checkpoint: how far into the catalogue's change stream the index is.

One small JSON file next to the index directory, replaced atomically (write a
temporary file, fsync, ``os.replace``), so a crash leaves the old checkpoint
or the new one, never half of one. It is written only after the index commit
it describes: an index may be ahead of its checkpoint (replaying changes is
idempotent), never behind it.
"""

from __future__ import annotations

import os
import pathlib
from datetime import UTC, datetime

import msgspec

__all__ = ["Checkpoint", "read_checkpoint", "remove_checkpoint", "write_checkpoint"]

FILE_NAME = "checkpoint.json"


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A committed index state.

    :param position: where the index is in the change stream (an opaque string, e.g. a stream id).
    :param index_version: the index layout it was built with (``schema.INDEX_VERSION``).
    :param written_at: when it was written (UTC).
    """

    position: str
    index_version: int
    written_at: datetime


def read_checkpoint(directory: pathlib.Path) -> Checkpoint | None:
    """The checkpoint in ``directory``; ``None`` when missing or unreadable (the index is then rebuilt)."""
    try:
        data = (directory / FILE_NAME).read_bytes()
        return msgspec.json.decode(data, type=Checkpoint)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None


def write_checkpoint(directory: pathlib.Path, position: str, index_version: int) -> Checkpoint:
    checkpoint = Checkpoint(position=position, index_version=index_version, written_at=datetime.now(UTC))
    target = directory / FILE_NAME
    temporary = directory / f".{FILE_NAME}.{os.getpid()}.tmp"
    with open(temporary, "wb") as out:
        out.write(msgspec.json.encode(checkpoint))
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, target)
    return checkpoint


def remove_checkpoint(directory: pathlib.Path) -> None:
    """Forget the checkpoint: a crash before the next one is written means "rebuild"."""
    try:
        (directory / FILE_NAME).unlink()
    except FileNotFoundError:
        pass
