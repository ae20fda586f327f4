"""The Celery app. Workers: ``celery -A prsm_site worker -Q default[,gpu,…]``."""

import logging
import os
from typing import Any

from celery import Celery, states
from celery.backends.base import DisabledBackend
from celery.signals import (
    task_prerun,
    worker_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prsm_site.settings")

logger = logging.getLogger(__name__)

app = Celery("prsm_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _persistent_database_connections(**_: Any) -> None:
    """Workers keep their database connection between tasks.

    Opening a PostgreSQL connection costs more than a whole step's bookkeeping;
    the web tier keeps ``CONN_MAX_AGE`` as configured (0 suits ASGI, which runs
    requests in short-lived threads). Health checks drop a connection that broke.
    """
    from django.db import connections

    conf = connections["default"].settings_dict
    conf["CONN_MAX_AGE"] = int(os.environ.get("PRSM_WORKER_CONN_MAX_AGE", "600"))
    conf["CONN_HEALTH_CHECKS"] = True


@worker_init.connect
def _queues_agree(**_: Any) -> None:
    """A worker whose queues differ from the deployment's refuses to start
    (``executions.operations.queues``, exit status 78); one whose Redis may evict
    is warned."""
    from executions.operations.queues import declaration_check_or_exit
    from executions.operations.startup import startup_checks

    declaration_check_or_exit("worker")
    startup_checks("worker")  # warns of an external Redis that may evict


@task_prerun.connect
def _database_connection_fit_for_use(sender: Any = None, **_: Any) -> None:
    """Before each task in a worker: drop a connection that broke or outlived
    ``CONN_MAX_AGE`` (Celery's own per-task closing is off: ``CELERY_DB_REUSE_MAX``).
    Not for eager tasks, which run inside the caller's transaction."""
    from django.db import close_old_connections

    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    close_old_connections()


class NoResultBackend(DisabledBackend):
    """No results are kept, and nothing is known about a task: every state is
    ``PENDING``, which is what Celery means by "unknown".

    Celery's ``DisabledBackend`` raises on every read, and a worker's revoke reads
    the state of each task it does not run itself, so each cancel and timeout
    logged "No result backend is configured" (on every worker). Storing stays a
    no-op; results are still unavailable (``AsyncResult.get`` raises).
    """

    def get_state(self, task_id: str) -> str:  # type: ignore[override]
        return states.PENDING

    get_status = get_state


@worker_ready.connect
def _worker_registry_start(sender: Any = None, **_: Any) -> None:
    """The worker's main process registers it (``executions.workers``), beating
    until it shuts down; pool processes are not workers of their own."""
    from executions.operations.queues import consumed_undeclared
    from executions.workers import registry_start

    consumed = sorted(sender.app.amqp.queues.consume_from)
    undeclared = consumed_undeclared(consumed)
    if undeclared:
        logger.warning(
            "this worker consumes %s, which no declared queue (PRSM_WORKER_QUEUES) or task "
            "route names: no step is routed there",
            ", ".join(f"'{q}'" for q in undeclared),
        )
    registry_start(
        node=sender.hostname,
        queues=consumed,
        concurrency=int(getattr(sender.controller, "concurrency", 0) or 0),
    )


@worker_shutdown.connect
def _worker_registry_stop(**_: Any) -> None:
    from executions.workers import registry_stop

    registry_stop()


@worker_process_shutdown.connect
def _step_durations_flush(**_: Any) -> None:
    """A pool process that stops adds the step durations it has not added yet."""
    from executions.operations.counters import step_durations_flush

    step_durations_flush()
