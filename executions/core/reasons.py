"""Why a step that is not running waits, in words a person can read.

Pure: each function builds the ``waiting`` object carried by the execution detail,
the websocket snapshot and the ``step.*`` events (``docs/events.md``):
``{"reason": …, "message": …, <details>}``. Running and finished steps carry None.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

Reason = dict[str, Any]


def _names(keys: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(keys[:limit])
    return f"{shown} and {len(keys) - limit} more" if len(keys) > limit else shown


def dependencies(steps: Sequence[str]) -> Reason:
    """A pending step: the steps it waits for that have not finished."""
    steps = sorted(steps)
    message = f"Waiting for {_names(steps)}" if steps else "Waiting for its dependencies"
    return {"reason": "dependencies", "message": message, "steps": steps}


def slot(*, in_use: int, limit: int) -> Reason:
    """A ready step: every one of the execution's parallel slots is taken."""
    return {
        "reason": "slot",
        "message": f"Waiting for a parallel slot ({in_use} of {limit} in use)",
        "in_use": in_use,
        "limit": limit,
    }


def queue(*, name: str, consumers: int | None) -> Reason:
    """A queued step: its message waits on a queue for a worker."""
    if consumers is None:
        tail = ""
    elif consumers == 0:
        tail = ": no live worker consumes it"
    else:
        tail = f" ({consumers} live worker{'s' if consumers != 1 else ''})"
    return {
        "reason": "queue",
        "message": f"Queued on queue {name}{tail}",
        "queue": name,
        "consumers": consumers,
    }


def retry(
    *, at: datetime | None, attempt: int, max_attempts: int | None, last_error: str
) -> Reason:
    """A retrying step: its next attempt is due at ``at``."""
    when = at.strftime("%H:%M:%S") if at else "soon"
    of = f" of {max_attempts}" if max_attempts else ""
    error = f"; last error {last_error}" if last_error else ""
    return {
        "reason": "retry",
        "message": f"Retrying at {when} (attempt {attempt}{of}{error})",
        "at": at.isoformat() if at else None,
        "attempt": attempt,
        "max_attempts": max_attempts,
        "last_error": last_error,
    }


def children(*, keys: Sequence[str], done: int, kind: str) -> Reason:
    """A composite (loop, conditional) whose children are still open."""
    noun = "iteration" if kind == "loop" else "branch step"
    total = len(keys) + done
    plural = "s" if total != 1 else ""
    return {
        "reason": "children",
        "message": f"Waiting for its {total} {noun}{plural} ({done} done)",
        "steps": list(keys),
    }


def stalled(*, steps: Sequence[str]) -> Reason:
    """Nothing can move this step: the execution is stalled and will be ended."""
    return {
        "reason": "stalled",
        "message": f"Stalled: nothing is running, queued or due that could move {_names(steps)}",
        "steps": sorted(steps),
    }
