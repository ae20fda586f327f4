"""One source of truth for queues: every process's view is checked at start-up.

The queues are declared in settings (``PRSM_WORKER_QUEUES``: each queue and the most
a step routed to it may ask for; ``CELERY_TASK_ROUTES``: where notifications go).
The web routes a run's first steps with its view and workers route the later ones
with theirs, so a machine whose view differs would misroute silently. Therefore the
first web or worker process to start records its view in the database
(``QueueDeclaration``), and every later one compares its own with it: a process
whose view differs refuses to start, with a message naming each difference. To
change the queues: set the new value everywhere, run ``manage.py queues --declare``
once, and restart every process.

A database that cannot be read (not migrated yet, away) is logged and not checked:
the process starts, and the next one to start checks.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, IntegrityError, transaction

logger = logging.getLogger(__name__)

SINGLETON = 1
#: The exit status of a process refused for its queues (EX_CONFIG): service managers
#: are told not to restart it in a loop (deploy/systemd).
EXIT_QUEUES_DIFFER = 78


class QueuesDiffer(ImproperlyConfigured):
    """This process's queues are not the deployment's (start-up is refused)."""


def declaration() -> dict[str, Any]:
    """This process's view: the declared queues, in order, and the task routes."""
    from workflows.catalog import worker_queues

    return {
        "queues": [
            {"name": q.name, "cpu_cores": q.cpu_cores, "ram_gb": q.ram_gb, "gpu": bool(q.gpu)}
            for q in worker_queues()
        ],
        "routes": {
            task: str(route.get("queue", ""))
            for task, route in sorted(settings.CELERY_TASK_ROUTES.items())
        },
    }


def _describe(queue: dict[str, Any]) -> str:
    gpu = ", GPU" if queue.get("gpu") else ""
    return f"{queue['cpu_cores']:g} CPU cores, {queue['ram_gb']:g} GB RAM{gpu}"


def differences(here: dict[str, Any], recorded: dict[str, Any]) -> list[str]:
    """Each way ``here`` differs from ``recorded``, in words; [] when they agree."""
    out: list[str] = []
    mine = {q["name"]: q for q in here.get("queues", [])}
    theirs = {q["name"]: q for q in recorded.get("queues", [])}
    for name, queue in theirs.items():
        if name not in mine:
            out.append(f"queue '{name}' ({_describe(queue)}) is declared there, not here")
    for name, queue in mine.items():
        if name not in theirs:
            out.append(f"queue '{name}' ({_describe(queue)}) is declared here, not there")
    for name in mine.keys() & theirs.keys():
        for field in ("cpu_cores", "ram_gb", "gpu"):
            if mine[name].get(field) != theirs[name].get(field):
                out.append(
                    f"queue '{name}' has {field} {mine[name].get(field)!r} here, "
                    f"{theirs[name].get(field)!r} there"
                )
    if not out and [q["name"] for q in here.get("queues", [])] != list(theirs):
        out.append(
            "the queues are declared in another order here ("
            + ", ".join(mine)
            + ") than there ("
            + ", ".join(theirs)
            + "): a step goes to the first that fits"
        )
    routes_here, routes_there = here.get("routes", {}), recorded.get("routes", {})
    for task in sorted(routes_here.keys() | routes_there.keys()):
        if routes_here.get(task) != routes_there.get(task):
            out.append(
                f"task '{task}' is routed to {routes_here.get(task) or 'no queue'!r} here, "
                f"{routes_there.get(task) or 'no queue'!r} there"
            )
    return sorted(out, key=lambda line: line.startswith("task"))


def process_name(role: str) -> str:
    return f"{role} on {socket.gethostname()} (pid {os.getpid()})"


def declaration_record(*, by: str) -> None:
    """Make this process's view the deployment's (``manage.py queues --declare``)."""
    from django.utils import timezone

    from executions.models import QueueDeclaration

    QueueDeclaration.objects.update_or_create(
        pk=SINGLETON,
        defaults={"declared": declaration(), "recorded_by": by, "recorded_at": timezone.now()},
    )


def declaration_check(role: str) -> None:
    """At start-up: record this view if none is, else compare with the recorded one.

    Raises ``QueuesDiffer`` naming each difference; logs (and returns) when the
    database cannot be read."""
    from executions.models import QueueDeclaration

    here = declaration()
    try:
        try:
            with transaction.atomic():
                row, created = QueueDeclaration.objects.get_or_create(
                    pk=SINGLETON, defaults={"declared": here, "recorded_by": process_name(role)}
                )
        except IntegrityError:  # another process recorded it first, just now
            row, created = QueueDeclaration.objects.get(pk=SINGLETON), False
    except DatabaseError as exc:
        logger.warning(
            "the queue declaration could not be checked (%s): is the database migrated?", exc
        )
        return
    if created:
        logger.info("queues recorded for every process: %s", here)
        return
    found = differences(here, row.declared)
    if found:
        raise QueuesDiffer(
            f"This {role}'s queues differ from the ones this deployment declared "
            f"(recorded by {row.recorded_by} at {row.recorded_at:%Y-%m-%d %H:%M:%S} UTC; "
            "here: PRSM_WORKER_QUEUES and CELERY_TASK_ROUTES of this process): "
            + "; ".join(found)
            + ". Set the same PRSM_WORKER_QUEUES on every machine; to change the queues, "
            "run `manage.py queues --declare` with the new value, then restart every process."
        )


def declaration_check_or_exit(role: str) -> None:
    """``declaration_check``, and on a difference: log it and exit with
    ``EXIT_QUEUES_DIFFER`` (a signal handler's or an import's exception would be
    logged and ignored, or exit 1 like any crash)."""
    try:
        declaration_check(role)
    except QueuesDiffer as exc:
        logger.critical("refusing to start: %s", exc)
        raise SystemExit(EXIT_QUEUES_DIFFER) from None


def consumed_undeclared(consumed: list[str]) -> list[str]:
    """Queues a worker consumes that no declared queue or route names."""
    here = declaration()
    known = {q["name"] for q in here["queues"]} | set(here["routes"].values())
    return [queue for queue in consumed if queue not in known]
