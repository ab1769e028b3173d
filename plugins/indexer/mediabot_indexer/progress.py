"""The words of a history job's progress message and of ``/index_status``."""

from __future__ import annotations

from mediabot_indexer.jobstore import Job

__all__ = ["Rate", "describe", "duration"]


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 5 s``, ``2 h 10 min``."""
    s = round(max(0.0, seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


class Rate:
    """Ids per second of one run of a job (since this process took it), and the time left."""

    def __init__(self, start_time: float, start_id: int) -> None:
        self.start_time = start_time
        self.start_id = start_id

    def per_second(self, now: float, next_id: int) -> float | None:
        elapsed = now - self.start_time
        done = next_id - self.start_id
        if elapsed <= 0 or done <= 0:
            return None
        return done / elapsed

    def eta(self, now: float, job: Job) -> float | None:
        rate = self.per_second(now, job.next_id)
        if rate is None or job.to_id is None:
            return None
        return max(0, job.to_id + 1 - job.next_id) / rate


def _range(job: Job) -> str:
    if job.to_id is None:
        return f"ids {job.from_id:,}-? (finding the last one)"
    total = max(0, job.to_id - job.from_id + 1)
    done = min(total, max(0, job.next_id - job.from_id))
    share = f" ({100 * done // total}%)" if total else ""
    return f"{done:,} of {total:,} ids{share}"


def describe(job: Job, *, rate: float | None = None, eta: float | None = None, note: str | None = None) -> str:
    """The progress message of ``job`` as it is now."""
    head = {
        "queued": "queued",
        "running": "indexing",
        "paused": "paused",
        "done": "done",
        "failed": "FAILED",
        "cancelled": "cancelled",
    }[job.state]
    lines = [f"Job {job.id} — {job.name}: {head}", _range(job),
             f"seen {job.seen:,} · indexed {job.indexed:,} · duplicates {job.duplicates:,} · "
             f"skipped {job.skipped:,} · errors {job.errors:,}"]
    if job.state == "running" and rate is not None:
        tail = f" · ETA {duration(eta)}" if eta is not None else ""
        lines.append(f"rate {rate:,.0f} ids/s{tail}")
    if note:
        lines.append(note)
    if job.error and job.state == "failed":
        lines.append(job.error)
    if job.state in ("queued", "running", "paused"):
        lines.append(f"Cancel with /index_cancel {job.id}")
    return "\n".join(lines)
