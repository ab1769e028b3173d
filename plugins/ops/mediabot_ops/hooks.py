"""Hooks ops publishes: other plugins add to ``/stats`` and name their stale Redis keys.

Implement them with ``@hookimpl(optionalhook=True)``: when ops is not
enabled they do not exist and are never called.
"""

from __future__ import annotations

from typing import Any

from mediabot import hookspec

__all__ = ["OpsHooks"]


class OpsHooks:
    @hookspec
    def ops_stats(self, app: Any) -> list[str]:
        """*async* Lines this plugin adds to ``/stats``, e.g. ``"search: cache v12, 83% hits"``.

        :param app: the application.

        :return: a few short lines. Keep it cheap: an admin is waiting.

        Called by ``/stats``, concurrently in every implementing plugin; one
        that raises is left out (and counted as a plugin error).
        """

    @hookspec
    def ops_stale_keys(self, app: Any) -> list[str]:
        """*async* Redis ``SCAN`` patterns of this plugin's keys that are no longer used.

        :param app: the application.

        :return: glob patterns (``MATCH`` syntax), each inside the plugin's
            own namespace (``app.storage(<plugin>).key_prefix``), e.g. the
            result cache of old catalogue versions. A pattern outside it is
            ignored, with a warning.

        Called by ``/cache_cleanup``: for the dry run that counts the keys,
        and again when the admin presses Confirm, just before deleting.
        """
