"""Celery tasks: thin wrappers over the engine services.

Messages carry ids only — never inputs, results or secrets.
"""

from __future__ import annotations

import time
from typing import Any

from celery import shared_task
from django.conf import settings

from executions import notifications
from executions.services import lifecycle, reaper, runner, step_runs
from executions.services.dispatch import EXECUTION_TIMEOUT, RUN_STEP
from executions.services.tx import Continuation


@shared_task(
    bind=True, name=RUN_STEP, acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def run_step(self: Any, step_run_id: int, execution_pk: int | None = None) -> None:
    started = time.monotonic()
    # The Celery node name (name@host): two workers on one machine are told apart,
    # and the workers view matches running steps to the registry's entries.
    worker = self.request.hostname or runner.WORKER_HOST
    run = step_runs.step_run_claim(
        step_run_id=step_run_id,
        execution_pk=execution_pk,
        worker_host=worker,
        task_id=self.request.id,
    )
    if run is None:
        return  # a duplicate or late message: someone else has it, or it is finished
    # The task may go on with a step that the one it finished made ready on this
    # worker's queue, without a trip through the broker (see ``Continuation``).
    queue = (self.request.delivery_info or {}).get("routing_key")
    hard_limit = (self.request.timelimit or (None, None))[0]
    continuation = (
        Continuation(
            queue=queue,
            task_id=self.request.id,
            worker_host=worker,
            window_ends=started + settings.PRSM_WORKER_CONTINUE_SECONDS,
            deadline=started + hard_limit if hard_limit else float("inf"),
        )
        if queue and settings.PRSM_WORKER_CONTINUE_SECONDS > 0
        else None
    )
    while run is not None:
        run = runner.step_run_execute(run, continuation=continuation)


@shared_task(name=EXECUTION_TIMEOUT, ignore_result=True)
def execution_timeout(execution_pk: int) -> None:
    lifecycle.execution_time_out(execution_pk=execution_pk)


@shared_task(name="executions.tasks.reap", ignore_result=True)
def reap(interval: float | None = None) -> dict[str, int] | None:
    """One pass per beat interval, however many beats publish (``reaper.reap_once``)."""
    return reaper.reap_once(interval)


# --------------------------------------------------------------------------- notifications


@shared_task(name=notifications.DELIVER_WEBHOOK, ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    """One attempt; on failure, the next one is published with the backoff countdown."""
    notifications.webhook_deliver(delivery_id=delivery_id)


@shared_task(
    name=notifications.SEND_EMAIL_NOTIFICATION,
    ignore_result=True,
    autoretry_for=(OSError,),  # SMTP errors are OSErrors
    retry_backoff=True,
    max_retries=5,
)
def send_email_notification(execution_id: int, event: str) -> None:
    notifications.notification_email_send(execution_id=execution_id, event=event)
