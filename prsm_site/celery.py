"""The Celery app. Workers: ``celery -A prsm_site worker -Q default[,gpu,…]``."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prsm_site.settings")

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


@task_prerun.connect
def _database_connection_fit_for_use(sender: Any = None, **_: Any) -> None:
    """Before each task in a worker: drop a connection that broke or outlived
    ``CONN_MAX_AGE`` (Celery's own per-task closing is off: ``CELERY_DB_REUSE_MAX``).
    Not for eager tasks, which run inside the caller's transaction."""
    from django.db import close_old_connections

    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    close_old_connections()
