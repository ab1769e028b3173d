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

The gateway registers pyrogram handlers when it starts (messages of every
chat kind and successful payments, edits, deletions, button presses, inline
queries, membership changes, join requests, pre-checkout queries) and
removes them on ``stop_updates``.

Connecting and disconnecting are bounded by ``[telegram] connect_timeout``:
pyrogram's own ``start()`` retries an unreachable data center without end, or
fails with internals such as ``KeyError: 0``. A start that cannot connect or
log in is one line (:class:`~mediabot.core.errors.ResourceError`) and exit 1.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediabot.core.errors import ConfigError, MediabotError, ResourceError
from mediabot.core.telegram.gateway import Gateway

if TYPE_CHECKING:
    from mediabot.core.app import App

__all__ = ["ProductionGateway", "create_production_gateway"]

log = logging.getLogger("mediabot.telegram")


class ProductionGateway(Gateway):
    """The gateway over a real client: connecting and disconnecting have a deadline.

    :param connect_timeout: seconds for ``client.start()`` plus ``get_me`` (and for ``client.stop()``).
    """

    def __init__(self, client: Any, *, connect_timeout: float) -> None:
        super().__init__(client)
        self.connect_timeout = connect_timeout

    async def start(self, app: App) -> None:
        import pyrogram.errors

        limit = f"{self.connect_timeout:g}s ([telegram] connect_timeout)"
        try:
            async with asyncio.timeout(self.connect_timeout):
                await super().start(app)
        except TimeoutError:
            raise ResourceError(f"Telegram: not connected and logged in within {limit}; check the network "
                                "route to Telegram's data centers (a proxy or firewall?)") from None
        except pyrogram.errors.RPCError as exc:
            # Telegram answered: the credentials, not the network (e.g. ACCESS_TOKEN_INVALID).
            raise ResourceError(f"Telegram refused the login: {exc.ID or type(exc).__name__}: {exc.MESSAGE}; "
                                "check MEDIABOT_BOT_TOKEN, MEDIABOT_API_ID and MEDIABOT_API_HASH") from None
        except MediabotError:
            raise
        except Exception as exc:  # pyrogram fails to connect with internals (KeyError: 0)
            log.debug("connecting to Telegram failed", exc_info=exc)
            raise ResourceError(f"Telegram: cannot connect ({type(exc).__name__}: {exc}); check the network "
                                f"route to Telegram's data centers (waited at most {limit})") from None

    async def close(self) -> None:
        try:
            async with asyncio.timeout(self.connect_timeout):
                await super().close()
        except TimeoutError:
            log.warning("Telegram: the client did not disconnect within %gs ([telegram] connect_timeout)",
                        self.connect_timeout)


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
    return ProductionGateway(client, connect_timeout=cfg.connect_timeout)
