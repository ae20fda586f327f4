"""Celery tasks: thin wrappers over the engine services.

Messages carry ids only — never inputs, results or secrets.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from celery import shared_task

from executions import notifications  # noqa: F401  (registers the notification tasks)
from executions.services import lifecycle, reaper, runner, steps

RUN_STEP = "executions.run_step"


@shared_task(name=RUN_STEP, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_step(step_run_id: int, execution_pk: int | None = None) -> None:
    run = steps.step_run_claim(
        step_run_id=step_run_id, execution_pk=execution_pk, worker_host=runner.WORKER_HOST
    )
    if run is None:
        return  # a duplicate or late message: someone else has it, or it is finished
    runner.step_run_execute(run)


@shared_task(name="executions.execution_timeout", ignore_result=True)
def execution_timeout(execution_pk: int) -> None:
    lifecycle.execution_time_out(execution_pk=execution_pk)


@shared_task(name="executions.tasks.reap", ignore_result=True)
def reap() -> dict[str, int]:
    return reaper.reap()


def publish_step_runs(dispatches: Iterable[Any]) -> None:
    """Publish one ``run_step`` message per dispatch (after commit)."""
    for d in dispatches:
        options: dict[str, Any] = {"queue": d.queue, "priority": d.priority, "task_id": d.task_id}
        if d.time_limit:
            options["soft_time_limit"] = d.time_limit
            options["time_limit"] = d.time_limit + 15
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
