"""The seed's analytics, resource-usage and optimization examples, run as written
through the SDK against the live server after real runs of the engine."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

import prsm
from executions.models import Execution
from tests.conftest import SIMPLE_DEFINITION

ANALYTICS = """
# Get workflow performance analytics
analytics = client.workflows.analytics(
    workflow_id="wf_abc123",
    timeframe="last_30_days"
)

print(f"Average execution time: {analytics.avg_duration_seconds}s")
print(f"Success rate: {analytics.success_rate}%")
print(f"Average cost: ${analytics.avg_cost}")
"""

USAGE = """
# Track resource usage across workflows
usage = client.workflows.resource_usage(
    timeframe="last_week",
    group_by="workflow_id"
)

for workflow_id, metrics in usage.items():
    print(f"Workflow {workflow_id}:")
    print(f"  CPU hours: {metrics.cpu_hours}")
    print(f"  RAM GB-hours: {metrics.ram_gb_hours}")
    print(f"  Total cost: ${metrics.total_cost}")
"""

OPTIMIZE = """
# Optimize workflow for performance
optimized = client.workflows.optimize(
    workflow_id="wf_abc123",
    optimization_goals=["speed", "cost", "accuracy"],
    constraints={
        "max_cost": 1.00,
        "max_duration_seconds": 300
    }
)
"""


@pytest.fixture
def ran(client: prsm.Client) -> str:
    """A workflow of fast offline steps, run three times to the end."""
    workflow = client.workflows.create(**SIMPLE_DEFINITION)
    for text in ("I love PRSM.", "Workflows run on Celery.", "Three runs make a history."):
        run = client.workflows.execute(workflow_id=workflow.id, inputs={"text": text})
        assert run.wait(timeout=60).status == "completed"
    return workflow.id


def test_seed_analytics_example(
    client: prsm.Client, ran: str, capsys: pytest.CaptureFixture[str]
) -> None:
    exec(ANALYTICS.replace("wf_abc123", ran), {"client": client})

    connection.close()
    runs = list(Execution.objects.filter(workflow__public_id=ran))
    durations = []
    for r in runs:
        assert r.completed_at and r.started_at
        durations.append((r.completed_at - r.started_at).total_seconds())
    average = sum(durations) / len(durations)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Average execution time: ") and out[0].endswith("s")
    assert float(out[0].removeprefix("Average execution time: ")[:-1]) == pytest.approx(
        average, abs=2e-3
    )
    assert out[1] == "Success rate: 100.0%"
    assert out[2] == f"Average cost: ${round(float(sum(r.total_cost for r in runs)) / 3, 6)}"


def test_seed_resource_usage_example(
    client: prsm.Client, ran: str, capsys: pytest.CaptureFixture[str]
) -> None:
    exec(USAGE, {"client": client})

    connection.close()
    runs = list(Execution.objects.filter(workflow__public_id=ran))
    cpu = round(sum(r.cpu_seconds for r in runs) / 3600, 6)
    ram = round(sum(r.ram_gb_seconds for r in runs) / 3600, 6)
    cost = round(float(sum(r.total_cost for r in runs)), 6)
    assert capsys.readouterr().out.splitlines() == [
        f"Workflow {ran}:",
        f"  CPU hours: {cpu}",
        f"  RAM GB-hours: {ram}",
        f"  Total cost: ${cost}",
    ]


def test_seed_optimize_example(client: prsm.Client, ran: str) -> None:
    namespace: dict[str, Any] = {"client": client}
    exec(OPTIMIZE.replace("wf_abc123", ran), namespace)

    optimized = namespace["optimized"]
    assert isinstance(optimized, prsm.models.OptimizationResult)
    assert optimized.history_runs == 3
    assert optimized.optimization_goals == ["speed", "cost", "accuracy"]
    kinds = {s["kind"] for s in optimized.suggestions}
    assert "critical_path" in kinds
    assert optimized.optimized_definition_valid is True
    assert optimized.projected["constraints_met"] == {
        "max_cost": True,
        "max_duration_seconds": True,
    }
    # the optimized definition can be saved as a new version
    saved = client.workflows.update(ran, **optimized.optimized_definition)
    assert saved.version_number == 2


def test_bad_arguments_raise_validation_errors(client: prsm.Client, ran: str) -> None:
    with pytest.raises(prsm.ValidationError, match="timeframe"):
        client.workflows.analytics(workflow_id=ran, timeframe="forever")
    with pytest.raises(prsm.ValidationError, match="group_by"):
        client.workflows.resource_usage(group_by="colour")
    with pytest.raises(prsm.ValidationError, match="optimization_goals"):
        client.workflows.optimize(workflow_id=ran, optimization_goals=["magic"])
