"""Finding installed plugins through the ``mediabot.plugins`` entry point group.

Discovery never imports a plugin: only the plugins a deployment enables are
loaded (by composition), so a broken plugin that is switched off cannot hurt
the bot. The one exception is ``mediabot plugins``, which loads every
installed plugin to list its commands and hooks (and shows an import error
next to the plugin). docs/plugins.md says the same; tests/kernel/test_host_contract.py checks it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from mediabot.core.errors import PluginLoadError
from mediabot.core.plugin import ENTRY_POINT_GROUP, PluginMeta

#: Distributions shipped with mediabot; everything else is third-party.
BUILTIN_DISTRIBUTIONS = frozenset({
    "mediabot-search", "mediabot-quota", "mediabot-indexer",
    "mediabot-broadcast", "mediabot-dbrouter", "mediabot-ops",
})


@dataclass
class Candidate:
    """An installed (or in-process) plugin, not necessarily loaded.

    :param factory: set once loaded; the class (or callable) with ``meta``.
    """

    name: str
    distribution: str
    version: str
    entry_point: EntryPoint | None = None
    factory: Callable[..., Any] | None = None

    @property
    def builtin(self) -> bool:
        return self.distribution in BUILTIN_DISTRIBUTIONS

    def load(self) -> tuple[Callable[..., Any], PluginMeta]:
        """Import the plugin and check its metadata."""
        if self.factory is None:
            assert self.entry_point is not None
            try:
                self.factory = self.entry_point.load()
            except Exception as exc:
                raise PluginLoadError(self.name, f"cannot import {self.entry_point.value}: "
                                      f"{type(exc).__name__}: {exc}",
                                      fix=f"reinstall {self.distribution} or disable the plugin") from exc
        meta = getattr(self.factory, "meta", None)
        if not isinstance(meta, PluginMeta):
            raise PluginLoadError(self.name, "has no `meta = PluginMeta(...)` attribute",
                                  fix="declare the plugin's metadata on its class")
        if meta.name != self.name:
            raise PluginLoadError(self.name, f"entry point name differs from meta.name {meta.name!r}",
                                  fix="use the same name in both places")
        return self.factory, meta


def discover(extra: list[Any] | None = None) -> dict[str, Candidate]:
    """Installed plugins by name, plus ``extra`` plugin classes given in-process.

    In-process plugins (used by tests and the testing kit) win over installed
    ones of the same name.
    """
    found: dict[str, Candidate] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.metadata["Name"] if ep.dist else "unknown"
        version = ep.dist.version if ep.dist else "?"
        found[ep.name] = Candidate(ep.name, dist, version, entry_point=ep)
    for cls in extra or ():
        meta = getattr(cls, "meta", None)
        if not isinstance(meta, PluginMeta):
            raise PluginLoadError(getattr(cls, "__name__", repr(cls)), "has no `meta = PluginMeta(...)`")
        found[meta.name] = Candidate(meta.name, getattr(cls, "__module__", "in-process"), "local",
                                     factory=cls)
    return found
