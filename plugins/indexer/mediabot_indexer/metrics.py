"""The indexer's metrics in the app's registry (exposed by the ``ops`` plugin as Prometheus text).

Gauges of the live pipeline read the objects when scraped (no loop keeps
them current); counters are bumped where the work happens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mediabot_indexer.live import LiveIngest

__all__ = ["IndexerMetrics"]


class IndexerMetrics:
    """Get-or-create the indexer's metrics on ``app.metrics``."""

    def __init__(self, metrics: Any) -> None:
        self.files = metrics.counter("mediabot_indexer_files_total",
                                     "Files written to the catalogue by the indexer", ["source"])
        self.duplicates = metrics.counter("mediabot_indexer_duplicates_total",
                                          "Files the catalogue already had (re-posts, replays)", ["source"])
        self.skipped = metrics.counter("mediabot_indexer_skipped_total",
                                       "Messages of sources that carry no file of the configured kinds and size",
                                       ["source"])
        self.errors = metrics.counter("mediabot_indexer_errors_total",
                                      "Failed attempts (retried) by what failed", ["what"])
        self.removed = metrics.counter("mediabot_indexer_removed_total",
                                       "Files removed because their post was deleted")
        self.batch_size = metrics.histogram("mediabot_indexer_batch_size", "Files per catalogue write",
                                            ["source"], buckets=(1, 5, 10, 25, 50, 100, 200, 500, 1000))
        self.backlog = metrics.gauge("mediabot_indexer_backlog",
                                     "Stream entries not yet written to the catalogue (as of the latest batch)")
        self.buffer_depth = metrics.gauge("mediabot_indexer_buffer_depth",
                                          "Posts held in memory on their way to Redis")
        self.dropped = metrics.gauge("mediabot_indexer_buffer_dropped",
                                     "Posts refused by the full buffer since start (each recorded as a gap)")
        self.redis_down = metrics.gauge("mediabot_indexer_redis_down",
                                        "1 while Redis refuses the buffer's writes (posts held in memory only)")
        self.jobs_running = metrics.gauge("mediabot_indexer_jobs_running", "History jobs running in this process")
        self.job_done = metrics.gauge("mediabot_indexer_job_progress_ids",
                                      "Message ids a history job has gone through", ["job"])
        self.job_total = metrics.gauge("mediabot_indexer_job_total_ids",
                                       "Message ids a history job covers", ["job"])
        self.gaps_resolved = metrics.counter("mediabot_indexer_gap_ids_total",
                                             "Suspected missing ids re-read by the backfill", ["outcome"])

    def watch_live(self, live: LiveIngest) -> None:
        self.backlog.set_function(lambda: live.consumer.stats.backlog)
        self.buffer_depth.set_function(lambda: live.buffer.depth)
        self.dropped.set_function(lambda: live.buffer.stats.dropped)
        self.redis_down.set_function(lambda: 1 if live.buffer.redis_down else 0)

    def batch(self, size: int, report: Any, *, source: str) -> None:
        """A catalogue write of ``size`` files answered ``report`` (an ``InsertReport``)."""
        self.batch_size.labels(source=source).observe(size)
        self.files.labels(source=source).inc(int(report.inserted))
        self.duplicates.labels(source=source).inc(int(report.duplicates))
