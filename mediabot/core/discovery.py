"""Finding installed plugins through the ``mediabot.plugins`` entry point group.

Discovery never imports a plugin: only the plugins a deployment enables are
loaded (by composition), so a broken plugin that is switched off cannot hurt
the bot. The one exception is ``mediabot plugins``, which loads every
installed plugin to list its commands and hooks (and shows an import error
next to the plugin). docs/plugins.md says the same; tests/kernel/test_host_contract.py checks it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from mediabot.core.errors import PluginLoadError
from mediabot.core.plugin import ENTRY_POINT_GROUP, PluginMeta

#: Distributions shipped with mediabot; everything else is third-party.
BUILTIN_DISTRIBUTIONS = frozenset({
    "mediabot-search", "mediabot-quota", "mediabot-indexer",
    "mediabot-broadcast", "mediabot-dbrouter", "mediabot-ops", "mediabot-access", "mediabot-filters",
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
    #: other installed distributions registering the same entry point name: ``(name, version, target)``
    rivals: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def builtin(self) -> bool:
        return self.distribution in BUILTIN_DISTRIBUTIONS

    def load(self) -> tuple[Callable[..., Any], PluginMeta]:
        """Import the plugin and check its metadata.

        Returns a factory taking the :class:`PluginContext`, whichever of the two
        accepted constructors the class has (``__init__(self, ctx)`` or none).
        """
        if self.rivals:
            # Which one Python's entry point scan returns last depends on sys.path order:
            # running "whichever" would be a different bot after a reinstall.
            target = self.entry_point.value if self.entry_point is not None else "?"
            both = [f"{self.distribution} {self.version} ({target})",
                    *(f"{d} {v} ({t})" for d, v, t in self.rivals)]
            raise PluginLoadError(self.name, f"is registered in {ENTRY_POINT_GROUP} by {len(both)} installed "
                                  f"distributions: {' and '.join(both)}",
                                  fix="uninstall all but one of them (uv pip uninstall NAME), "
                                      "or rename one plugin's entry point and meta.name")
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
        return _taking_context(self.name, self.factory), meta


def _taking_context(name: str, factory: Callable[..., Any]) -> Callable[[Any], Any]:
    """``factory`` as a callable of the plugin's context: ``Plugin(ctx)``, or ``Plugin()`` for a class without one.

    A constructor that takes anything else is refused here, at load, naming the
    plugin, rather than failing later with Python's "takes no arguments".
    """
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return factory  # a builtin or C type: nothing to inspect, it gets the context
    params = list(sig.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    keyword_only = [p for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    var_positional = any(p.kind is p.VAR_POSITIONAL for p in params)
    if keyword_only or len(required) > 1:
        shown = getattr(factory, "__name__", repr(factory))
        raise PluginLoadError(name, f"its constructor {shown}{sig} cannot be called by the kernel: it must take "
                              "no argument, or one: the plugin's context",
                              fix="write `def __init__(self, ctx):` (ctx is a mediabot.PluginContext: config, "
                                  "storage, log...) or `def __init__(self):`, or leave __init__ out")
    if required or var_positional or any(p.name == "ctx" for p in positional):
        return factory

    def without_context(_ctx: Any) -> Any:
        return factory()

    return without_context


def _normal(distribution: str) -> str:
    """A distribution name as installers compare them (PEP 503): ``Mediabot_Search`` is ``mediabot-search``."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def discover(extra: list[Any] | None = None) -> dict[str, Candidate]:
    """Installed plugins by name, plus ``extra`` plugin classes given in-process.

    In-process plugins (used by tests and the testing kit) win over installed
    ones of the same name. Two *installed* distributions registering one name
    are kept as one candidate that fails to load, naming both: start, ``config
    check`` and ``mediabot plugins`` show it.
    """
    found: dict[str, Candidate] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.metadata["Name"] if ep.dist else "unknown"
        version = ep.dist.version if ep.dist else "?"
        known = found.get(ep.name)
        if known is None:
            found[ep.name] = Candidate(ep.name, dist, version, entry_point=ep)
        elif _normal(known.distribution) != _normal(dist):
            # Two distributions claim one name: loading it is an error naming both (see Candidate.load).
            known.rivals.append((dist, version, ep.value))
    for cls in extra or ():
        meta = getattr(cls, "meta", None)
        if not isinstance(meta, PluginMeta):
            raise PluginLoadError(getattr(cls, "__name__", repr(cls)), "has no `meta = PluginMeta(...)`")
        found[meta.name] = Candidate(meta.name, getattr(cls, "__module__", "in-process"), "local",
                                     factory=cls)
    return found
