"""Reads of executions, shaped as the API returns them. Access is checked by the
caller through the workflow (executions inherit it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from executions.core import attempts, emptiness, reasons
from executions.models import (
    EXECUTION_TERMINAL,
    SLOT_HOLDING,
    STEP_TERMINAL,
    Execution,
    ExecutionStatus,
    StepRun,
    StepStatus,
)
from executions.security import open_result
from executions.services.lifecycle import execution_progress
from workflows.models import Workflow


class ExecutionNotFound(Exception):
    pass


def executions_for_workflow(
    *,
    workflow: Workflow,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    include_tests: bool = True,
) -> QuerySet[Execution]:
    qs = workflow.executions.select_related("created_by", "version", "workflow").order_by(
        "-created_at", "-id"
    )
    if status:
        qs = qs.filter(status=status)
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    if not include_tests:
        qs = qs.filter(is_test=False)
    return qs


def execution_get(*, workflow: Workflow, public_id: str) -> Execution:
    execution = (
        workflow.executions.select_related("created_by", "version", "workflow", "resumed_from")
        .filter(public_id=public_id)
        .first()
    )
    if execution is None:
        raise ExecutionNotFound(public_id)
    return execution


def execution_for_user(*, user: Any, public_id: str) -> Execution:
    """The execution, if the caller may read its workflow; else ``ExecutionNotFound``."""
    from workflows.selectors import workflows_for_user

    execution = (
        Execution.objects.select_related("created_by", "version", "workflow", "resumed_from")
        .filter(public_id=public_id, workflow__in=workflows_for_user(user).values("pk"))
        .first()
    )
    if execution is None:
        raise ExecutionNotFound(public_id)
    return execution


def _duration(execution: Execution) -> float | None:
    if execution.started_at and execution.completed_at:
        return round((execution.completed_at - execution.started_at).total_seconds(), 3)
    return None


def execution_summary(execution: Execution) -> dict[str, Any]:
    return {
        "execution_id": execution.public_id,
        "workflow_id": execution.workflow.public_id,
        "status": execution.status,
        "is_test": execution.is_test,
        "created_by": execution.created_by.get_username(),
        "started_at": execution.started_at,
        "completed_at": execution.completed_at,
        "duration_seconds": _duration(execution),
        "total_cost": float(execution.total_cost),
        "version": execution.version.number,
    }


def steps_waiting(
    execution: Execution, runs: Sequence[StepRun]
) -> dict[int, reasons.Reason | None]:
    """Why each open, not running step waits (by run pk; None for the others): for its
    dependencies, a parallel slot, a worker on its queue, its retry, its children."""
    from executions.services.advance import DEFAULT_MAX_PARALLEL, _consumers
    from executions.services.tx import plan_for

    out: dict[int, reasons.Reason | None] = {run.pk: None for run in runs}
    if execution.status in EXECUTION_TERMINAL:
        return out
    plan = plan_for(execution)
    status_of = {run.key: run.status for run in runs}
    by_pk = {run.pk: run for run in runs}
    children: dict[int, list[StepRun]] = {}
    for run in runs:
        if run.parent_id:
            children.setdefault(run.parent_id, []).append(run)
    in_use = sum(1 for run in runs if run.status in SLOT_HOLDING)
    limit = int(execution.config.get("max_parallel_steps") or DEFAULT_MAX_PARALLEL)
    consumers = _consumers({run.queue for run in runs if run.status == StepStatus.QUEUED})
    for run in runs:
        if run.status == StepStatus.PENDING:
            if run.parent_id is None:
                deps = plan.deps.get(run.step_id, set())
                waits = [k for k in deps if status_of.get(k) not in STEP_TERMINAL]
            elif run.iteration:  # a sequential loop's item waits for the one before
                waits = [plan.iteration_key(run.step_id, run.iteration - 1)]
            else:  # a branch, or a first item, waits for its composite to start
                waits = [by_pk[run.parent_id].key]
            out[run.pk] = reasons.dependencies(waits)
        elif run.status == StepStatus.READY:
            out[run.pk] = reasons.slot(in_use=in_use, limit=limit)
        elif run.status == StepStatus.QUEUED:
            out[run.pk] = reasons.queue(name=run.queue, consumers=consumers.get(run.queue))
        elif run.status == StepStatus.RETRYING:
            error = f"{run.error_type}: {run.error_message[:200]}" if run.error_type else ""
            out[run.pk] = reasons.retry(
                at=run.next_attempt_at, attempt=run.attempt + 1, max_attempts=None, last_error=error
            )
        elif run.status == StepStatus.WAITING:
            kids = children.get(run.pk, [])
            open_keys = [c.key for c in kids if c.status not in STEP_TERMINAL]
            step = plan.step(run.step_id)
            out[run.pk] = reasons.children(
                keys=open_keys, done=len(kids) - len(open_keys), kind=step.type
            )
    return out


def execution_eta(execution: Execution, progress: float) -> datetime | None:
    """When a running execution should end: its estimated duration from the start, or,
    once that has passed, the estimated share still to do from now. The end time
    once it ended."""
    from workflows.definition.schema import WorkflowDefinition
    from workflows.definition_checks import definition_estimate

    if execution.status in EXECUTION_TERMINAL:
        return execution.completed_at
    if execution.status != ExecutionStatus.RUNNING or execution.started_at is None:
        return None
    total = definition_estimate(WorkflowDefinition.model_validate(execution.definition))
    seconds = float(total.duration_seconds or 0)
    planned = execution.started_at + timedelta(seconds=seconds)
    now = timezone.now()
    return planned if planned > now else now + timedelta(seconds=seconds * (1 - progress))


def _step(
    run: StepRun,
    children: list[StepRun],
    waiting: dict[int, reasons.Reason | None],
    functions: dict[str, str],
) -> dict[str, Any]:
    result = open_result(run.result)
    function = functions.get(run.step_id)
    duration = None
    if run.started_at and run.completed_at:
        duration = round((run.completed_at - run.started_at).total_seconds(), 3)
    out: dict[str, Any] = {
        "id": run.key,
        "status": run.status,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "input": open_result(run.input),  # as resolved for the step, secrets redacted
        "result": result,
        "cost": float(run.cost + sum((c.cost for c in children), 0)),
        "attempts": run.attempt,
        "model_used": run.model_used or None,
        "error": {"type": run.error_type, "message": run.error_message}
        if run.error_type
        and run.status in (StepStatus.FAILED, StepStatus.RETRYING, StepStatus.SKIPPED)
        else None,
        "duration_seconds": duration,
        "worker_host": run.worker_host,
        "waiting": waiting.get(run.pk),
        "attempt_history": _attempts_of(run),
        **emptiness.empty_flag(run.status, result, function=function, resolved=run.input),
    }
    if run.iteration is None and children and children[0].iteration is not None:
        counts = Counter(c.status for c in children)
        out["iterations"] = {"total": len(children), **dict(counts)}
    elif children:
        taken = [c for c in children if c.status != StepStatus.SKIPPED]
        if taken:
            out["branch"] = taken[0].key.rsplit(".", 1)[1]
            out["model_used"] = taken[0].model_used or None
            out["attempts"] = taken[0].attempt
            out["attempt_history"] = _attempts_of(taken[0])
    return out


def _attempts_of(run: StepRun) -> list[dict[str, Any]]:
    return attempts.attempt_history(
        run.attempts_log,
        status=run.status,
        attempt=run.attempt,
        model=run.model_used,
        started_at=run.started_at,
        completed_at=run.completed_at,
    )


def execution_detail(execution: Execution) -> dict[str, Any]:
    runs = list(execution.step_runs.all())
    children: dict[int, list[StepRun]] = {}
    for run in runs:
        if run.parent_id:
            children.setdefault(run.parent_id, []).append(run)
    progress, current = execution_progress(execution)
    waiting = steps_waiting(execution, runs)
    functions = {
        str(s.get("id")): str(s["function"])
        for s in (execution.definition or {}).get("steps", [])
        if isinstance(s, dict) and s.get("function")
    }
    seconds = lambda v: v / 3600  # noqa: E731
    return {
        **execution_summary(execution),
        "inputs": execution.inputs,
        "config": execution.config,
        # what ran: the version's document, or the steps a generator produced
        "definition": execution.definition,
        "steps": [
            _step(r, children.get(r.pk, []), waiting, functions)
            for r in runs
            if r.parent_id is None
        ],
        "final_result": execution.final_result,
        "resource_usage": {
            "cpu_hours": round(seconds(execution.cpu_seconds), 6),
            "ram_gb_hours": round(seconds(execution.ram_gb_seconds), 6),
            "gpu_hours": round(seconds(execution.gpu_seconds), 6),
        },
        "error": execution.error,
        "resumed_from": execution.resumed_from.public_id if execution.resumed_from else None,
        "progress": progress,
        "current_step": current,
        "estimated_completion": execution_eta(execution, progress),
    }
