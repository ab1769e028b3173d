"""Gates: plugins refusing an action to a user before it runs (``app.gates``).

A gate is an implementation of ``mediabot_gate(app, user, action)``; a
refusal is a :class:`~mediabot.GateRefusal` (text and buttons). Admins and
the owner pass every gate, except the gates of plugins that asked to be
consulted about them too (:meth:`Gates.ask_about_staff`). A gate that raises is isolated like any hook and
then follows its plugin's ``PluginMeta.gate_fails``: ``closed`` refuses
(with :data:`UNAVAILABLE`), ``open`` lets the action through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mediabot.core.types import GateRefusal, User

if TYPE_CHECKING:
    from mediabot.core.app import App

__all__ = ["UNAVAILABLE", "Gates"]

UNAVAILABLE = "This is not available right now. Please try again in a minute."


class Gates:
    """Asks every gate whether ``user`` may do ``action``."""

    def __init__(self, app: App) -> None:
        self._app = app
        self._refused = app.metrics.counter("mediabot_gate_refusals_total", "Actions refused by a gate",
                                            ["plugin", "action"])
        self._staff_gated: set[str] = set()

    def ask_about_staff(self, plugin: str) -> None:
        """Consult ``plugin``'s gate about admins and the owner too (e.g. a deployment that makes them join)."""
        self._staff_gated.add(plugin)

    async def check(self, user: User | int, action: str) -> GateRefusal | None:
        """The first refusal (in plugin order), or ``None`` when every gate lets ``user`` through."""
        app = self._app
        uid = user if isinstance(user, int) else user.id
        staff = app.role_of(uid) != "user"
        if staff and not self._staff_gated:
            return None
        if not app.host.implementers("mediabot_gate"):
            return None
        who = user if isinstance(user, User) else User(id=uid)
        for plugin, result, error in await app.host.outcomes("mediabot_gate", app=app, user=who, action=action):
            if staff and plugin not in self._staff_gated:
                continue
            refusal: Any = None
            if error is not None:
                if self._fails_closed(plugin):
                    refusal = GateRefusal(text=UNAVAILABLE)
            elif result is not None:
                refusal = result if isinstance(result, GateRefusal) else GateRefusal(text=str(result))
            if refusal is not None:
                self._refused.labels(plugin=plugin, action=action).inc()
                return refusal
        return None

    def _fails_closed(self, plugin: str) -> bool:
        for sel in self._app.composition.plugins:
            if sel.meta.name == plugin:
                return sel.meta.gate_fails == "closed"
        return True  # a kernel gate: fail closed
