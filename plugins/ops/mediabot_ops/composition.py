"""``/plugins`` and ``mediabot ops plugins``: what this deployment is made of, and where each part comes from."""

from __future__ import annotations

from typing import Any

import mediabot

__all__ = ["composition_lines"]


def composition_lines(app: Any) -> list[str]:
    """One line for the kernel, then one per enabled plugin in start order.

    Each plugin line: name, distribution and version, builtin or
    third-party, the entry point it was loaded from (``in-process`` for a
    plugin class handed to the app directly, as tests do), and whether it
    started in this process.
    """
    started = set(getattr(app, "started", ()))
    # Under `mediabot ops plugins` (open_app) no plugin starts: say so only in a running bot.
    running = getattr(app, "state", "") == "running" and getattr(app, "gateway", None) is not None
    lines = [f"mediabot {mediabot.__version__} (kernel); {len(app.composition.plugins)} plugins enabled:"]
    for selected in app.composition.plugins:
        cand = selected.candidate
        kind = "builtin" if cand.builtin else "third-party"
        origin = cand.entry_point.value if cand.entry_point is not None else "in-process"
        state = ""
        if running:
            state = " · running" if selected.meta.name in started else " · not started"
        lines.append(f"{selected.meta.name}: {cand.distribution} {cand.version} · {kind} · {origin}{state}")
    return lines
