"""The plugin host: pluggy underneath, the kernel's async calling convention on top.

pluggy validates hook implementations against :mod:`mediabot.hookspecs`
(misspelled hooks and unknown arguments are load errors). Calls do not go
through pluggy's synchronous ``pm.hook.x()`` loop, because that loop stops at
the first exception: the host calls each implementation itself, awaits
coroutines, runs notification hooks concurrently, and isolates failures.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator
from typing import Any

import pluggy

from mediabot import hookspecs
from mediabot.core.errors import PluginLoadError
from mediabot.core.failures import PluginFailures
from mediabot.core.metrics import Metrics
from mediabot.core.plugin import PROJECT

log = logging.getLogger("mediabot.host")


class PluginHookFailed(Exception):
    """A plugin's hook implementation raised where the caller must know (see :meth:`PluginHost.first_strict`).

    :ivar plugin: the plugin's name.
    :ivar hook: the hook.
    :ivar error: what it raised.
    """

    def __init__(self, plugin: str, hook: str, error: BaseException) -> None:
        super().__init__(f"plugin {plugin} failed in {hook}: {type(error).__name__}: {error}")
        self.plugin, self.hook, self.error = plugin, hook, error


class PluginHost:
    """Registered plugin instances and the way their hooks are called."""

    def __init__(self, metrics: Metrics) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        #: the one failure path (log, count), shared with the dispatcher's handlers
        self.failures = PluginFailures(metrics)

    def add_hookspecs(self, publisher: str, specs: Any) -> None:
        """Add the hook specifications plugin ``publisher`` declares (``PluginMeta.hookspecs``).

        A hook already specified (by the kernel or another plugin) is a load error.
        """
        try:
            self.pm.add_hookspecs(specs)
        except ValueError as exc:
            raise PluginLoadError(publisher, f"hookspecs: {exc}",
                                  fix="prefix your hooks with your plugin's name and decorate them with "
                                      "mediabot.hookspec") from None

    def has_hook(self, hook: str) -> bool:
        """Whether ``hook`` is specified (by the kernel or an enabled plugin)."""
        caller = getattr(self.pm.hook, hook, None)
        return caller is not None and caller.spec is not None

    def register(self, name: str, plugin: object) -> None:
        """Register ``plugin`` under ``name``; unknown hooks and wrappers are load errors."""
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginLoadError(name, str(exc), fix="check the hook's name and arguments "
                                  "against mediabot.hookspecs") from None
        # pluggy accepts unknown hook names as "pending"; for us a misspelled hook is a bug,
        # unless it is marked optionalhook: a hook another plugin publishes, when that
        # plugin is not enabled (the implementation is then never called).
        for caller in self.pm.get_hookcallers(plugin) or []:
            if caller.spec is None and not all(i.optionalhook for i in caller.get_hookimpls()
                                               if i.plugin_name == name):
                self.pm.unregister(name=name)
                raise PluginLoadError(name, f"implements unknown hook {caller.name!r}",
                                      fix="see the hook list in docs/plugins.md; for a hook another plugin "
                                          "publishes, use @hookimpl(optionalhook=True)")
        for impl in self._all_impls(name):
            if impl.hookwrapper or impl.wrapper:
                self.pm.unregister(name=name)
                raise PluginLoadError(name, "hook wrappers are not supported",
                                      fix="implement the hook directly")

    def _all_impls(self, name: str) -> list[pluggy.HookImpl]:
        out = []
        for caller in self.pm.get_hookcallers(self.pm.get_plugin(name)) or []:
            out += [i for i in caller.get_hookimpls() if i.plugin_name == name]
        return out

    def unregister(self, name: str) -> None:
        if self.pm.has_plugin(name):
            self.pm.unregister(name=name)

    def names(self) -> list[str]:
        return [n for n, _ in self.pm.list_name_plugin()]

    def implementers(self, hook: str) -> list[str]:
        """Plugin names implementing ``hook``, in call order."""
        return [i.plugin_name for i in self._impls(hook)]

    def hooks_of(self, name: str) -> list[str]:
        """Hooks a registered plugin implements."""
        return sorted({c.name for c in self.pm.get_hookcallers(self.pm.get_plugin(name)) or []})

    def _impls(self, hook: str, only: list[str] | None = None) -> list[pluggy.HookImpl]:
        caller = getattr(self.pm.hook, hook, None)
        if caller is None or caller.spec is None:
            # Nobody publishes it (its plugin is not enabled): nothing to call, as
            # for a published hook nobody implements.
            return []
        impls = list(reversed(caller.get_hookimpls()))
        if only is not None:
            impls = [i for i in impls if i.plugin_name in only]
        return impls

    async def _invoke(self, impl: pluggy.HookImpl, hook: str, kwargs: dict[str, Any]) -> Any:
        result = impl.function(*[kwargs[a] for a in impl.argnames])
        if inspect.isawaitable(result):
            result = await result
        return result

    def _failed(self, plugin: str, hook: str, exc: BaseException, *, reported: bool = False) -> None:
        """Log and count a failure; ``reported``: the caller shows it (one line), the traceback goes to DEBUG."""
        self.failures.record(plugin, hook, exc, reported=reported)

    async def notify(self, hook: str, **kwargs: Any) -> None:
        """Call every implementation concurrently; failures are isolated."""
        await self.collect(hook, **kwargs)

    async def collect(self, hook: str, *, only: list[str] | None = None, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation (or those of the plugins in ``only``) concurrently.

        Returns ``(plugin, result)`` for those that succeeded.
        """
        return [(n, r) for n, r, e in await self.outcomes(hook, only=only, **kwargs) if e is None]

    async def outcomes(self, hook: str, *, only: list[str] | None = None, **kwargs: Any
                       ) -> list[tuple[str, Any, BaseException | None]]:
        """Like :meth:`collect`, with failures too: ``(plugin, result, error)`` in call order."""
        impls = self._impls(hook, only)
        if not impls:
            return []

        async def one(impl: pluggy.HookImpl) -> tuple[str, Any, BaseException | None]:
            try:
                return impl.plugin_name, await self._invoke(impl, hook, kwargs), None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - isolation is the point
                self._failed(impl.plugin_name, hook, exc)
                return impl.plugin_name, None, exc

        # One implementation (the common case for mediabot_update) needs no gather:
        # skipping it saves a task per update on the hot path.
        return [await one(impls[0])] if len(impls) == 1 else list(await asyncio.gather(*(one(i) for i in impls)))

    async def first(self, hook: str, **kwargs: Any) -> Any:
        """Call implementations in order until one returns non-``None``."""
        for impl in self._impls(hook):
            try:
                result = await self._invoke(impl, hook, kwargs)
            except Exception as exc:  # noqa: BLE001
                self._failed(impl.plugin_name, hook, exc)
                continue
            if result is not None:
                return result
        return None

    async def first_strict(self, hook: str, *, reported: bool = False, **kwargs: Any) -> tuple[str, Any] | None:
        """Like :meth:`first`, but an implementation that raises ends the call.

        Returns ``(plugin, result)`` for the first non-``None`` answer, ``None``
        when nobody answered. An exception is logged and counted like any
        plugin failure, then re-raised: for hooks where a failure must not
        fall through to the next answer (a quota that breaks means refused,
        never unlimited). ``reported=True``: the caller shows the failure
        itself (a start that fails prints one line), so it is logged at DEBUG.
        """
        for impl in self._impls(hook):
            try:
                result = await self._invoke(impl, hook, kwargs)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._failed(impl.plugin_name, hook, exc, reported=reported)
                raise PluginHookFailed(impl.plugin_name, hook, exc) from exc
            if result is not None:
                return impl.plugin_name, result
        return None

    async def call_one(self, plugin: str, hook: str, **kwargs: Any) -> Any:
        """Call ``plugin``'s implementation of ``hook`` alone; failures are logged and re-raised."""
        for impl in self._impls(hook, [plugin]):
            try:
                return await self._invoke(impl, hook, kwargs)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._failed(plugin, hook, exc)
                raise PluginHookFailed(plugin, hook, exc) from exc
        return None

    async def in_order(self, hook: str, order: list[str], **kwargs: Any
                       ) -> AsyncIterator[tuple[str, BaseException | None]]:
        """Call ``hook`` plugin by plugin in ``order``; yield ``(plugin, error or None)``.

        Used for startup and shutdown, where order matters and the caller
        decides what a failure means.
        """
        by_name = {i.plugin_name: i for i in self._impls(hook)}
        for name in order:
            impl = by_name.get(name)
            if impl is None:
                continue
            try:
                await self._invoke(impl, hook, kwargs)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                self._failed(name, hook, exc)
                yield name, exc
            else:
                yield name, None

    def call_sync(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a synchronous hook in every plugin; failures are isolated."""
        out = []
        for impl in self._impls(hook):
            try:
                result = impl.function(*[kwargs[a] for a in impl.argnames])
                if inspect.isawaitable(result):
                    raise TypeError(f"{hook} must be synchronous")
            except Exception as exc:  # noqa: BLE001
                self._failed(impl.plugin_name, hook, exc)
                continue
            out.append((impl.plugin_name, result))
        return out


class Hooks:
    """How plugins call hooks — the kernel's and those other plugins publish (``app.hooks``).

    A hook nobody implements, or one whose publishing plugin is not enabled,
    is simply not called: :meth:`collect` returns ``[]`` and :meth:`first`
    returns ``None``. Failures are isolated as for every hook (logged with the
    plugin's name, counted in ``mediabot_plugin_errors_total``). Pass every
    argument by name, as the hook specification names them.
    """

    def __init__(self, host: PluginHost) -> None:
        self._host = host

    def published(self, hook: str) -> bool:
        """Whether ``hook`` is specified by the kernel or an enabled plugin."""
        return self._host.has_hook(hook)

    def implementers(self, hook: str) -> list[str]:
        """Names of the plugins implementing ``hook``, in call order."""
        return self._host.implementers(hook) if self._host.has_hook(hook) else []

    async def collect(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation concurrently; ``(plugin, result)`` of those that did not raise."""
        return await self._host.collect(hook, **kwargs)

    async def notify(self, hook: str, **kwargs: Any) -> None:
        """Call every implementation concurrently, ignoring results."""
        await self._host.collect(hook, **kwargs)

    async def first(self, hook: str, **kwargs: Any) -> Any:
        """Call implementations in order until one answers non-``None``; that answer (or ``None``)."""
        return await self._host.first(hook, **kwargs)
