"""The router's Prometheus metrics (in the app's own registry)."""

from __future__ import annotations

from typing import Any

__all__ = ["RouterMetrics"]


class _Null:
    """Stands in for a metric when the router runs without an app (CLI, tests)."""

    def labels(self, *args: Any, **kwargs: Any) -> _Null:
        return self

    def inc(self, amount: float = 1) -> None:
        pass

    def set(self, value: float) -> None:
        pass


class RouterMetrics:
    """Get-or-create the router's metrics in ``metrics`` (``app.metrics``), or no-ops without one."""

    def __init__(self, metrics: Any) -> None:
        if metrics is None:
            null = _Null()
            self.state = self.transitions = self.switches = self.written = self.used = null
            self.deferred = self.reconciled = self.alerts = null
            return
        self.state = metrics.gauge("mediabot_dbrouter_breaker_state",
                                   "Circuit breaker per database: 0 closed, 1 half-open, 2 open", ["database"])
        self.transitions = metrics.counter("mediabot_dbrouter_breaker_transitions_total",
                                           "Circuit breaker state changes", ["database", "state"])
        self.switches = metrics.counter("mediabot_dbrouter_write_switches_total",
                                        "Changes of the database taking writes", ["to"])
        self.written = metrics.counter("mediabot_dbrouter_documents_written_total",
                                       "Documents written through the router", ["database"])
        self.used = metrics.gauge("mediabot_dbrouter_used_ratio",
                                  "Estimated dataSize+indexSize over quota", ["database"])
        self.deferred = metrics.counter("mediabot_dbrouter_deferred_total",
                                        "Documents not written because their key is held elsewhere")
        self.reconciled = metrics.counter("mediabot_dbrouter_reconciled_total",
                                          "Documents settled by the reconciler", ["action"])
        self.alerts = metrics.counter("mediabot_dbrouter_alerts_total", "Router notices", ["kind"])

