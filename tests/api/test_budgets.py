"""Monthly budgets: set with PATCH, shown on the detail, enforced on execute."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from executions.models import StepRun
from tests.api.test_analytics import add_run
from tests.conftest import client_for
from workflows.budgets import month_bounds

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_plans() -> Any:
    """Runs started here are rolled back; on SQLite their pks are handed out again, and
    ``executions.services.tx.plan_for`` caches plans by pk in this process, so forget
    them lest a later engine test get one (reported to the engine's owner)."""
    yield
    from executions.services import tx

    tx._PLANS.clear()


NOW = timedelta(0)


def set_budget(user: Any, workflow_id: str, value: Any) -> Any:
    return client_for(user).patch(
        f"/api/v1/workflows/{workflow_id}", {"monthly_budget": value}, format="json"
    )


def execute(user: Any, workflow_id: str) -> Any:
    return client_for(user).post(
        f"/api/v1/workflows/{workflow_id}/execute", {"inputs": {"text": "hi"}}, format="json"
    )


def test_runs_are_refused_once_the_month_budget_is_spent(alice: Any, alice_workflow: str) -> None:
    # given a budget of $1 and $0.60 spent this month
    assert set_budget(alice, alice_workflow, "1.00").status_code == 200
    add_run(alice_workflow, alice, cost="0.60", ago=NOW)
    # runs of last month and test runs do not count
    last_month = timezone.now() - month_bounds()[0] + timedelta(days=1)
    add_run(alice_workflow, alice, cost="50", ago=last_month)
    add_run(alice_workflow, alice, cost="50", ago=NOW, is_test=True)

    # then a run may still start
    assert execute(alice, alice_workflow).status_code == 201

    # when a running run's steps have cost another $0.45 (its total is not written yet)
    running = add_run(alice_workflow, alice, status="running", cost="0", ago=NOW, seconds=None)
    StepRun.objects.create(execution=running, key="clean", step_id="clean", cost=Decimal("0.45"))

    # then the next one is refused with a clear error
    response = execute(alice, alice_workflow)
    assert response.status_code == 402
    body = response.json()
    assert body["error"] == "budget_exceeded"
    assert "$1.00" in body["message"]
    assert "1.05" in body["message"]

    detail = client_for(alice).get(f"/api/v1/workflows/{alice_workflow}").json()
    assert detail["budget"]["monthly_budget"] == 1.0
    assert detail["budget"]["month_to_date_cost"] == pytest.approx(1.05)

    # and raising the budget lets runs start again
    assert set_budget(alice, alice_workflow, 2).status_code == 200
    assert execute(alice, alice_workflow).status_code == 201
    # removing it too
    assert set_budget(alice, alice_workflow, "0").status_code == 200
    assert execute(alice, alice_workflow).status_code == 402
    assert set_budget(alice, alice_workflow, None).status_code == 200
    assert execute(alice, alice_workflow).status_code == 201


def test_without_a_budget_nothing_is_refused(alice: Any, alice_workflow: str) -> None:
    add_run(alice_workflow, alice, cost="1000", ago=NOW)
    detail = client_for(alice).get(f"/api/v1/workflows/{alice_workflow}").json()
    assert detail["budget"]["monthly_budget"] is None
    assert execute(alice, alice_workflow).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"monthly_budget": -1}, "monthly_budget"),
        ({"monthly_budget": "lots"}, "monthly_budget"),
        ({}, "monthly_budget"),
        ({"monthly_budget": 1, "name": "x"}, "name"),
    ],
)
def test_bad_budget_is_a_400(alice: Any, alice_workflow: str, body: Any, field: str) -> None:
    response = client_for(alice).patch(f"/api/v1/workflows/{alice_workflow}", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_only_who_may_modify_sets_the_budget(
    alice: Any, bob: Any, charlie: Any, alice_workflow: str
) -> None:
    client_for(alice).post(
        f"/api/v1/workflows/{alice_workflow}/permissions", {"read": ["bob"]}, format="json"
    )
    assert set_budget(charlie, alice_workflow, 1).status_code == 404
    assert set_budget(bob, alice_workflow, 1).status_code == 403
    assert client_for(None).patch(f"/api/v1/workflows/{alice_workflow}", {}).status_code == 401
