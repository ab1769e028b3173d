"""Configuration of the Telegram gateway: the ``[telegram]`` section of ``plugins.toml``.

This module imports nothing from pyrogram (which takes seconds to import):
the config loader, and with it every CLI command, reads it on each start.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ["FloodConfig", "TelegramSection"]

_Concurrency = Annotated[int, msgspec.Meta(ge=1, le=1000)]
_Retries = Annotated[int, msgspec.Meta(ge=0, le=100)]
# Rates have no upper bound: a deployment (and a test) lifts pacing with a huge one.
_PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
_PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]
#: a wait or timeout: 10 ms (less only burns CPU) to an hour
_Seconds = Annotated[float, msgspec.Meta(ge=0.01, le=3600)]
#: the kernel's Directory (see mediabot.core.config); spelled here so this module imports nothing of it
_Directory = Annotated[str, msgspec.Meta(extra={"mediabot": "directory"})]


class FloodConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Concurrency, pacing and retry limits for Telegram calls.

    :param send_concurrency: sends (messages, files, copies) in flight at once.
    :param edit_concurrency: edits, deletions and callback/inline answers in flight at once.
    :param read_concurrency: reads (channel history, chat resolution) in flight at once.
    :param download_concurrency: file downloads in flight at once; each holds a media connection.
    :param global_rate: messages per second across all chats. Telegram allows about 30; staying below leaves room for sends made outside the pacer.
    :param private_chat_rate: messages per second to one private chat (Telegram: about 1).
    :param group_per_minute: messages per minute to one group or channel (Telegram: about 20).
    :param bulk_share: the fraction of ``global_rate`` bulk sends (broadcasts) may use at most; they only ever take slots replies leave free, so users are answered first.
    :param shared_budget: with Redis, book global send slots in Redis (``<key_prefix>:{telegram}:sendbudget``) so every process of the bot together stays under ``global_rate``; while Redis is down each process paces alone.
    :param max_flood_wait: longest FloodWait, in seconds, a call waits out. A longer one is raised at once as ``FloodWaitTooLong`` so the caller can reschedule the work.
    :param max_retries: retries of one call after FloodWaits; one more FloodWait raises ``FloodWaitTooLong``.
    :param transient_retries: retries of one call after network errors or Telegram 5xx answers; one more failure raises ``TransientTelegramError``.
    :param backoff_base: seconds before the first transient retry; doubled for each further retry, plus up to 50% random jitter, never more than ``max_flood_wait``.
    """

    send_concurrency: _Concurrency = 8
    edit_concurrency: _Concurrency = 4
    read_concurrency: _Concurrency = 4
    download_concurrency: _Concurrency = 2
    global_rate: _PositiveFloat = 25.0
    bulk_share: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.8
    shared_budget: bool = True
    private_chat_rate: _PositiveFloat = 1.0
    group_per_minute: _PositiveInt = 20
    max_flood_wait: Annotated[float, msgspec.Meta(ge=0.01, le=86_400)] = 60.0
    max_retries: _Retries = 3
    transient_retries: _Retries = 3
    backoff_base: _Seconds = 0.5


class TelegramSection(FloodConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the bot talks to Telegram: limits, retries, the client session.

    Credentials never live here: ``MEDIABOT_API_ID``, ``MEDIABOT_API_HASH``
    and ``MEDIABOT_BOT_TOKEN`` come from the environment.

    :param session_dir: directory of the client's session file (the bot's login key, kept in a directory of mode 0700); a relative path is relative to ``[runtime] data_dir``. The session keeps the peers the bot has met, which it needs to write to users later (broadcasts, notifications); an empty string keeps it in memory, so after a restart the bot can only answer users who write first.
    :param session_name: name of the session file (``<name>.session``); deployments sharing a directory need different names.
    :param call_timeout: seconds one Telegram call may take before it is abandoned and retried as a network failure.
    :param connect_timeout: seconds ``mediabot run`` waits for the client to connect and log in at start (then it exits 1 naming Telegram), and to disconnect at stop.
    :param skip_pending_updates: drop the updates Telegram queued while the bot was down (up to 24 h of them) instead of answering them at start.
    """

    session_dir: _Directory = "session"
    session_name: Annotated[str, msgspec.Meta(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")] = "mediabot"
    call_timeout: _Seconds = 30.0
    connect_timeout: _Seconds = 60.0
    skip_pending_updates: bool = False


# Docs are generated from the ``:param:`` lines of a section's own docstring;
# the inherited flood fields are documented once, on FloodConfig.
TelegramSection.__doc__ = (TelegramSection.__doc__ or "").rstrip() + "\n" + "\n".join(
    line for line in (FloodConfig.__doc__ or "").splitlines() if line.strip().startswith(":param ")
) + "\n"
