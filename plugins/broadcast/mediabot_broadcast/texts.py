"""What admins read: previews, progress, status and the final report."""

from __future__ import annotations

from mediabot_broadcast.store import Job, JobSpec

__all__ = ["audience_text", "duration", "paused", "preview", "progress", "report"]


def audience_text(days: int) -> str:
    return f"users active in the last {days} days" if days else "all active users"


def preview(spec: JobSpec) -> str:
    kind = f"this album ({spec.album} messages)" if spec.album else "this message"
    options = [o for o, on in (("silent", spec.silent), ("pinned", spec.pin)) if on]
    users = "1 user" if spec.audience == 1 else f"{spec.audience:,} users"
    return (f"Broadcast {kind} to {users} ({audience_text(spec.days)})"
            f"{', ' + ', '.join(options) if options else ''}?\n"
            "Options: /broadcast [silent] [pin] [days N], as a reply to the message.")


def paused(job: Job) -> str:
    """Said once a paused job has really stopped: the count is final."""
    return f"Broadcast {job.id} paused at {job.processed}/{job.spec.audience}. /broadcast_resume"


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h {m:02d}m {s:02d}s" if h else (f"{m}m {s:02d}s" if m else f"{s}s")


def _counts(job: Job) -> str:
    parts = [f"sent {job.sent}", f"blocked {job.blocked}", f"deactivated {job.deactivated}",
             f"failed {job.failed}"]
    if job.unknown:
        parts.append(f"unknown {job.unknown}")
    return ", ".join(parts)


def progress(job: Job, now: float) -> str:
    total = max(job.spec.audience, job.processed)
    elapsed = max(1e-9, now - job.created)
    rate = job.processed / elapsed
    head = f"Broadcast {job.id}: {job.state}"
    if job.reason and job.state != "running":
        head += f" ({job.reason})"
    line = f"{head} - {job.processed}/{total}"
    if job.state == "running" and rate > 0:
        eta = max(0, total - job.processed) / rate
        line += f", {rate:.1f} msg/s, ETA {duration(eta)}"
    return f"{line}\n{_counts(job)}"


def report(job: Job, now: float) -> str:
    end = job.finished or now
    outcome = {"done": "finished", "cancelled": "cancelled", "failed": "stopped"}.get(job.state, job.state)
    why = f" ({job.reason})" if job.reason else ""
    lines = [f"Broadcast {job.id} {outcome}{why}.", f"Sent: {job.sent}", f"Blocked: {job.blocked}",
             f"Deactivated: {job.deactivated}", f"Failed: {job.failed}"]
    if job.unknown:
        lines.append(f"Unknown (in flight during a crash, not sent again): {job.unknown}")
    lines.append(f"Duration: {duration(end - job.created)}")
    return "\n".join(lines)
