"""Telling operators and admins what the router did, through the kernel's notices.

Every event is logged and counted (``mediabot_dbrouter_alerts_total{kind}``)
and handed to ``app.notices``, which posts it to ``[bot] log_channel`` (or
the owner's and admins' private chats) at most once per event key
(``breaker:a``, ``switch``, ``capacity:b``...) every ``alert_interval``
seconds for the whole deployment, and counts what it held back in the next
post of that key.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from mediabot import Notices

__all__ = ["Alerts"]

log = logging.getLogger("mediabot.plugin.dbrouter")


class Alerts:
    """The router's events, on their way to the operators.

    :param notices: the app's notices; ``None`` (a router built outside an
        app: tests, ``mediabot db status``) only logs.
    :param counter: a Prometheus counter with a ``kind`` label.
    :param interval: seconds between two posts for the same key.
    """

    def __init__(self, notices: Notices | None = None, *, counter: Any = None, interval: float = 300.0) -> None:
        self.notices = notices
        self.counter = counter
        self.interval = interval
        self.sent: deque[str] = deque(maxlen=100)  # every event's text, newest last

    def notify(self, key: str, text: str, *, level: int = logging.WARNING) -> None:
        if self.counter is not None:
            self.counter.labels(kind=key.split(":", 1)[0]).inc()
        message = f"dbrouter: {text}"
        self.sent.append(message)
        if self.notices is None:
            log.log(level, "%s", text, extra={"event": key})
            return
        self.notices.notify(f"dbrouter:{key}", message, interval=self.interval, level=level, source="dbrouter")
