"""The workers view: who consumes which queue, what waits, what runs where.

A selector: it reads the worker registry (``executions.workers``), queue lengths
in the broker's Redis and running step runs in the database, and changes nothing.
A step run's ``worker_host`` is the Celery node name of the worker that claimed
it (``name@host``), so two workers on one machine are told apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import redis
from django.conf import settings
from django.db.models import Count

from executions.models import StepRun, StepStatus
from executions.operations.counters import queue_depths
from workflows.errors import DomainError


class RegistryUnavailable(DomainError):
    """The broker's Redis, which holds the worker registry, cannot be read (503)."""

    http_status = 503
    code = "registry_unavailable"


def configured_queues() -> list[str]:
    """Every queue some worker must consume: the declared step queues
    (``PRSM_WORKER_QUEUES``) and the queues tasks are routed to (notifications)."""
    from executions.services.dispatch import declared_queues

    names = [queue.name for queue in declared_queues()]
    for route in settings.CELERY_TASK_ROUTES.values():
        names.append(route["queue"])
    return list(dict.fromkeys(names))


def _iso(at: Any) -> str | None:
    try:
        return datetime.fromtimestamp(float(at), tz=UTC).isoformat()
    except (TypeError, ValueError):
        return None


def workers_overview() -> dict[str, Any]:
    """``{workers, queues, unregistered}`` for the workers page and API.

    ``workers``: each live worker (node, host, queues, concurrency, pid,
    last_heartbeat, running_steps); ``queues``: each configured queue, and any
    other a worker consumes or a step waits on (name, configured, depth,
    consumers, warning); ``unregistered``: node names that step runs are running
    on but that have no live registry entry (a worker lost, or not beating).
    Raises ``RegistryUnavailable`` when Redis cannot be read.
    """
    from executions.workers import workers_live

    running = dict(
        StepRun.objects.filter(status=StepStatus.RUNNING, children__isnull=True)
        .values_list("worker_host")
        .annotate(n=Count("pk"))
        .order_by()
    )
    waiting_queues = set(
        StepRun.objects.filter(status__in=[StepStatus.QUEUED, StepStatus.RETRYING])
        .values_list("queue", flat=True)
        .distinct()
        .order_by()
    )
    configured = configured_queues()
    try:
        live = workers_live()
        consumed = {q for w in live for q in w.get("queues") or ()}
        names = list(dict.fromkeys([*configured, *sorted(consumed | waiting_queues)]))
        depths = queue_depths(names)
    except redis.RedisError as exc:
        raise RegistryUnavailable(f"The worker registry cannot be read: {exc}") from None
    workers = [
        {
            "node": str(w.get("node", "")),
            "host": str(w.get("host", "")),
            "queues": list(w.get("queues") or ()),
            "concurrency": int(w.get("concurrency") or 0),
            "pid": w.get("pid"),
            "last_heartbeat": _iso(w.get("at")),
            "running_steps": running.get(str(w.get("node", "")), 0),
        }
        for w in live
    ]
    queues = []
    for name in names:
        consumers = [w["node"] for w in workers if name in w["queues"]]
        warning = None
        if not consumers:
            warning = (
                f"No live worker consumes queue '{name}': its steps wait until one "
                f"starts (celery -A prsm_site worker -Q {name}) or their queue_timeout."
            )
        queues.append(
            {
                "name": name,
                "configured": name in configured,
                "depth": depths[name],
                "consumers": consumers,
                "warning": warning,
            }
        )
    known = {w["node"] for w in workers}
    unregistered = [
        {"node": node, "running_steps": count}
        for node, count in sorted(running.items())
        if node not in known
    ]
    return {"workers": workers, "queues": queues, "unregistered": unregistered}
