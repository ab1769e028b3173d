"""Per-application metrics, exposed in Prometheus format by the ``ops`` plugin.

Each :class:`App` owns its own :class:`prometheus_client.CollectorRegistry`
(never the library's global default), so two apps in one process — or two
tests — never see each other's numbers. Plugins get-or-create metrics by
name, so a restarted plugin does not trip over its own registrations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest

M = TypeVar("M", Counter, Gauge, Histogram)


class Metrics:
    """Get-or-create access to one registry's metrics."""

    def __init__(self) -> None:
        # No ``_created`` series next to every counter and histogram: they double the
        # scrape for a timestamp nobody graphs. The switch is the library's and
        # process-wide; every app in a process wants the same.
        disable_created_metrics()
        self.registry = CollectorRegistry(auto_describe=True)
        self._metrics: dict[str, Any] = {}

    def _get(self, cls: type[M], name: str, doc: str, labels: Sequence[str], **kw: Any) -> M:
        metric = self._metrics.get(name)
        if metric is None:
            metric = cls(name, doc, list(labels), registry=self.registry, **kw)
            self._metrics[name] = metric
        elif not isinstance(metric, cls):
            raise TypeError(f"metric {name!r} already exists as a {type(metric).__name__}")
        return metric

    def counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
        return self._get(Counter, name, doc, labels)

    def gauge(self, name: str, doc: str, labels: Sequence[str] = ()) -> Gauge:
        return self._get(Gauge, name, doc, labels)

    def histogram(self, name: str, doc: str, labels: Sequence[str] = (),
                  buckets: Sequence[float] | None = None) -> Histogram:
        kw = {"buckets": tuple(buckets)} if buckets else {}
        return self._get(Histogram, name, doc, labels, **kw)

    def value(self, name: str, labels: dict[str, str] | None = None) -> float:
        """Current value of a sample (``name`` as exposed, e.g. ``x_total``); 0 when absent."""
        v = self.registry.get_sample_value(name, labels or {})
        return 0.0 if v is None else v

    def exposition(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)
