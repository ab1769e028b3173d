"""The production gateway: a Kurigram ``pyrogram.Client`` behind :class:`Gateway`.

``mediabot run`` builds it with :func:`create_production_gateway`. The client
is created so that the kernel, not pyrogram, decides about waits and extra
requests:

* ``sleep_threshold=0``: pyrogram never sleeps through a FloodWait itself;
  every one reaches :class:`~mediabot.core.telegram.flood.FloodControl`, which
  pauses the whole domain and caps the wait.
* ``fetch_replies/topics/stories/stickers=False``: parsing an update never
  makes hidden requests (each could earn a FloodWait outside flood control).
* a session file under ``[telegram] session_dir`` keeps the peers the bot has
  met, so it can write to them after a restart (empty: in memory).

The gateway registers pyrogram handlers for messages (private, group,
channel posts), button presses and inline queries when it starts, and
removes them on ``stop_updates``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from mediabot.core.errors import ConfigError
from mediabot.core.telegram.gateway import Gateway

if TYPE_CHECKING:
    from mediabot.core.app import App

__all__ = ["create_production_gateway"]

log = logging.getLogger("mediabot.telegram")


def create_production_gateway(app: App) -> Gateway:
    """A :class:`Gateway` over a Kurigram client configured from ``app``.

    Credentials come from the environment (``MEDIABOT_API_ID``,
    ``MEDIABOT_API_HASH``, ``MEDIABOT_BOT_TOKEN``); settings from ``[telegram]``.

    :raises ConfigError: a credential is missing or ``MEDIABOT_API_ID`` is not a number.
    """
    import pyrogram

    cfg = app.section("telegram")
    secrets = {**app.env, **app.secrets}
    missing = [k for k in ("MEDIABOT_API_ID", "MEDIABOT_API_HASH", "MEDIABOT_BOT_TOKEN") if not secrets.get(k)]
    if missing:
        raise ConfigError(f"missing Telegram credential {missing[0]}", file="environment", key=missing[0],
                          fix=f"export {missing[0]}=... (from my.telegram.org / @BotFather)")
    try:
        api_id = int(secrets["MEDIABOT_API_ID"])
    except ValueError:
        raise ConfigError("MEDIABOT_API_ID must be a number", file="environment", key="MEDIABOT_API_ID",
                          fix="copy the numeric api_id from my.telegram.org") from None
    in_memory = not cfg.session_dir
    workdir = Path(cfg.session_dir).expanduser() if cfg.session_dir else Path(".")
    if not in_memory:
        if not workdir.is_absolute():
            workdir = app.data_dir / workdir
        # The session file is the bot's login key: only this user may read it.
        workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(workdir, 0o700)
        session_file = workdir / f"{cfg.session_name}.session"
        if session_file.exists():
            os.chmod(session_file, 0o600)
    client = pyrogram.Client(
        name=cfg.session_name,
        api_id=api_id,
        api_hash=secrets["MEDIABOT_API_HASH"],
        bot_token=secrets["MEDIABOT_BOT_TOKEN"],
        in_memory=in_memory,
        workdir=workdir,
        sleep_threshold=0,
        no_updates=False,
        # Users who wrote during a restart get their answer (pyrogram's default drops them).
        skip_updates=cfg.skip_pending_updates,
        fetch_replies=False,
        fetch_topics=False,
        fetch_stories=False,
        fetch_stickers=False,
    )
    log.info("Telegram session: %s", "in memory" if in_memory else workdir / f"{cfg.session_name}.session")
    return Gateway(client)
