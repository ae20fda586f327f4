"""The one place the engine publishes its Celery tasks, by name, and checks that
what it is asked to run can be dispatched at all.

Services never import ``executions.tasks`` (it imports them): they publish through
these helpers, after the transaction commits (``Tx.flush`` registers them with
``transaction.on_commit``). A signature of a task registered in this process runs
as that task is configured (eagerly in tests that ask for it); one that is not is
sent by name. Queued messages carry these names: never rename them.

A broker that is down never fails the change that committed: a request answers as
if the messages were sent, the execution records ``execution.dispatch_deferred``,
and the reaper publishes the steps once the broker is back (``reaper``). Cancel and
timeout messages are advice the reaper backs up as well (deadlines, fenced runs).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, transaction
from kombu.exceptions import OperationalError

from executions.core.plan import NoQueueFits, QueueSpec, queue_for
from workflows.definition.schema import InlineStep, ResourceRequirements, Step, WorkflowDefinition
from workflows.errors import DomainError

logger = logging.getLogger(__name__)

RUN_STEP = "executions.run_step"
EXECUTION_TIMEOUT = "executions.execution_timeout"

#: What a publish raises when the broker cannot be reached (Kombu wraps the
#: transport's errors once its retries are spent; the others, in case one escapes).
BROKER_DOWN = (OperationalError, redis.ConnectionError, redis.TimeoutError)


def _publish(name: str, *, args: list[Any], **options: Any) -> None:
    from prsm_site.celery import app

    app.signature(name, args=args).apply_async(**options)


def publish_step_runs(dispatches: Iterable[Any]) -> None:
    """Publish one ``run_step`` message per dispatch (after commit).

    A step's own timeout is kept by the worker (``runner``). The message's hard
    limit stops what that cannot (code that holds the interpreter lock): the
    step's limit, plus the window in which the task may continue with more steps,
    plus twice the grace (``Continuation`` only takes a step that fits).
    """
    allowance = settings.PRSM_WORKER_CONTINUE_SECONDS + 2 * settings.PRSM_STEP_KILL_GRACE_SECONDS
    batch = list(dispatches)
    for sent, d in enumerate(batch):
        options: dict[str, Any] = {
            "queue": d.queue,
            "priority": d.priority,
            "task_id": d.task_id,
            "time_limit": d.time_limit + allowance,
        }
        if d.countdown:
            options["countdown"] = d.countdown
        try:
            _publish(RUN_STEP, args=[d.run_id, d.execution_pk], **options)
        except BROKER_DOWN as exc:  # the rest would fail alike: none is tried
            dispatch_deferred(batch[sent:], error=exc)
            return


def dispatch_deferred(unsent: list[Any], *, error: BaseException) -> None:
    """Record that these dispatches' messages could not be published (after commit).

    Logged once. Each run's ``task_id`` is cleared (no message carries it: the
    reaper then publishes it at its next pass, whatever its age), and each execution
    records ``execution.dispatch_deferred`` naming its steps, under its row lock.
    A database error here is logged, never raised: the change itself committed.
    """
    from executions.models import StepRun
    from executions.services.tx import Tx

    logger.warning(
        "broker unreachable (%s): %d step message(s) not published; "
        "the reaper publishes them when it is back",
        error,
        len(unsent),
    )
    by_execution: dict[int, list[Any]] = {}
    for d in unsent:
        if d.execution_pk is not None:
            by_execution.setdefault(d.execution_pk, []).append(d)
    for execution_pk, ds in sorted(by_execution.items()):
        keys = sorted(d.run.key if d.run is not None else str(d.run_id) for d in ds)
        try:
            with transaction.atomic():
                tx = Tx.lock(execution_pk)
                for d in ds:  # unless claimed meanwhile (a claim sets its own task id)
                    StepRun.objects.filter(pk=d.run_id, task_id=d.task_id).update(task_id="")
                tx.emit(
                    "execution.dispatch_deferred",
                    message=f"The task queue could not be reached ({type(error).__name__}); "
                    f"{len(keys)} step(s) will be sent when it is back: {', '.join(keys[:10])}"
                    + (f" and {len(keys) - 10} more" if len(keys) > 10 else ""),
                    steps=keys,
                )
                tx.flush()
        except DatabaseError:
            logger.exception("could not record the deferred dispatch of execution %s", execution_pk)


def schedule_execution_timeout(execution_pk: int, seconds: float) -> None:
    """Publish the execution's timeout. If the broker is down, the reaper times the
    execution out at its deadline anyway (``deadline_at``)."""
    try:
        _publish(EXECUTION_TIMEOUT, args=[execution_pk], countdown=seconds)
    except BROKER_DOWN as exc:
        logger.warning(
            "broker unreachable (%s): the timeout of execution %s is left to the reaper",
            exc,
            execution_pk,
        )


def revoke_tasks(waiting: list[str], running: list[str]) -> None:
    """Revoke queued messages, and stop steps still running (their results are fenced
    off anyway: the step run is no longer ``running``). If the broker is down, a
    message that arrives later finds its run finished and does nothing."""
    from prsm_site.celery import app

    try:
        if waiting:
            app.control.revoke(waiting)
        if running:
            app.control.revoke(running, terminate=True, signal="SIGTERM")
    except BROKER_DOWN as exc:
        logger.warning(
            "broker unreachable (%s): %d task(s) not revoked", exc, len(waiting) + len(running)
        )


# --------------------------------------------------------------------------- before a run starts


class StepsNotDispatchable(DomainError):
    """Steps no worker could be given as declared (→ 400): no declared queue offers
    what they need, or their ``timeout`` is beyond ``PRSM_MAX_STEP_SECONDS``.
    ``errors`` names each: ``{"step", "field", "message"}``."""

    code = "steps_not_dispatchable"

    def __init__(self, errors: list[dict[str, str]]):
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors

    def details(self) -> dict[str, Any]:
        return {"errors": self.errors}


def declared_queues() -> list[QueueSpec]:
    """The worker queues the settings declare (``PRSM_WORKER_QUEUES``)."""
    from workflows.catalog import worker_queues

    return [QueueSpec(q.name, q.cpu_cores, q.ram_gb, q.gpu) for q in worker_queues()]


def definition_dispatch_check(definition: WorkflowDefinition) -> None:
    """Refuse a definition with a step that could never be dispatched as declared.

    Every step's ``resource_requirements`` (its own, else the definition's) must be
    met by one declared queue — there is no quiet fallback to ``default`` — and no
    ``timeout`` may exceed ``PRSM_MAX_STEP_SECONDS``; the same for a conditional's
    branches and a loop's body. Raises ``StepsNotDispatchable`` naming each step.
    """
    queues = declared_queues()
    cap = settings.PRSM_MAX_STEP_SECONDS
    errors: list[dict[str, str]] = []
    for step in definition.steps:
        parts: list[tuple[str, Step | InlineStep, ResourceRequirements | None]] = [
            (step.id, step, step.resource_requirements or definition.resource_requirements)
        ]
        for part in ("if_true", "if_false", "step"):
            inline = getattr(step, part)
            if inline is not None:
                parts.append((f"{step.id}.{part}", inline, inline.resource_requirements))
        for name, spec, needs in parts:
            if needs is not None:
                try:
                    queue_for(needs, queues)
                except NoQueueFits as exc:
                    message = f"step '{name}' needs {exc}"
                    errors.append(
                        {"step": step.id, "field": "resource_requirements", "message": message}
                    )
            if spec.timeout is not None and spec.timeout > cap:
                errors.append(
                    {
                        "step": step.id,
                        "field": "timeout",
                        "message": f"step '{name}' has timeout {spec.timeout} s; "
                        f"steps may run at most {cap} s here (PRSM_MAX_STEP_SECONDS)",
                    }
                )
    if errors:
        raise StepsNotDispatchable(errors)
