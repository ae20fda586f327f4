"""Every attempt of a step, as the execution detail, the snapshot and the CLI show it.

Pure: :func:`attempt_history` turns a step run's ``attempts_log`` (one entry per
failed or lost attempt, written by ``step_runs``) and its current state into one
record per attempt, the last one being the attempt that is running or that ended
the step. Entries written before an attempt carried its timing (only ``at``, the
time it ended) stay readable: what they lack is None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

Attempt = dict[str, Any]

# The decision after a failed attempt (``policy.decide``'s action) → its outcome.
OUTCOMES = {"retry": "retried", "fallback": "fell_back", "skip": "skipped", "fail": "failed"}

# A step status → the state of its last attempt, when that attempt is not in the log.
_CURRENT = {"running": "running", "completed": "succeeded", "cancelled": "cancelled"}


def _iso(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    try:
        delta = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    except ValueError:
        return None
    return round(max(delta.total_seconds(), 0.0), 3)


def logged(entry: Mapping[str, Any]) -> Attempt:
    """The record of one ``attempts_log`` entry (it must carry ``attempt``)."""
    started = entry.get("started_at")
    finished = entry.get("finished_at") or entry.get("at")
    duration = entry.get("duration_seconds")
    return {
        "attempt": int(entry["attempt"]),
        "model": entry.get("model") or None,
        # a lost worker is not the step's failure, but the attempt ended all the same
        "status": "lost" if entry.get("error_type") == "worker_lost" else "failed",
        "error_type": str(entry.get("error_type") or "") or None,
        "error_message": str(entry.get("message") or "") or None,
        "started_at": started,
        "finished_at": finished,
        "duration_seconds": duration if duration is not None else _seconds(started, finished),
        "wait_seconds": entry.get("wait_seconds"),
        "next_model": entry.get("next_model"),
    }


def attempt_history(
    log: Sequence[Mapping[str, Any]] | None,
    *,
    status: str,
    attempt: int,
    model: str | None,
    started_at: datetime | str | None,
    completed_at: datetime | str | None,
) -> list[Attempt]:
    """One record per attempt, oldest first: the logged failures, then the attempt
    running now or the one that succeeded (or was cancelled) if the log does not
    hold it. A step not yet claimed has none."""
    out = [logged(e) for e in log or () if isinstance(e, Mapping) and "attempt" in e]
    state = _CURRENT.get(status)
    seen = {a["attempt"] for a in out}
    if state and attempt > 0 and attempt not in seen and started_at is not None:
        start, end = _iso(started_at), _iso(completed_at) if state != "running" else None
        out.append(
            {
                "attempt": attempt,
                "model": model or None,
                "status": state,
                "error_type": None,
                "error_message": None,
                "started_at": start,
                "finished_at": end,
                "duration_seconds": _seconds(start, end),
                "wait_seconds": None,
                "next_model": None,
            }
        )
    return out
