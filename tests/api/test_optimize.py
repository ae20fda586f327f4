"""Optimization suggestions from a known history, and the optimized definition."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.api.test_analytics import add_run
from tests.conftest import client_for
from workflows.models import ModelEndpoint

DEFINITION: dict[str, Any] = {
    "name": "Optimizable",
    "steps": [
        {
            "id": "fetch",
            "type": "data_processing",
            "function": "noop",
            "input": "${workflow.input.text}",
        },
        # waits for fetch but reads nothing of it
        {
            "id": "side",
            "type": "data_processing",
            "function": "noop",
            "input": "static",
            "depends_on": ["fetch"],
        },
        {"id": "analyze", "type": "inference", "model": "gpt-4", "input": "${fetch.result}"},
        {"id": "flaky", "type": "data_processing", "function": "noop", "input": "${fetch.result}"},
    ],
    "error_handling": {"fallback_models": {"gpt-4": "gpt-3.5-turbo"}},
}


@pytest.fixture
def history(alice: Any) -> str:
    """Ten runs: fetch 2 s, side 10 s, analyze 8 s on gpt-4 (1000 in / 500 out tokens),
    flaky 1 s failing with rate_limit in four of them; all with max_parallel_steps 1."""
    for name, inp, out in (("gpt-4", "0.03", "0.06"), ("gpt-3.5-turbo", "0.0015", "0.002")):
        ModelEndpoint.objects.create(
            name=name,
            provider="openai",
            base_url="https://api.example.org/v1",
            input_price_per_1k=Decimal(inp),
            output_price_per_1k=Decimal(out),
        )
    response = client_for(alice).post("/api/v1/workflows", DEFINITION, format="json")
    assert response.status_code == 201, response.content
    workflow_id = response.json()["id"]
    for i in range(10):
        flaky_fails = i < 4
        add_run(
            workflow_id,
            alice,
            status="failed" if flaky_fails else "completed",
            config={"max_parallel_steps": 1},
            steps=[
                {"id": "fetch", "seconds": 2},
                {"id": "side", "offset": 2, "seconds": 10},
                {
                    "id": "analyze",
                    "offset": 12,
                    "seconds": 8,
                    "model": "gpt-4",
                    "input_tokens": 1000,
                    "output_tokens": 500,
                    "cost": "0.06",
                },
                {
                    "id": "flaky",
                    "offset": 20,
                    "seconds": 1,
                    "status": "failed" if flaky_fails else "completed",
                    "attempts_log": [{"attempt": 1, "error_type": "rate_limit"}]
                    if flaky_fails
                    else [],
                },
            ],
        )
    return workflow_id


def optimize(user: Any, workflow_id: str, body: Any) -> Any:
    return client_for(user).post(f"/api/v1/workflows/{workflow_id}/optimize", body, format="json")


def by_kind(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for s in body["suggestions"] if s["kind"] == kind]


@pytest.mark.django_db
def test_suggestions_from_history(alice: Any, history: str) -> None:
    response = optimize(alice, history, {"optimization_goals": ["speed", "cost"]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["history_runs"] == 10

    # the needless edge fetch → side: the critical path drops from 12 s to 10 s
    (parallel,) = by_kind(body, "parallelize")
    assert parallel["steps"] == ["fetch", "side"]
    assert parallel["estimated_effect"]["duration_seconds"] == pytest.approx(-2.0)
    assert parallel["applied"] is True

    (path,) = by_kind(body, "critical_path")
    assert path["steps"] == ["side"]

    # gpt-3.5-turbo is in analyze's fallback chain: 1000 × 0.0015 + 500 × 0.002 per 1k
    (cheaper,) = by_kind(body, "cheaper_model")
    assert cheaper["steps"] == ["analyze"]
    assert cheaper["model"] == "gpt-3.5-turbo"
    assert cheaper["estimated_effect"]["cost"] == pytest.approx(0.0025 - 0.06)
    assert cheaper["applied"] is True

    # four of ten attempts of flaky failed with rate_limit, which nothing retries
    (retries,) = by_kind(body, "add_retries")
    assert retries["steps"] == ["flaky"]
    assert retries["error_types"] == ["rate_limit"]
    assert retries["estimated_effect"]["failure_rate_percent"] == {"before": 40.0, "after": 6.4}

    # three steps can run at once; runs allowed one
    (parallelism,) = by_kind(body, "max_parallel_steps")
    assert parallelism["execution_config"] == {"max_parallel_steps": 3}
    assert body["recommended_execution_config"] == {"max_parallel_steps": 3}
    assert parallelism["estimated_effect"]["duration_seconds"] < 0

    # the optimized definition applies them and is valid
    optimized = body["optimized_definition"]
    steps = {s["id"]: s for s in optimized["steps"]}
    assert "depends_on" not in steps["side"]
    assert steps["analyze"]["model"] == "gpt-3.5-turbo"
    assert optimized["error_handling"]["error_handlers"] == [
        {
            "on": "rate_limit",
            "action": "wait_and_retry",
            "wait_seconds": 5.0,
            "max_attempts": 3,
            "steps": ["flaky"],
        }
    ]
    assert body["optimized_definition_valid"] is True
    assert body["projected"]["after"]["cost"] < body["projected"]["before"]["cost"]
    assert (
        body["projected"]["after"]["duration_seconds"]
        < body["projected"]["before"]["duration_seconds"]
    )

    # which the user can save as a new version
    saved = client_for(alice).put(f"/api/v1/workflows/{history}", optimized, format="json")
    assert saved.status_code == 200, saved.content
    assert saved.json()["version_number"] == 2


@pytest.mark.django_db
def test_accuracy_keeps_the_model_unless_max_cost_needs_it(alice: Any, history: str) -> None:
    goals = ["speed", "cost", "accuracy"]
    body = optimize(alice, history, {"optimization_goals": goals}).json()
    (cheaper,) = by_kind(body, "cheaper_model")
    assert cheaper["applied"] is False
    analyze = next(s for s in body["optimized_definition"]["steps"] if s["id"] == "analyze")
    assert analyze["model"] == "gpt-4"

    body = optimize(
        alice,
        history,
        {
            "optimization_goals": goals,
            "constraints": {"max_cost": 0.01, "max_duration_seconds": 300},
        },
    ).json()
    (cheaper,) = by_kind(body, "cheaper_model")
    assert cheaper["applied"] is True
    assert body["projected"]["constraints_met"] == {"max_cost": True, "max_duration_seconds": True}

    body = optimize(alice, history, {"constraints": {"max_cost": 0.001}}).json()
    assert body["projected"]["constraints_met"]["max_cost"] is False
    assert body["warnings"] and "max_cost" in body["warnings"][0]


@pytest.mark.django_db
def test_without_history_only_the_graph_speaks(alice: Any, history: str) -> None:
    response = client_for(alice).post("/api/v1/workflows", DEFINITION, format="json")
    body = optimize(alice, response.json()["id"], {}).json()
    assert body["history_runs"] == 0
    assert body["optimization_goals"] == ["speed", "cost", "accuracy"]
    assert by_kind(body, "add_retries") == []
    assert by_kind(body, "parallelize")[0]["steps"] == ["fetch", "side"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"optimization_goals": ["fast"]}, "optimization_goals"),
        ({"optimization_goals": "speed"}, "optimization_goals"),
        ({"constraints": {"max_cost": -1}}, "constraints.max_cost"),
        ({"constraints": {"max_duration_seconds": "soon"}}, "constraints.max_duration_seconds"),
        ({"constraints": {"budget": 1}}, "constraints.budget"),
        ({"constraints": [1]}, "constraints"),
        ({"goals": ["speed"]}, "goals"),
    ],
)
def test_bad_requests_are_a_400(alice: Any, history: str, body: Any, field: str) -> None:
    response = optimize(alice, history, body)
    assert response.status_code == 400
    assert field in response.json()["fields"]


@pytest.mark.django_db
def test_read_permission_suffices(alice: Any, bob: Any, charlie: Any, history: str) -> None:
    client_for(alice).post(
        f"/api/v1/workflows/{history}/permissions", {"read": ["bob"]}, format="json"
    )
    assert optimize(bob, history, {}).status_code == 200
    assert optimize(charlie, history, {}).status_code == 404
    assert client_for(None).post(f"/api/v1/workflows/{history}/optimize", {}).status_code == 401


# --- the pure scheduling helpers (no database) -------------------------------------------


def test_simulated_duration_respects_the_parallel_limit() -> None:
    from workflows.definition.optimize import simulate_duration

    deps = {"a": set(), "b": set(), "c": set(), "d": {"a", "b", "c"}}
    durations = {"a": 4.0, "b": 4.0, "c": 4.0, "d": 1.0}
    assert simulate_duration(deps, durations, None) == 5.0
    assert simulate_duration(deps, durations, 3) == 5.0
    assert simulate_duration(deps, durations, 2) == 9.0
    assert simulate_duration(deps, durations, 1) == 13.0
