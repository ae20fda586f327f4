"""``execution_config.max_cost``: a run stops once its cost passes the cap."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.conftest import client_for
from tests.executions.helpers import create_workflow, detail, runs, wait_terminal


def _priced_chain(alice: Any) -> str:
    from workflows.models import ModelEndpoint

    ModelEndpoint.objects.create(
        name="priced",
        provider="mock",
        input_price_per_1k=Decimal("1.5"),
        output_price_per_1k=Decimal("3"),
    )
    steps: list[dict[str, Any]] = [
        {"id": "a", "type": "inference", "model": "priced", "input": "x" * 4000}
    ]
    for prev, step_id in (("a", "b"), ("b", "c")):
        steps.append(
            {
                "id": step_id,
                "type": "inference",
                "model": "priced",
                "input": "x" * 4000,
                "depends_on": [prev],
            }
        )
    return create_workflow(alice, {"name": "priced chain", "steps": steps})


def _run(alice: Any, wf: str, **config: Any) -> str:
    response = client_for(alice).post(
        f"/api/v1/workflows/{wf}/test",
        {"mock_models": {"priced": {"response": "y" * 800}}, "execution_config": config},
        format="json",
    )
    assert response.status_code in (200, 201, 202), response.json()
    return response.json()["execution_id"]


def test_run_stops_when_its_cost_passes_max_cost(worker: Any, alice: Any) -> None:
    wf = _priced_chain(alice)  # each step costs 1.5 + 0.6 = 2.1
    ex = _run(alice, wf, max_cost=3)
    execution = wait_terminal(ex)
    assert execution.status == "failed"
    assert execution.error is not None
    assert execution.error["type"] == "budget_exceeded"
    assert "max_cost" in execution.error["message"]
    by_key = runs(ex)
    assert by_key["a"].status == by_key["b"].status == "completed"
    assert by_key["c"].status not in ("completed", "running", "queued")
    body = detail(alice, wf, ex)
    assert body["status"] == "failed"
    assert body["total_cost"] == float(Decimal("4.2"))


def test_run_under_max_cost_completes(worker: Any, alice: Any) -> None:
    wf = _priced_chain(alice)
    ex = _run(alice, wf, max_cost=10)
    assert wait_terminal(ex).status == "completed"


def test_negative_max_cost_is_a_clear_400(alice: Any, alice_workflow: str) -> None:
    response = client_for(alice).post(
        f"/api/v1/workflows/{alice_workflow}/execute",
        {"execution_config": {"max_cost": -1}},
        format="json",
    )
    assert response.status_code == 400
    assert "max_cost" in str(response.json())
