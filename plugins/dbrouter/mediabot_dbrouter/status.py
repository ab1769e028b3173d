"""The router's state as text: one format for ``/dbstatus`` and ``mediabot db status``."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from mediabot_dbrouter.breaker import State

__all__ = ["MemberStatus", "format_status"]


class MemberStatus(msgspec.Struct, kw_only=True):
    """One database as ``/dbstatus`` and ``mediabot db status`` show it."""

    name: str
    role: str
    state: State
    used_mb: float
    quota_mb: float
    fraction: float
    measured: bool
    documents: int | None
    latency_ms: float | None
    calls: int
    failures: int
    refused: int
    opened: int
    retry_after: float
    takes_writes: bool
    pinned: bool
    home: bool
    prepared: bool
    last_error: str | None


def _state(s: MemberStatus, live: bool) -> str:
    if s.state == "open":
        return f"OPEN (trials in {s.retry_after:.0f}s)" if live else "UNREACHABLE"
    if s.state == "half_open":
        return "HALF-OPEN (trials)"
    return "closed" if s.prepared else "closed, not ready"


def format_status(statuses: Sequence[MemberStatus], *, title: str = "Databases", live: bool = True) -> str:
    """Per database: state, size/quota, documents, latency, breaker counters; which one takes writes.

    :param live: the router of a running bot (breaker states); ``False`` for a one-off probe.
    """
    writer = next((s for s in statuses if s.takes_writes), None)
    if writer is None:
        head = "Writes: NONE (no database can take writes)"
    else:
        head = f"Writes: {writer.name} ({'pinned with /dbswitch' if writer.pinned else 'automatic'})"
    lines = [f"{title}", head]
    for s in statuses:
        mark = "▶" if s.takes_writes else "·"
        tags = [t for t, on in (("home", s.home), ("read-only", s.role == "read"),
                                             ("no files", s.role == "home")) if on]
        size = f"{s.used_mb:.1f}/{s.quota_mb:.0f} MB ({s.fraction:.0%})" + ("" if s.measured else " est.")
        docs = "? docs" if s.documents is None else f"{s.documents} docs"
        latency = "-" if s.latency_ms is None else f"{s.latency_ms:.1f} ms"
        lines.append(f"{mark} {s.name}{' [' + ', '.join(tags) + ']' if tags else ''}: {_state(s, live)} · {size} · "
                     f"{docs} · {latency}")
        lines.append(f"    calls {s.calls} · failures {s.failures} · refused {s.refused} · opened {s.opened}×"
                     + (f" · last error: {s.last_error}" if s.last_error and s.state != "closed" else ""))
    return "\n".join(lines)
