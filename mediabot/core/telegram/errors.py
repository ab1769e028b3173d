"""What went wrong with a Telegram call, in the kernel's terms.

Pyrogram raises a few hundred error classes. The gateway needs to know only
one thing about each: *what should the caller do next?*

- ``"flood"``: Telegram asked us to wait; pause and try again
  (:class:`FloodWaitTooLong` when the wait is longer than we accept).
- ``"permanent"``: the same call will never succeed (the user blocked the
  bot, the peer is gone, the text is empty...): :class:`PermanentTelegramError`
  with a :data:`PermanentReason` a plugin can act on.
- ``"transient"``: the network or Telegram's servers hiccuped; retry with
  backoff (:class:`TransientTelegramError` once the retries are spent).
- ``"unknown"``: anything else is a bug or a programming error and surfaces
  unchanged, with its traceback.
"""

from __future__ import annotations

from typing import Literal

from pyrogram.errors import (
    BadRequest,
    ChannelInvalid,
    ChannelPrivate,
    ChatAdminRequired,
    ChatIdInvalid,
    ChatRestricted,
    ChatWriteForbidden,
    FileIdInvalid,
    FileReferenceExpired,
    FileReferenceInvalid,
    Flood,
    FloodPremiumWait,
    FloodWait,
    Forbidden,
    InputUserDeactivated,
    InternalServerError,
    MediaEmpty,
    MediaInvalid,
    MessageEmpty,
    NotAcceptable,
    PeerIdInvalid,
    PeerIdNotSupported,
    ServiceUnavailable,
    SlowmodeWait,
    Unauthorized,
    UserBannedInChannel,
    UserIdInvalid,
    UserIsBlocked,
    UserKicked,
)
from pyrogram.errors.rpc_error import RPCError

# Defined without pyrogram so the public API can export them cheaply; re-exported here.
from mediabot.core.telegram.exceptions import (
    PERMANENT_REASONS,
    FloodWaitTooLong,
    PermanentReason,
    PermanentTelegramError,
    TelegramError,
    TransientTelegramError,
)

__all__ = [
    "PERMANENT_REASONS",
    "ErrorKind",
    "FloodWaitTooLong",
    "PermanentReason",
    "PermanentTelegramError",
    "TelegramError",
    "TransientTelegramError",
    "classify",
    "flood_wait_seconds",
    "is_chat_flood",
    "permanent_reason",
]

ErrorKind = Literal["flood", "permanent", "transient", "unknown"]

# First match wins, so specific classes come before their base classes
# (PeerIdInvalid403 is both PeerIdInvalid and Forbidden; InputUserDeactivated
# and MessageEmpty are BadRequests).
_REASONS: tuple[tuple[tuple[type[BaseException], ...], PermanentReason], ...] = (
    ((UserIsBlocked,), "blocked"),
    ((InputUserDeactivated,), "deactivated"),
    ((Unauthorized,), "unauthorized"),
    ((PeerIdInvalid, PeerIdNotSupported, ChatIdInvalid, ChannelInvalid, UserIdInvalid),
     "peer_invalid"),
    ((ChatWriteForbidden, Forbidden, ChannelPrivate, ChatAdminRequired, ChatRestricted,
      UserKicked, UserBannedInChannel), "forbidden"),
    ((MessageEmpty,), "message_empty"),
    ((MediaEmpty, FileIdInvalid, FileReferenceExpired, FileReferenceInvalid, MediaInvalid), "file_gone"),
    # NotAcceptable (406) and the 420s that are not waits (e.g. a frozen
    # account) are refusals too: repeating the call cannot change the answer.
    ((BadRequest, NotAcceptable, Flood), "bad_request"),
)

# The waits Telegram asks for. SlowmodeWait is scoped to one chat; the others
# apply to the whole account and method family.
_FLOOD_WAITS: tuple[type[RPCError], ...] = (FloodWait, FloodPremiumWait, SlowmodeWait)

# Local files and paths handed to pyrogram raise OSError subclasses too, but
# retrying a missing file cannot help: these surface unchanged.
_LOCAL_OS_ERRORS: tuple[type[OSError], ...] = (
    FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError, PermissionError,
)


def classify(exc: BaseException) -> ErrorKind:
    """Sort an exception raised by a pyrogram call into what to do next."""
    if isinstance(exc, _FLOOD_WAITS):
        return "flood"
    if isinstance(exc, RPCError):
        # 5xx (and pyrogram's UnknownError, code 520) are Telegram's own
        # trouble; 303 migrations are handled inside pyrogram and never
        # reach us unless something is broken, hence "unknown".
        if isinstance(exc, (InternalServerError, ServiceUnavailable)) or (exc.CODE or 0) >= 500:
            return "transient"
        if permanent_reason(exc) is not None:
            return "permanent"
        return "unknown"
    if isinstance(exc, OSError) and not isinstance(exc, _LOCAL_OS_ERRORS):
        # ConnectionError and TimeoutError (== asyncio.TimeoutError since 3.11)
        # are OSErrors; pyrogram's transport raises bare OSError on resets.
        return "transient"
    return "unknown"


def permanent_reason(exc: BaseException) -> PermanentReason | None:
    """The :data:`PermanentReason` for ``exc``, or ``None`` if it is not permanent."""
    if isinstance(exc, _FLOOD_WAITS):
        return None
    for types, reason in _REASONS:
        if isinstance(exc, types):
            return reason
    return None


def flood_wait_seconds(exc: BaseException) -> float | None:
    """Seconds Telegram asked to wait, or ``None`` if ``exc`` is not a flood wait.

    A wait whose value pyrogram could not parse counts as one second: it is
    still a wait, and a short one keeps the retry cap in charge.
    """
    if not isinstance(exc, _FLOOD_WAITS):
        return None
    value = exc.value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return max(0.0, float(value))
    return 1.0


def is_chat_flood(exc: BaseException) -> bool:
    """Whether the wait applies to one chat only (slow mode), not the whole domain."""
    return isinstance(exc, SlowmodeWait)
