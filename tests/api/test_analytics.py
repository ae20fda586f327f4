"""Analytics and resource usage over a known history.

The history is written as rows (what the engine would have recorded); the figures
are checked against values worked out by hand. tests/executions/test_analytics_engine.py
does the same over runs of the real engine.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from executions.models import Execution, StepRun
from tests.conftest import client_for
from workflows.models import Workflow

pytestmark = pytest.mark.django_db


def add_run(
    workflow_id: str,
    user: Any,
    *,
    status: str = "completed",
    seconds: float | None = 10.0,
    cost: str = "0.10",
    ago: timedelta = timedelta(hours=1),
    is_test: bool = False,
    steps: list[dict[str, Any]] | None = None,
    cpu: float = 0.0,
    ram: float = 0.0,
    gpu: float = 0.0,
    config: dict[str, Any] | None = None,
) -> Execution:
    """One execution as the engine leaves it, with its top-level step runs."""
    workflow = Workflow.objects.get(public_id=workflow_id)
    created = timezone.now() - ago
    execution = Execution.objects.create(
        workflow=workflow,
        version=workflow.published_version(),
        definition=workflow.published_version().definition,
        created_by=user,
        status=status,
        is_test=is_test,
        created_at=created,
        started_at=created if seconds is not None else None,
        completed_at=created + timedelta(seconds=seconds) if seconds is not None else None,
        total_cost=Decimal(cost),
        cpu_seconds=cpu,
        ram_gb_seconds=ram,
        gpu_seconds=gpu,
        config=config or {},
    )
    for step in steps or []:
        start = created + timedelta(seconds=step.get("offset", 0.0))
        StepRun.objects.create(
            execution=execution,
            key=step["id"],
            step_id=step["id"],
            status=step.get("status", "completed"),
            attempt=step.get("attempt", 1),
            attempts_log=step.get("attempts_log", []),
            model_used=step.get("model", ""),
            cost=Decimal(step.get("cost", "0")),
            cpu_seconds=step.get("cpu", 0.0),
            memory_mb=step.get("memory_mb", 0.0),
            wall_seconds=step.get("wall", 0.0),
            gpu_seconds=step.get("gpu", 0.0),
            input_tokens=step.get("input_tokens", 0),
            output_tokens=step.get("output_tokens", 0),
            started_at=start,
            completed_at=start + timedelta(seconds=step.get("seconds", 1.0)),
        )
    return execution


def analytics(user: Any, workflow_id: str, **params: str) -> Any:
    return client_for(user).get(f"/api/v1/workflows/{workflow_id}/analytics", params)


def test_analytics_figures(alice: Any, alice_workflow: str) -> None:
    # given four real runs (three completed: 10 s, 20 s, 60 s; one failed), a test run
    # and a run older than the window
    def steps(clean_s: float, summary: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"id": "clean", "seconds": clean_s, "cost": "0.01"},
            {"id": "summary", "offset": clean_s, **summary},
        ]

    add_run(alice_workflow, alice, seconds=10, cost="0.10", steps=steps(1, {"seconds": 4}))
    add_run(
        alice_workflow,
        alice,
        seconds=20,
        cost="0.20",
        steps=steps(3, {"seconds": 6, "attempt": 2, "cost": "0.05"}),
    )
    add_run(alice_workflow, alice, seconds=60, cost="0.30", ago=timedelta(days=2))
    add_run(
        alice_workflow,
        alice,
        status="failed",
        seconds=5,
        cost="0.40",
        steps=steps(2, {"status": "failed", "attempt": 3}),
    )
    add_run(alice_workflow, alice, seconds=1000, cost="9", is_test=True)
    add_run(alice_workflow, alice, seconds=1000, cost="9", ago=timedelta(days=40))

    # when alice asks for the last 30 days
    response = analytics(alice, alice_workflow, timeframe="last_30_days")

    # then only the four real runs in the window count
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total_executions"] == 4
    assert body["executions_by_status"]["completed"] == 3
    assert body["executions_by_status"]["failed"] == 1
    assert body["success_rate"] == 75.0
    assert body["avg_duration_seconds"] == pytest.approx(30.0, abs=1e-3)
    assert body["p50_duration_seconds"] == pytest.approx(20.0, abs=1e-3)
    # percentile_cont: rank 0.95 * 2 = 1.9 → 20 + 0.9 * (60 - 20)
    assert body["p95_duration_seconds"] == pytest.approx(56.0, abs=1e-3)
    assert body["avg_cost"] == pytest.approx(0.25)
    assert body["total_cost"] == pytest.approx(1.0)
    steps_by_id = {s["step_id"]: s for s in body["steps"]}
    assert steps_by_id["clean"]["runs"] == 3
    assert steps_by_id["clean"]["avg_duration_seconds"] == pytest.approx(2.0, abs=1e-3)
    assert steps_by_id["clean"]["failure_rate"] == 0.0
    assert steps_by_id["clean"]["avg_cost"] == pytest.approx(0.01)
    summary = steps_by_id["summary"]
    assert summary["runs"] == 3
    assert summary["avg_duration_seconds"] == pytest.approx(5.0, abs=1e-3)  # completed only
    assert summary["failure_rate"] == pytest.approx(33.33)
    assert summary["retry_rate"] == pytest.approx(66.67)
    assert summary["avg_cost"] == pytest.approx(0.05 / 3, abs=1e-6)
    daily = {d["date"]: d for d in body["daily"]}
    assert sum(d["runs"] for d in daily.values()) == 4
    assert sum(d["total_cost"] for d in daily.values()) == pytest.approx(1.0)


def test_analytics_of_a_workflow_without_runs(alice: Any, alice_workflow: str) -> None:
    body = analytics(alice, alice_workflow).json()
    assert body["total_executions"] == 0
    assert body["success_rate"] is None
    assert body["avg_duration_seconds"] is None
    assert body["p95_duration_seconds"] is None
    assert body["steps"] == []
    assert body["daily"] == []
    assert body["timeframe"] == "last_30_days"


def test_explicit_dates_select_the_window(alice: Any, alice_workflow: str) -> None:
    add_run(alice_workflow, alice, ago=timedelta(days=3))
    add_run(alice_workflow, alice, ago=timedelta(days=10))
    today = timezone.now().date()
    start = (today - timedelta(days=5)).isoformat()
    body = analytics(alice, alice_workflow, start=start, end=today.isoformat()).json()
    assert body["total_executions"] == 1
    assert body["timeframe"] is None


def test_an_end_date_includes_that_whole_day(alice: Any, alice_workflow: str) -> None:
    add_run(alice_workflow, alice, ago=timedelta(days=2))
    day = (timezone.now() - timedelta(days=2)).date().isoformat()
    response = analytics(alice, alice_workflow, start=day, end=day)
    assert response.status_code == 200, response.json()
    assert response.json()["total_executions"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"timeframe": "last_year"}, "timeframe"),
        ({"start": "yesterday"}, "start"),
        ({"start": "2024-01-10", "end": "2024-13-40"}, "end"),
        ({"start": "2024-01-10", "end": "2024-01-01"}, "end"),
        ({"end": "2024-01-10"}, "start"),
        ({"timeframe": "last_7_days", "start": "2024-01-10"}, "timeframe"),
    ],
)
def test_bad_window_is_a_400_naming_the_parameter(
    alice: Any, alice_workflow: str, params: dict[str, str], field: str
) -> None:
    response = analytics(alice, alice_workflow, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request"
    assert field in body["fields"]
    assert body["message"].startswith(field)


def test_analytics_permissions(alice: Any, bob: Any, charlie: Any, alice_workflow: str) -> None:
    assert client_for(None).get(f"/api/v1/workflows/{alice_workflow}/analytics").status_code == 401
    assert analytics(charlie, alice_workflow).status_code == 404
    assert analytics(bob, alice_workflow).status_code == 404
    client_for(alice).post(
        f"/api/v1/workflows/{alice_workflow}/permissions", {"read": ["bob"]}, format="json"
    )
    assert analytics(bob, alice_workflow).status_code == 200


# --- resource usage -------------------------------------------------------------------


def usage(user: Any, **params: str) -> Any:
    return client_for(user).get("/api/v1/workflows/resource-usage", params)


@pytest.fixture
def two_workflows(
    alice: Any, bob: Any, charlie: Any, alice_workflow: str, simple_definition: dict[str, Any]
) -> tuple[str, str]:
    """alice's workflow (shared with bob, who runs it too) and charlie's own."""
    client_for(alice).post(
        f"/api/v1/workflows/{alice_workflow}/permissions", {"execute": ["bob"]}, format="json"
    )
    response = client_for(charlie).post("/api/v1/workflows", simple_definition, format="json")
    charlie_workflow = response.json()["id"]
    add_run(
        alice_workflow,
        alice,
        cost="0.50",
        cpu=3600,
        ram=7200,
        steps=[
            {"id": "clean", "cost": "0.10", "cpu": 1800, "memory_mb": 1024, "wall": 3600},
            {"id": "summary", "model": "builtin/extractive-summary", "cost": "0.40", "cpu": 1800},
        ],
    )
    add_run(alice_workflow, bob, cost="0.25", cpu=1800, gpu=360)
    add_run(alice_workflow, bob, cost="5", cpu=99999, is_test=True)
    add_run(charlie_workflow, charlie, cost="7", cpu=7200)
    return alice_workflow, charlie_workflow


def test_resource_usage_by_workflow_covers_only_readable_workflows(
    alice: Any, two_workflows: tuple[str, str]
) -> None:
    alice_workflow, charlie_workflow = two_workflows
    response = usage(alice, timeframe="last_7_days", group_by="workflow_id")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [g["key"] for g in body["groups"]] == [alice_workflow]
    group = body["groups"][0]
    assert group["executions"] == 2
    assert group["cpu_hours"] == pytest.approx(1.5)
    assert group["ram_gb_hours"] == pytest.approx(2.0)
    assert group["gpu_hours"] == pytest.approx(0.1)
    assert group["total_cost"] == pytest.approx(0.75)
    assert group["name"] == "Simple"


def test_resource_usage_by_user_and_team(
    alice: Any, bob: Any, charlie: Any, two_workflows: tuple[str, str]
) -> None:
    by_user = {g["key"]: g for g in usage(alice, group_by="user").json()["groups"]}
    assert set(by_user) == {"alice", "bob"}
    assert by_user["bob"]["total_cost"] == pytest.approx(0.25)
    # alice and bob are both in "researchers": the team carries both runs
    by_team = {g["key"]: g for g in usage(alice, group_by="team").json()["groups"]}
    assert by_team["researchers"]["executions"] == 2
    assert by_team["researchers"]["total_cost"] == pytest.approx(0.75)
    by_team_charlie = usage(charlie, group_by="team").json()["groups"]
    assert [g["key"] for g in by_team_charlie] == ["(no team)"]


def test_resource_usage_by_model_reads_step_runs(
    alice: Any, two_workflows: tuple[str, str]
) -> None:
    groups = {g["key"]: g for g in usage(alice, group_by="model").json()["groups"]}
    assert groups["builtin/extractive-summary"]["total_cost"] == pytest.approx(0.40)
    assert groups["builtin/extractive-summary"]["cpu_hours"] == pytest.approx(0.5)
    assert groups["(no model)"]["ram_gb_hours"] == pytest.approx(1.0)  # 1 GB for 1 h


def test_resource_usage_can_include_test_runs(alice: Any, two_workflows: tuple[str, str]) -> None:
    body = usage(alice, group_by="workflow_id", include_tests="true").json()
    assert body["groups"][0]["executions"] == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [({"group_by": "colour"}, "group_by"), ({"timeframe": "forever"}, "timeframe")],
)
def test_resource_usage_bad_parameters(alice: Any, params: dict[str, str], field: str) -> None:
    response = usage(alice, **params)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_resource_usage_route_is_not_a_workflow_id(anon_api: Any, alice: Any) -> None:
    # the literal path reaches the usage view (401 for anonymous, 200 signed in),
    # never the workflow detail view (which would answer 404 for an unknown id)
    assert anon_api.get("/api/v1/workflows/resource-usage").status_code == 401
    response = usage(alice)
    assert response.status_code == 200
    assert response.json()["group_by"] == "workflow_id"
    assert client_for(alice).get("/api/v1/workflows/resource-usage/").status_code == 200


def test_detail_estimate_uses_history_once_it_exists(alice: Any, alice_workflow: str) -> None:
    before = client_for(alice).get(f"/api/v1/workflows/{alice_workflow}").json()
    assert before["estimate_source"] == "definition"
    add_run(
        alice_workflow,
        alice,
        steps=[
            {"id": "clean", "seconds": 30, "cost": "0.5"},
            {"id": "summary", "offset": 30, "seconds": 50, "cost": "1.5"},
        ],
    )
    after = client_for(alice).get(f"/api/v1/workflows/{alice_workflow}").json()
    assert after["estimate_source"] == "history"
    assert after["estimated_cost"] == pytest.approx(2.0)
    assert after["estimated_duration"] == 80
    # a draft validated for the existing workflow gets the same history
    draft = after["definition"]
    response = client_for(alice).post(
        "/api/v1/workflows/validate",
        {"workflow_definition": draft, "workflow_id": alice_workflow},
        format="json",
    )
    assert response.json()["estimate_source"] == "history"
    assert response.json()["estimated_duration"] == 80
    fresh = client_for(alice).post(
        "/api/v1/workflows/validate", {"workflow_definition": draft}, format="json"
    )
    assert fresh.json()["estimate_source"] == "definition"
