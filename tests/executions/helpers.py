"""Helpers for engine tests: create workflows, run them, wait for the outcome."""

from __future__ import annotations

from typing import Any

from django.db import connection

from executions.models import EXECUTION_TERMINAL, Execution, ExecutionEvent, StepRun
from tests.conftest import client_for
from tests.engine import wait_for


def create_workflow(user: Any, definition: dict[str, Any]) -> str:
    response = client_for(user).post("/api/v1/workflows", definition, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def execute(user: Any, workflow_id: str, **body: Any) -> str:
    response = client_for(user).post(
        f"/api/v1/workflows/{workflow_id}/execute", body, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["execution_id"]


def wait_terminal(execution_id: str, timeout: float = 60) -> Execution:
    def done() -> Execution | None:
        connection.close()  # see the worker's commits, not a stale snapshot
        ex = Execution.objects.get(public_id=execution_id)
        return ex if ex.status in EXECUTION_TERMINAL else None

    return wait_for(done, timeout=timeout, message=f"{execution_id} to finish")


def detail(user: Any, workflow_id: str, execution_id: str) -> dict[str, Any]:
    response = client_for(user).get(f"/api/v1/workflows/{workflow_id}/executions/{execution_id}")
    assert response.status_code == 200, response.content
    return response.json()


def steps_by_id(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in body["steps"]}


def runs(execution_id: str) -> dict[str, StepRun]:
    return {r.key: r for r in StepRun.objects.filter(execution__public_id=execution_id)}


def events(execution_id: str) -> list[ExecutionEvent]:
    return list(ExecutionEvent.objects.filter(execution__public_id=execution_id).order_by("seq"))
