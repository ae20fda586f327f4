"""Celery tasks: thin wrappers over the engine services.

Messages carry ids only — never inputs, results or secrets.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from celery import shared_task
from django.conf import settings

from executions import notifications  # noqa: F401  (registers the notification tasks)
from executions.services import lifecycle, reaper, runner, steps
from executions.services.tx import Continuation

RUN_STEP = "executions.run_step"


@shared_task(
    bind=True, name=RUN_STEP, acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def run_step(self: Any, step_run_id: int, execution_pk: int | None = None) -> None:
    started = time.monotonic()
    run = steps.step_run_claim(
        step_run_id=step_run_id,
        execution_pk=execution_pk,
        worker_host=runner.WORKER_HOST,
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
            worker_host=runner.WORKER_HOST,
            window_ends=started + settings.PRSM_WORKER_CONTINUE_SECONDS,
            deadline=started + hard_limit if hard_limit else float("inf"),
        )
        if queue and settings.PRSM_WORKER_CONTINUE_SECONDS > 0
        else None
    )
    while run is not None:
        run = runner.step_run_execute(run, continuation=continuation)


@shared_task(name="executions.execution_timeout", ignore_result=True)
def execution_timeout(execution_pk: int) -> None:
    lifecycle.execution_time_out(execution_pk=execution_pk)


@shared_task(name="executions.tasks.reap", ignore_result=True)
def reap() -> dict[str, int]:
    return reaper.reap()


def publish_step_runs(dispatches: Iterable[Any]) -> None:
    """Publish one ``run_step`` message per dispatch (after commit).

    A step's own timeout is kept by the worker (``runner``). The message's hard
    limit stops what that cannot (code that holds the interpreter lock): the
    step's limit, plus the window in which the task may continue with more steps,
    plus twice the grace (``Continuation`` only takes a step that fits).
    """
    allowance = settings.PRSM_WORKER_CONTINUE_SECONDS + 2 * settings.PRSM_STEP_KILL_GRACE_SECONDS
    for d in dispatches:
        options: dict[str, Any] = {
            "queue": d.queue,
            "priority": d.priority,
            "task_id": d.task_id,
            "time_limit": d.time_limit + allowance,
        }
        if d.countdown:
            options["countdown"] = d.countdown
        run_step.apply_async(args=[d.run_id, d.execution_pk], **options)


def schedule_execution_timeout(execution_pk: int, seconds: float) -> None:
    execution_timeout.apply_async(args=[execution_pk], countdown=seconds)


def revoke_tasks(waiting: list[str], running: list[str]) -> None:
    """Revoke queued messages, and stop steps still running (their results are fenced
    off anyway: the step run is no longer ``running``)."""
    from prsm_site.celery import app

    if waiting:
        app.control.revoke(waiting)
    if running:
        app.control.revoke(running, terminate=True, signal="SIGTERM")
