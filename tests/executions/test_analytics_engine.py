"""Analytics and resource usage after a few dozen runs of the real engine.

The runs go through the API, a real Celery worker and the database; the test then
recomputes every figure from the Execution and StepRun rows on its own and compares.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from executions.models import Execution, StepRun
from tests.conftest import client_for
from tests.executions.helpers import create_workflow, execute, wait_terminal
from workflows.models import ModelEndpoint

RUNS = 24
FAILING = 6

DEFINITION: dict[str, Any] = {
    "name": "Observed",
    "steps": [
        {
            "id": "clean",
            "type": "data_processing",
            "function": "clean_text",
            "input": "${workflow.input.text}",
        },
        {
            "id": "summary",
            "type": "inference",
            "model": "lab-summary",
            "input": "Summarize: ${clean.result}",
        },
        {
            "id": "gate",
            "type": "conditional",
            "condition": "${workflow.input.mode} == 'fail'",
            "if_true": {"type": "data_processing", "function": "fail", "input": "x"},
            "if_false": {"type": "data_processing", "function": "noop", "input": "ok"},
            "depends_on": ["summary"],
        },
    ],
}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    rank = (len(ordered) - 1) * fraction
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _seconds(run: Execution | StepRun) -> float:
    """How long a finished execution or step took."""
    assert run.started_at is not None and run.completed_at is not None
    return (run.completed_at - run.started_at).total_seconds()


@pytest.fixture
def fresh_plans() -> None:
    """Forget the plans this process compiled for earlier tests' executions.

    ``executions.services.tx.plan_for`` caches plans by execution pk. On SQLite the
    pks of executions that a ``django_db`` test started and rolled back are handed
    out again, so a later run would get an earlier test's plan (reported to the
    engine's owner; PostgreSQL never reuses a pk).
    """
    from executions.services import tx

    tx._PLANS.clear()


@pytest.fixture
def history(worker: Any, alice: Any, fresh_plans: None) -> str:
    # a priced endpoint served by a built-in model, so runs cost something
    ModelEndpoint.objects.create(
        name="lab-summary",
        provider="builtin",
        remote_model="builtin/extractive-summary",
        input_price_per_1k=Decimal("0.5"),
        output_price_per_1k=Decimal("1.5"),
    )
    workflow_id = create_workflow(alice, DEFINITION)
    ids = [
        execute(
            alice,
            workflow_id,
            inputs={
                "text": f"Run {i}: the engine records every step. It measures time and cost.",
                "mode": "fail" if i < FAILING else "pass",
            },
        )
        for i in range(RUNS)
    ]
    for execution_id in ids:
        wait_terminal(execution_id, timeout=120)
    connection.close()
    return workflow_id


def test_analytics_match_the_rows(alice: Any, history: str) -> None:
    response = client_for(alice).get(
        f"/api/v1/workflows/{history}/analytics", {"timeframe": "last_24_hours"}
    )
    assert response.status_code == 200, response.content
    body = response.json()

    runs = list(Execution.objects.filter(workflow__public_id=history, is_test=False))
    assert len(runs) == RUNS
    completed = [r for r in runs if r.status == "completed"]
    assert len(completed) == RUNS - FAILING
    durations = [_seconds(r) for r in completed]

    assert body["total_executions"] == RUNS
    assert body["executions_by_status"]["completed"] == RUNS - FAILING
    assert body["executions_by_status"]["failed"] == FAILING
    assert body["success_rate"] == pytest.approx(100 * (RUNS - FAILING) / RUNS, abs=0.01)
    assert body["avg_duration_seconds"] == pytest.approx(sum(durations) / len(durations), abs=2e-3)
    assert body["p50_duration_seconds"] == pytest.approx(percentile(durations, 0.5), abs=2e-3)
    assert body["p95_duration_seconds"] == pytest.approx(percentile(durations, 0.95), abs=2e-3)
    costs = [float(r.total_cost) for r in runs]
    assert sum(costs) > 0
    assert body["avg_cost"] == pytest.approx(sum(costs) / len(costs), abs=1e-6)

    steps = {s["step_id"]: s for s in body["steps"]}
    assert set(steps) == {"clean", "summary", "gate"}
    rows = list(StepRun.objects.filter(execution__in=runs))
    failed_parents = {r.parent_id for r in rows if r.parent_id and r.status == "failed"}
    retried_parents = {r.parent_id for r in rows if r.parent_id and r.attempt > 1}
    for step_id, reported in steps.items():
        # a step failed if it or one of its branches failed (see executions/analytics.py)
        top = [r for r in rows if r.step_id == step_id and r.parent_id is None]
        failed = [
            r
            for r in top
            if r.status == "failed" or (r.pk in failed_parents and r.status != "completed")
        ]
        done = [r for r in top if r.status == "completed"]
        finished = len(done) + len(failed)
        assert reported["runs"] == finished
        assert reported["failure_rate"] == pytest.approx(100 * len(failed) / finished, abs=0.01)
        retried = [r for r in done + failed if r.attempt > 1 or r.pk in retried_parents]
        assert reported["retry_rate"] == pytest.approx(100 * len(retried) / finished, abs=0.01)
        assert reported["avg_duration_seconds"] == pytest.approx(
            sum(_seconds(r) for r in done) / len(done),
            abs=2e-3,
        )
        step_cost = sum(float(r.cost) for r in rows if r.step_id == step_id)
        assert reported["avg_cost"] == pytest.approx(step_cost / finished, abs=1e-6)
    assert steps["gate"]["failure_rate"] == pytest.approx(100 * FAILING / RUNS, abs=0.01)
    assert steps["summary"]["avg_cost"] > 0
    assert sum(d["runs"] for d in body["daily"]) == RUNS


def test_resource_usage_matches_the_rows(alice: Any, history: str) -> None:
    api = client_for(alice)
    runs = list(Execution.objects.filter(workflow__public_id=history))

    body = api.get("/api/v1/workflows/resource-usage", {"group_by": "workflow_id"}).json()
    (group,) = body["groups"]
    assert group["key"] == history
    assert group["executions"] == RUNS
    assert group["cpu_hours"] == pytest.approx(
        round(sum(r.cpu_seconds for r in runs) / 3600, 6), abs=2e-6
    )
    assert group["ram_gb_hours"] == pytest.approx(
        round(sum(r.ram_gb_seconds for r in runs) / 3600, 6), abs=2e-6
    )
    assert group["total_cost"] == pytest.approx(float(sum(r.total_cost for r in runs)), abs=1e-6)
    assert group["cpu_hours"] > 0

    by_model = {
        g["key"]: g
        for g in api.get("/api/v1/workflows/resource-usage", {"group_by": "model"}).json()["groups"]
    }
    rows = list(StepRun.objects.filter(execution__in=runs, model_used="lab-summary"))
    assert by_model["lab-summary"]["total_cost"] == pytest.approx(
        float(sum(r.cost for r in rows)), abs=1e-6
    )
    assert by_model["lab-summary"]["executions"] == len({r.execution_id for r in rows})

    by_user = api.get("/api/v1/workflows/resource-usage", {"group_by": "user"}).json()["groups"]
    assert [(g["key"], g["executions"]) for g in by_user] == [("alice", RUNS)]


def test_seed_history_runs_the_workflow_through_the_engine(
    worker: Any, alice: Any, fresh_plans: None
) -> None:
    from io import StringIO

    from django.core.management import call_command

    from tests.conftest import SIMPLE_DEFINITION

    workflow_id = create_workflow(alice, SIMPLE_DEFINITION)
    out = StringIO()
    call_command("seed_history", workflow=workflow_id, runs=3, timeout=120, stdout=out)

    assert "Finished: 3 completed." in out.getvalue()
    runs = Execution.objects.filter(workflow__public_id=workflow_id)
    assert [r.is_test for r in runs] == [False] * 3
    assert {r.inputs["text"] for r in runs} and all(r.created_by == alice for r in runs)
