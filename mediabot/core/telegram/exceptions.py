"""The errors the Telegram gateway raises, importable without pyrogram.

Plugins catch these (through :mod:`mediabot`); the classification of
pyrogram's own errors into them lives in :mod:`mediabot.core.telegram.errors`.
"""

from __future__ import annotations

from typing import Literal, get_args

from mediabot.core.errors import MediabotError

__all__ = [
    "PERMANENT_REASONS",
    "FloodWaitTooLong",
    "PermanentReason",
    "PermanentTelegramError",
    "TelegramError",
    "TransientTelegramError",
]

PermanentReason = Literal[
    "blocked",        # the user blocked the bot
    "deactivated",    # the target user deleted their account
    "peer_invalid",   # the chat/user id is unknown to this session or malformed
    "forbidden",      # the bot may not write there (kicked, restricted, not admin)
    "message_empty",  # nothing to send: empty text or only invalid characters
    "file_gone",      # the file_id no longer denotes a file Telegram can send (deleted, expired, malformed)
    "bad_request",    # any other request Telegram rejects as such
    "unauthorized",   # the bot's OWN session or account is dead (401)
]
"""Why a call can never succeed as made.

``unauthorized`` is separate from ``deactivated`` on purpose: pyrogram's
``UserDeactivated`` / ``UserDeactivatedBan`` (401) mean *the bot's own
account* was deleted or banned, not the recipient. A broadcast that prunes
recipients on ``deactivated`` must not prune everyone because the bot died.
"""

PERMANENT_REASONS: tuple[PermanentReason, ...] = get_args(PermanentReason)


class TelegramError(MediabotError):
    """Base of the errors the Telegram gateway raises on purpose."""


class FloodWaitTooLong(TelegramError):
    """Telegram asked to wait longer than the gateway accepts, or kept asking.

    Nothing slept: the caller should reschedule the work ``seconds`` from now
    (a broadcast pauses its job, a user-facing handler says "try later").

    :param seconds: how long Telegram asked to wait, or what remains of it.
    :param method: the call that was refused, for the operator.
    :param limit: the configured longest acceptable wait, if that was the reason.
    :param domain: the gateway domain ("send", "edit"...) that is paused.
    """

    def __init__(self, seconds: float, method: str = "", *, limit: float | None = None,
                 domain: str = "") -> None:
        self.seconds = float(seconds)
        self.method = method
        self.limit = limit
        self.domain = domain
        what = method or domain or "Telegram call"
        if limit is not None:
            why = f"exceeds the {limit:g}s cap (flood.max_flood_wait)"
        else:
            why = "and retries are exhausted (flood.max_retries)"
        super().__init__(
            f"{what}: Telegram asked to wait {self.seconds:.0f}s {why}; "
            f"reschedule in {self.seconds:.0f}s"
        )


class PermanentTelegramError(TelegramError):
    """The call can never succeed as made; it was not retried.

    :param reason: what a plugin acts on (e.g. forget a user on ``"blocked"``).
    :param original: the pyrogram error Telegram returned.
    :param method: the call that failed.
    """

    def __init__(self, reason: PermanentReason, original: BaseException | None = None,
                 *, method: str = "") -> None:
        self.reason: PermanentReason = reason
        self.original = original
        self.method = method
        what = f"{method}: " if method else ""
        detail = f" ({type(original).__name__})" if original is not None else ""
        super().__init__(f"{what}permanent Telegram error: {reason}{detail}")


class TransientTelegramError(TelegramError):
    """A network or server failure outlasted every retry.

    :param attempts: how many times the call was tried.
    :param original: the last error seen.
    :param method: the call that failed.
    """

    def __init__(self, attempts: int, original: BaseException, *, method: str = "") -> None:
        self.attempts = attempts
        self.original = original
        self.method = method
        what = f"{method}: " if method else ""
        super().__init__(
            f"{what}Telegram unreachable after {attempts} attempts "
            f"(last: {type(original).__name__}: {original})"
        )
