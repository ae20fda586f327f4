"""Optimization suggestions for a workflow: gathers its run history for the pure
decision module ``workflows.definition.optimize`` and checks the result."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from executions.models import EXECUTION_TERMINAL, Execution, StepRun, StepStatus
from workflows import catalog
from workflows.definition.optimize import StepHistory, optimize
from workflows.definition.schema import WorkflowDefinition
from workflows.definition_checks import definition_check
from workflows.models import Workflow

HISTORY_DAYS = 30
#: The most recent real runs read (optimizing is not on a hot path, but bounded).
HISTORY_RUNS = 500
DEFAULT_MAX_PARALLEL_STEPS = 10


def step_history(*, workflow: Workflow) -> tuple[dict[str, StepHistory], int, int]:
    """``(per-step history, runs read, max_parallel_steps most runs used)`` from the
    workflow's recent finished real runs."""
    since = timezone.now() - timedelta(days=HISTORY_DAYS)
    recent = list(
        Execution.objects.filter(
            workflow=workflow,
            is_test=False,
            created_at__gte=since,
            status__in=list(EXECUTION_TERMINAL),
        )
        .order_by("-created_at")
        .values_list("pk", "config")[:HISTORY_RUNS]
    )
    limits = Counter(
        int((config or {}).get("max_parallel_steps") or DEFAULT_MAX_PARALLEL_STEPS)
        for _, config in recent
    )
    limit = limits.most_common(1)[0][0] if limits else DEFAULT_MAX_PARALLEL_STEPS
    rows = StepRun.objects.filter(execution_id__in=[pk for pk, _ in recent]).values(
        "step_id",
        "parent_id",
        "status",
        "attempt",
        "attempts_log",
        "cost",
        "started_at",
        "completed_at",
        "input_tokens",
        "output_tokens",
    )
    acc: dict[str, dict[str, Any]] = {}
    for row in rows:
        a = acc.setdefault(
            row["step_id"],
            {
                "runs": 0,
                "durations": [],
                "cost": Decimal(0),
                "attempts": 0,
                "failures": Counter(),
                "tokens": [],
            },
        )
        a["cost"] += row["cost"]
        # attempts of branches and loop iterations count for their step
        a["attempts"] += row["attempt"]
        for entry in row["attempts_log"] or []:
            kind = entry.get("error_type") if isinstance(entry, dict) else None
            if kind and kind != "worker_lost":
                a["failures"][kind] += 1
        if row["parent_id"] is not None or row["status"] not in (
            StepStatus.COMPLETED,
            StepStatus.FAILED,
            StepStatus.CANCELLED,
        ):
            continue
        a["runs"] += 1
        if row["status"] == StepStatus.COMPLETED and row["started_at"] and row["completed_at"]:
            a["durations"].append((row["completed_at"] - row["started_at"]).total_seconds())
        if row["input_tokens"] or row["output_tokens"]:
            a["tokens"].append((row["input_tokens"], row["output_tokens"]))
    history = {
        step_id: StepHistory(
            runs=a["runs"],
            avg_duration_seconds=sum(a["durations"]) / len(a["durations"])
            if a["durations"]
            else None,
            avg_cost=a["cost"] / a["runs"] if a["runs"] else None,
            attempts=a["attempts"],
            transient_failures=dict(a["failures"]),
            avg_input_tokens=sum(t[0] for t in a["tokens"]) / len(a["tokens"])
            if a["tokens"]
            else None,
            avg_output_tokens=sum(t[1] for t in a["tokens"]) / len(a["tokens"])
            if a["tokens"]
            else None,
        )
        for step_id, a in acc.items()
    }
    return history, len(recent), limit


def workflow_optimize(
    *, workflow: Workflow, user: Any, goals: list[str], constraints: dict[str, float]
) -> dict[str, Any]:
    """Suggestions for the workflow's current version, and the optimized definition."""
    version = workflow.current_version
    assert version is not None  # every live workflow has one
    document = version.definition
    definition = WorkflowDefinition.model_validate(document)
    history, runs, limit = step_history(workflow=workflow)
    plan = optimize(
        definition,
        document,
        history=history,
        prices=catalog.model_prices(user),
        goals=goals,
        constraints=constraints,
        max_parallel_steps=limit,
    )
    report = definition_check(plan.optimized_document, user=user)
    return {
        "workflow_id": workflow.public_id,
        "version": version.number,
        "optimization_goals": goals,
        "constraints": constraints,
        "history_runs": runs,
        **plan.to_dict(),
        "optimized_definition_valid": report.is_valid,
        "optimized_definition_errors": [i.to_dict() for i in report.errors],
    }
