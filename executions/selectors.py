"""Reads of executions, shaped as the API returns them. Access is checked by the
caller through the workflow (executions inherit it)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from executions.models import Execution, StepRun, StepStatus
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


def _step(run: StepRun, children: list[StepRun]) -> dict[str, Any]:
    duration = None
    if run.started_at and run.completed_at:
        duration = round((run.completed_at - run.started_at).total_seconds(), 3)
    out: dict[str, Any] = {
        "id": run.key,
        "status": run.status,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "input": run.input,  # as resolved for the step, secrets redacted
        "result": open_result(run.result),
        "cost": float(run.cost + sum((c.cost for c in children), 0)),
        "attempts": run.attempt,
        "model_used": run.model_used or None,
        "error": {"type": run.error_type, "message": run.error_message}
        if run.error_type
        and run.status in (StepStatus.FAILED, StepStatus.RETRYING, StepStatus.SKIPPED)
        else None,
        "duration_seconds": duration,
        "worker_host": run.worker_host,
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
    return out


def execution_detail(execution: Execution) -> dict[str, Any]:
    runs = list(execution.step_runs.all())
    children: dict[int, list[StepRun]] = {}
    for run in runs:
        if run.parent_id:
            children.setdefault(run.parent_id, []).append(run)
    progress, current = execution_progress(execution)
    seconds = lambda v: v / 3600  # noqa: E731
    return {
        **execution_summary(execution),
        "inputs": execution.inputs,
        "config": execution.config,
        # what ran: the version's document, or the steps a generator produced
        "definition": execution.definition,
        "steps": [_step(r, children.get(r.pk, [])) for r in runs if r.parent_id is None],
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
    }
