"""The one failure path for a plugin's bug: log it, count it, apologise.

A plugin's exception in a hook (the plugin host) or in a command or button
handler (the dispatcher) goes the same way: one ERROR line naming the plugin
and where it failed, with the traceback; one increment of
``mediabot_plugin_errors_total{plugin,hook}``, the metric to alert on; and,
when a user is waiting for an answer, :data:`APOLOGY` — never the exception's
text, which may hold anything.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from mediabot.core.metrics import Metrics

__all__ = ["APOLOGY", "PluginFailures"]

log = logging.getLogger("mediabot.plugins")

#: What a user is told when a handler failed.
APOLOGY = "Sorry, something went wrong. Please try again later."


class PluginFailures:
    """Records plugins' failures in one app's log and metrics.

    :param metrics: the app's metrics registry.
    """

    def __init__(self, metrics: Metrics) -> None:
        self._errors = metrics.counter("mediabot_plugin_errors_total",
                                       "Exceptions raised by plugin hook implementations", ["plugin", "hook"])

    def record(self, plugin: str, where: str, exc: BaseException, *, reported: bool = False) -> None:
        """Log and count ``exc``, raised by ``plugin`` in ``where`` (a hook, ``/command``, ``button:action``).

        :param reported: the caller shows the failure itself (a start that
            fails prints one line): the traceback is logged at DEBUG only.
        """
        extra = {"plugin": plugin, "hook": where}
        if reported:
            log.debug("plugin %s failed in %s", plugin, where, exc_info=exc, extra=extra)
        else:
            log.error("plugin %s failed in %s: %s: %s", plugin, where, type(exc).__name__, exc, exc_info=exc,
                      extra=extra)
        self._errors.labels(plugin=plugin, hook=where).inc()

    async def apologise(self, plugin: str, where: str, exc: BaseException,
                        say: Callable[[str], Awaitable[object]]) -> None:
        """:meth:`record`, then tell the waiting user :data:`APOLOGY` through ``say`` (which must not raise)."""
        self.record(plugin, where, exc)
        await say(APOLOGY)
