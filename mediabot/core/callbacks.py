"""Inline button callbacks: the ``Callback`` declaration and signed callback data.

Telegram sends a button's callback data back verbatim, and a client can send
any bytes it likes instead, so the data is signed. The format fits
Telegram's 64-byte limit with room for an action and a few arguments::

    v1|page|cats,3|u1abc2|Xk3...12 chars
    |  |    |      ||     +-- HMAC-SHA256, first 9 bytes, base64url
    |  |    |      |+-------- issue time: minutes since the epoch, base 36
    |  |    |      +--------- "u": only the user it was made for may press it; "a": anyone
    |  |    +---------------- arguments, comma separated ("%", "|" and "," %-escaped)
    |  +--------------------- action (the handler's name)
    +------------------------ format version

The signature covers the version, action, arguments, flag and issue time and,
for user-bound buttons, the id of the user pressing it: data copied to another
account does not verify. The user id is not written into the data, which
keeps it short. Buttons older than ``button_ttl`` are refused as expired.

The secret comes from ``MEDIABOT_CALLBACK_SECRET``. Without it (dev, tests) a
random one is generated per process: buttons then stop working at restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mediabot.core.commands import Role
from mediabot.core.errors import MediabotError

log = logging.getLogger("mediabot.callbacks")

SECRET_ENV = "MEDIABOT_CALLBACK_SECRET"
#: Telegram refuses callback data longer than this, in bytes.
MAX_DATA_BYTES = 64
VERSION = "v1"
_SIG_BYTES = 9  # 72 bits; 9 bytes are exactly 12 base64 characters, no padding
_FUTURE_SKEW_MINUTES = 5  # tolerate a stamp slightly ahead (several processes, clock drift)
_ACTION = re.compile(r"^[A-Za-z0-9_.:-]{1,32}$")
_LINK_PART = re.compile(r"^[A-Za-z0-9]{1,32}$")
_ESCAPES = (("%", "%25"), ("|", "%7C"), (",", "%2C"))


class CallbackDataTooLong(MediabotError, ValueError):
    """A button's data would exceed Telegram's 64-byte limit (raised when the button is made)."""


class InvalidCallback(MediabotError):
    """Callback data that must not be acted upon.

    :param reason: ``malformed``, ``version``, ``forged`` (signature mismatch,
        including data made for another user) or ``expired``.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"invalid callback data: {reason}")


@dataclass(frozen=True)
class Callback:
    """A button handler a plugin offers, returned from ``mediabot_callbacks``.

    :param action: the name buttons refer to (``ctx.button("Next", "page", ...)``);
        1-32 characters of ``A-Z a-z 0-9 _ . : -``. Prefix it with your plugin's
        name (``search.page``) to stay clear of other plugins.
    :param handler: ``async def handler(ctx) -> None``; ``ctx`` is a
        :class:`mediabot.CallbackContext`.
    :param role: who may press it: ``user`` (everyone), ``admin``, ``owner``.
    :param gate: an action name the gates are asked about before the handler runs (``None``: no gate).
    """

    action: str
    handler: Callable[[Any], Awaitable[None]]
    role: Role = "user"
    gate: str | None = None

    def __post_init__(self) -> None:
        if not _ACTION.match(self.action):
            raise ValueError(f"invalid callback action {self.action!r}: use 1-32 of A-Z a-z 0-9 _ . : -")
        if self.role not in ("user", "admin", "owner"):
            raise ValueError(f"callback {self.action!r}: role must be user, admin or owner, not {self.role!r}")


@dataclass(frozen=True)
class CallbackData:
    """Verified callback data."""

    action: str
    args: tuple[str, ...]
    bound: bool


def _escape(arg: str) -> str:
    for raw, esc in _ESCAPES:
        arg = arg.replace(raw, esc)
    return arg


def _unescape(arg: str) -> str:
    for raw, esc in reversed(_ESCAPES):
        arg = arg.replace(esc, raw)
    return arg


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


class CallbackSigner:
    """Makes and verifies signed callback data.

    :param secret: HMAC key (keep it the same across processes and restarts).
    :param ttl: seconds a button stays valid after it was made.
    :param clock: wall-clock seconds (injectable for tests).
    """

    def __init__(self, secret: bytes, *, ttl: float = 7 * 86400.0,
                 clock: Callable[[], float] = time.time) -> None:
        if not secret:
            raise ValueError("the callback secret must not be empty")
        self._key = secret
        self._ttl_minutes = max(1, int(ttl // 60))
        self._clock = clock

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, ttl: float = 7 * 86400.0) -> CallbackSigner:
        """The signer for ``MEDIABOT_CALLBACK_SECRET``, or a per-process random one (with a warning)."""
        value = env.get(SECRET_ENV, "")
        if not value:
            log.warning("callback secret not set: buttons expire at restart "
                        "(set %s to a long random string shared by all processes of this bot)", SECRET_ENV)
            return cls(secrets.token_bytes(32), ttl=ttl)
        if len(value) < 16:
            log.warning("%s is shorter than 16 characters: use a long random string", SECRET_ENV)
        return cls(value.encode(), ttl=ttl)

    def _mac(self, payload: str, user_id: int | None) -> str:
        msg = payload if user_id is None else f"{payload}|{user_id}"
        digest = hmac.new(self._key, msg.encode(), hashlib.sha256).digest()[:_SIG_BYTES]
        return base64.urlsafe_b64encode(digest).decode()

    def sign(self, action: str, args: Iterable[object] = (), *, user_id: int | None = None) -> str:
        """Callback data for ``action`` with ``args`` (turned into strings).

        A single empty-string argument comes back as no arguments.

        :param user_id: bind the button to this user: anyone else pressing it
            gets "This button has expired.". ``None``: anyone may press it.
        :raises CallbackDataTooLong: the data would not fit in 64 bytes.
        :raises ValueError: the action name is invalid.
        """
        if not _ACTION.match(action):
            raise ValueError(f"invalid callback action {action!r}: use 1-32 of A-Z a-z 0-9 _ . : -")
        encoded = ",".join(_escape(str(a)) for a in args)
        stamp = _base36(int(self._clock() // 60))
        payload = f"{VERSION}|{action}|{encoded}|{'a' if user_id is None else 'u'}{stamp}"
        data = f"{payload}|{self._mac(payload, user_id)}"
        size = len(data.encode())
        if size > MAX_DATA_BYTES:
            raise CallbackDataTooLong(
                f"callback data for action {action!r} would be {size} bytes, Telegram allows "
                f"{MAX_DATA_BYTES}; the action and arguments may take "
                f"{MAX_DATA_BYTES - (size - len(action.encode()) - len(encoded.encode()))}: shorten them, "
                "or keep the state in a session and pass a short key")
        return data

    def sign_link(self, action: str, args: Iterable[object] = ()) -> str:
        """A ``/start`` payload for ``action`` with ``args``: ``action_arg_arg_stamp_signature``.

        Telegram allows 1-64 characters of ``A-Z a-z 0-9 _ -`` in a deep link,
        so action and arguments are ASCII letters and digits only, and the
        signature is 9 bytes in hex. Anyone may open the link (a group's
        members), within ``ttl``.

        :raises ValueError: an action or argument holds other characters, or
            the payload would exceed 64 characters.
        """
        parts = [action, *(str(a) for a in args)]
        for p in parts:
            if not _LINK_PART.match(p):
                raise ValueError(f"deep link part {p!r}: use 1-32 ASCII letters and digits")
        body = "_".join([*parts, _base36(int(self._clock() // 60))])
        payload = f"{body}_{self._link_mac(body)}"
        if len(payload) > 64:
            raise CallbackDataTooLong(f"deep link payload for {action!r} is {len(payload)} characters; "
                                      "Telegram allows 64: shorten the arguments")
        return payload

    def verify_link(self, payload: str) -> tuple[str, tuple[str, ...]]:
        """``(action, args)`` of a payload made by :meth:`sign_link`; :class:`InvalidCallback` otherwise."""
        if not payload.isascii() or len(payload) > 64:
            raise InvalidCallback("malformed")
        body, _, sig = payload.rpartition("_")
        parts = body.split("_")
        if len(parts) < 2 or not sig:
            raise InvalidCallback("malformed")
        if not hmac.compare_digest(sig, self._link_mac(body)):
            raise InvalidCallback("forged")
        try:
            stamp = int(parts[-1], 36)
        except ValueError:
            raise InvalidCallback("malformed") from None
        age = int(self._clock() // 60) - stamp
        if age > self._ttl_minutes or age < -_FUTURE_SKEW_MINUTES:
            raise InvalidCallback("expired")
        return parts[0], tuple(parts[1:-1])

    def _link_mac(self, body: str) -> str:
        # "link|" keeps a deep link's signature from ever matching a button's.
        return hmac.new(self._key, f"link|{body}".encode(), hashlib.sha256).digest()[:_SIG_BYTES].hex()

    def verify(self, data: str, user_id: int) -> CallbackData:
        """Check ``data`` pressed by ``user_id``; raise :class:`InvalidCallback` unless it is ours, intact and fresh."""
        parts = data.split("|")
        if len(parts) != 5:
            raise InvalidCallback("malformed")
        version, action, encoded, flagstamp, sig = parts
        if version != VERSION:
            raise InvalidCallback("version")
        if len(flagstamp) < 2 or flagstamp[0] not in "au" or not _ACTION.match(action):
            raise InvalidCallback("malformed")
        try:
            stamp = int(flagstamp[1:], 36)
        except ValueError:
            raise InvalidCallback("malformed") from None
        bound = flagstamp[0] == "u"
        payload = data[: len(data) - len(sig) - 1]
        # compare_digest raises TypeError on non-ASCII str: such data is forged, never a crash.
        if not sig.isascii() or not hmac.compare_digest(sig, self._mac(payload, user_id if bound else None)):
            raise InvalidCallback("forged")
        age = int(self._clock() // 60) - stamp
        if age > self._ttl_minutes or age < -_FUTURE_SKEW_MINUTES:
            raise InvalidCallback("expired")
        args = tuple(_unescape(a) for a in encoded.split(",")) if encoded else ()
        return CallbackData(action=action, args=args, bound=bound)
