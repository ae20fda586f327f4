"""Liveness and readiness, as a load balancer and a person both read them.

``/healthz`` answers from the process alone: it is up. ``/readyz`` checks what a
request or a run needs: PostgreSQL answers, the broker's Redis answers, every
configured queue has a live worker, and the reaper (run by the beat) ran within
``PRSM_READY_REAPER_SECONDS`` (and says so when a second beat's pass was skipped:
two beats are safe, ``reaper.reap_once``). Each check says ``ok`` and, in words, why not.

Plain checks rather than django-health-check: three of the four are about this
engine (the worker registry, the reaper's last pass) and would be custom backends
anyway, and its Redis check reads a URL setting of its own instead of the broker's.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, connection

from executions.operations import counters
from executions.operations.overview import configured_queues


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return {"ok": False, "detail": f"the database does not answer: {type(exc).__name__}"}
    return {"ok": True, "detail": f"{connection.vendor} answers"}


def _redis() -> dict[str, Any]:
    from executions.workers import _client

    try:
        _client().ping()
    except redis.RedisError as exc:
        return {"ok": False, "detail": f"Redis does not answer: {type(exc).__name__}"}
    return {"ok": True, "detail": "Redis answers"}


def _workers() -> dict[str, Any]:
    from executions.workers import queue_consumers

    queues = configured_queues()
    try:
        consumers = queue_consumers(queues)
    except redis.RedisError:
        return {"ok": False, "detail": "the worker registry cannot be read", "queues": {}}
    idle = [queue for queue, count in consumers.items() if count == 0]
    detail = (
        "every queue has a live worker"
        if not idle
        else "no live worker consumes " + ", ".join(f"'{q}'" for q in idle)
    )
    return {"ok": not idle, "detail": detail, "queues": consumers}


def _reaper() -> dict[str, Any]:
    limit = settings.PRSM_READY_REAPER_SECONDS
    try:
        last = counters.reaper_last_run()
    except redis.RedisError:
        return {"ok": False, "detail": "its last run cannot be read", "last_run_seconds_ago": None}
    if last is None:
        return {
            "ok": False,
            "detail": "the reaper never ran: is a beat running (celery -A prsm_site beat)?",
            "last_run_seconds_ago": None,
        }
    now = time.time()
    ago = round(max(0.0, now - last), 1)
    ok = ago <= limit
    detail = (
        f"ran {ago} s ago"
        if ok
        else f"last ran {ago} s ago, more than {limit} s: is a beat running?"
    )
    try:
        skipped, last_skipped = counters.reaper_skips()
    except redis.RedisError:
        skipped, last_skipped = 0, None
    skipped_ago = None if last_skipped is None else round(max(0.0, now - last_skipped), 1)
    if ok and skipped_ago is not None and skipped_ago <= limit:
        detail += (
            f"; a second pass in one interval was skipped {skipped_ago} s ago: "
            "more than one beat is running (safe: one pass per interval)"
        )
    return {
        "ok": ok,
        "detail": detail,
        "last_run_seconds_ago": ago,
        "skipped_passes": skipped,
        "last_skipped_seconds_ago": skipped_ago,
    }


def readiness() -> tuple[bool, dict[str, Any]]:
    """(ready, the answer's body). The database check runs first; the others do not
    need it."""
    checks = {
        "database": _database(),
        "redis": _redis(),
        "workers": _workers(),
        "reaper": _reaper(),
    }
    ready = all(check["ok"] for check in checks.values())
    failing = [name for name, check in checks.items() if not check["ok"]]
    return ready, {
        "status": "ready" if ready else "unavailable",
        "failing": failing,
        "checks": checks,
    }
